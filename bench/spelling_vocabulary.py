"""Memory and time of the search vocabulary (matching.spelling.Vocabulary) on many distinct pairs.

    .venv/bin/python bench/spelling_vocabulary.py                 # 100k texts
    .venv/bin/python bench/spelling_vocabulary.py --texts 20000 --batch 2000000

bench/search.py counts the vocabulary of 100k ideas cloned from the demo data: they repeat the
demo's words, so the vocabulary stays small. This counts synthetic texts instead: 150 words each,
drawn independently from 40,000 random "words" of 2–7 letters by Zipf's law, a stress case (real
text repeats its word pairs far more, so it has fewer distinct pairs). Prints the words, the
distinct pairs, the time (under tracemalloc, which slows it), the memory the vocabulary holds and
the peak while counting.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching.spelling import Vocabulary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=40_000, help="distinct words drawn from")
    parser.add_argument("--batch", type=int, default=Vocabulary().batch, help="pairs merged at a time")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    letters = np.array(list("abcdeghiklmnopqrstuvxy"))
    words = ["".join(rng.choice(letters, n)) for n in rng.integers(2, 8, args.words)]
    zipf = 1 / np.arange(1, args.words + 1)
    texts = [f" {' '.join(words[i] for i in rng.choice(args.words, 150, p=zipf / zipf.sum()))} "
             for _ in range(args.texts)]
    tracemalloc.start()
    started = time.perf_counter()
    vocabulary = Vocabulary(batch=args.batch).fit(texts)
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    print(f"{args.texts} texts: {len(vocabulary.words_)} words, {len(vocabulary.pair_keys_)} pairs; "
          f"{seconds:.1f} s under tracemalloc; holds {held / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
