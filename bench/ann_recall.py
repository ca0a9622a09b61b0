"""The approximate index's graph alone at 1M items: build time, and recall@10 against the exact
inner-product top-10 for 100 queries at several search depths.

    .venv/bin/python bench/ann_recall.py [--items 1000000] [--connectivity 32] [--expansion-add 64]

The vectors are bench/rank_latency.py's synthetic corpus (384-d unit vectors around n/50 topic
centres, a per-language offset); the graph is matching.ann.ApproximateIndex's usearch index with
the given settings, float16, built on all cores. Recall here is the graph's own (the engine then
scores its APPROXIMATE_DEPTH candidates exactly, see bench/rank_latency.py for the whole engine).
Prints one JSON line per search depth.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rank_latency import LANGS, Corpus  # noqa: E402

from matching.ann import ApproximateIndex  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--connectivity", type=int, default=32)
    ap.add_argument("--expansion-add", type=int, default=64)
    ap.add_argument("--depths", default="64,256,1000")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    corpus = Corpus(args.items, 384, rng)
    vecs = corpus.vectors(args.items, [LANGS[i % 3] for i in range(args.items)])
    queries = corpus.vectors(args.queries, [LANGS[i % 3] for i in range(args.queries)])
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    index = ApproximateIndex(384, connectivity=args.connectivity, expansion_add=args.expansion_add)
    started = time.perf_counter()
    index.add(np.arange(args.items), vecs, threads=0)
    build = time.perf_counter() - started
    for depth in map(int, args.depths.split(",")):
        index.expansion_search = depth
        started = time.perf_counter()
        found = [index.search(q, 10) for q in queries]
        per_query = (time.perf_counter() - started) / len(queries) * 1000
        recall = float(np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact)]))
        print(json.dumps({"items": args.items, "connectivity": args.connectivity, "expansion_add": args.expansion_add,
                          "build_s": round(build), "depth": depth, "recall_at_10": round(recall, 3),
                          "ms_per_query": round(per_query, 2), "memory_mb": round(index.memory_bytes / 1e6)}),
              flush=True)


if __name__ == "__main__":
    main()
