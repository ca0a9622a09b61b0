"""MatchEngine latency, memory and recall at 10k, 100k and 1M synthetic ideas, exact and
approximate (the first stage through matching.ann's HNSW index), beside a plain numpy matmul +
argpartition top-k on the same vectors.

For each size and mode (``exact``: ``approximate_from=None``; ``approximate``:
``approximate_from=1``), with the app's default lexical term:

- ``build``: ``add()`` of the whole corpus and the first ``rank()`` (a full fit: language means,
  TF-IDF, and for the approximate mode the HNSW graph), seconds; ``rss_mb``: the process's
  resident memory that build added (both the raw and the debiased vectors, TF-IDF, graph);
- ``rank``: one need as query, top-10, engine unchanged since the previous query, p50/p95 ms;
- ``add 1 + rank``: ``add()`` of one new idea then one ``rank()`` (the app's real pattern);
- ``recall@10``: share of the exact engine's top-10 that the approximate engine returns, over
  ``--queries`` needs (``recall@10 graph``: the same for the bare HNSW search of the cosine alone).

Synthetic vectors are shaped like the real ones: 384-d unit vectors around ``n / 50`` topic
centres (cosine ~0.75 to their centre), with a per-language offset that the engine's debiasing
removes; short texts in vi/en/zh, sectors and districts.

    python bench/rank_latency.py [--sizes 10000,100000,1000000] [--repeats 50] [--add-repeats 20]
        [--queries 100] [--depth 1000] [--modes exact,approximate] [--refit-fraction 0.1]

(Figures before 2026-11-30 in docs/matching.md came from an earlier version of this script:
unclustered random vectors, exact engine only, medians and p90.)
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embed_throughput import machine  # noqa: E402

from matching.ranking import APPROXIMATE_DEPTH, Item, MatchEngine  # noqa: E402

LANGS = ("vi", "en", "zh")
SECTORS = ("agriculture_highland", "tourism_smart", "health_medicinal", "digital_transformation")


class Corpus:
    """Clustered unit vectors: ``topics`` centres, each item its centre plus noise plus its
    language's offset, normalised; float32 (n, dim)."""

    def __init__(self, n: int, dim: int, rng):
        self.dim, self.rng = dim, rng
        self.centres = self._unit(rng.normal(size=(max(n // 50, 10), dim)))
        self.offsets = {lang: 0.25 * self._unit(rng.normal(size=(1, dim)))[0] for lang in LANGS}

    @staticmethod
    def _unit(v):
        v = np.asarray(v, np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def vectors(self, n: int, langs: list[str]) -> np.ndarray:
        out = np.empty((n, self.dim), np.float32)
        for start in range(0, n, 100_000):  # in blocks: 1M x 384 float64 noise would take 3 GB
            k = min(100_000, n - start)
            topic = self.rng.integers(len(self.centres), size=k)
            noise = self.rng.normal(scale=0.9 / np.sqrt(self.dim), size=(k, self.dim)).astype(np.float32)
            block = self.centres[topic] + noise + np.stack([self.offsets[lang] for lang in langs[start:start + k]])
            out[start:start + k] = self._unit(block)
        return out

    def ideas(self, n: int, start: int = 0) -> tuple[list[Item], np.ndarray]:
        items = [Item(f"I{i}", "idea", "startup_idea", LANGS[i % 3], f"ý tưởng số {i} về {SECTORS[i % 4]}",
                      sectors=frozenset({SECTORS[i % 4]}), place_group=f"d{i % 9}")
                 for i in range(start, start + n)]
        return items, self.vectors(n, [it.lang for it in items])

    def needs(self, n: int) -> tuple[list[Item], np.ndarray]:
        items = [Item(f"N{i}", "need", "business_need", LANGS[i % 3], f"cần giải pháp {SECTORS[i % 4]} số {i}",
                      sectors=frozenset({SECTORS[i % 4]}), place_group=f"d{i % 9}") for i in range(n)]
        return items, self.vectors(n, [it.lang for it in items])


def ms(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s) * 1000, 2),
            "p95_ms": round(s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))] * 1000, 2), "n": len(s)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(mode: str, n: int, items, vecs, needs, need_vecs, new_items, new_vecs, args) -> tuple[dict, list]:
    """Figures of one engine, and its top-10 ids for each need."""
    gc.collect()
    before = rss_mb()
    kw = {} if args.refit_fraction is None else {"refit_fraction": args.refit_fraction}
    engine = MatchEngine(dim=args.dim, approximate_from=None if mode == "exact" else 1,
                         approximate_depth=args.depth, **kw)
    t = time.perf_counter()
    engine.add(items + needs, np.vstack([vecs, need_vecs]))
    engine.rank(needs[0], need_vecs[0])  # the first call fits everything
    build = time.perf_counter() - t
    row = {"items": n, "mode": mode, "build_s": round(build, 1), "rss_mb": round(rss_mb() - before)}
    ann = engine._tables["idea"].ann
    if ann is not None:
        row["graph_mb"] = round(ann.memory_bytes / 2 ** 20)
    tops = [[m.item_id for m in engine.rank(q, v, top_k=10)] for q, v in zip(needs, need_vecs)]
    samples = []
    for k in range(args.repeats):
        q, v = needs[k % len(needs)], need_vecs[k % len(needs)]
        t = time.perf_counter()
        engine.rank(q, v, top_k=10)
        samples.append(time.perf_counter() - t)
    row["rank"] = ms(samples)
    samples = []
    for k, (item, vec) in enumerate(zip(new_items, new_vecs)):
        t = time.perf_counter()
        engine.add([item], vec[None])
        engine.rank(needs[k % len(needs)], need_vecs[k % len(needs)], top_k=10)
        samples.append(time.perf_counter() - t)
    row["add 1 + rank"] = ms(samples)
    if ann is not None:  # the graph alone against the exact cosine, on the debiased vectors
        table = engine._tables["idea"]
        hits = 0
        for q, v in zip(needs, need_vecs):
            qd = engine._query_vec(q, v)
            exact = np.argpartition(-(table.vecs[table.alive] @ qd), 9)[:10]
            exact = set(np.flatnonzero(table.alive)[exact].tolist())
            hits += len(exact & set(ann.search(qd, 10).tolist()))
        row["recall@10 graph"] = round(hits / (10 * len(needs)), 4)
    del engine, ann
    gc.collect()
    return row, tops


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--add-repeats", type=int, default=20)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--depth", type=int, default=APPROXIMATE_DEPTH, help="MatchEngine(approximate_depth=...)")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--modes", default="exact,approximate")
    ap.add_argument("--refit-fraction", type=float, default=None,
                    help="MatchEngine(refit_fraction=...); default: the engine's default")
    args = ap.parse_args()
    rows = []
    for n in map(int, args.sizes.split(",")):
        rng = np.random.default_rng(0)
        corpus = Corpus(n, args.dim, rng)
        items, vecs = corpus.ideas(n)
        needs, need_vecs = corpus.needs(args.queries)
        new_items, new_vecs = corpus.ideas(args.add_repeats, start=n)
        tops = {}
        for mode in args.modes.split(","):
            row, tops[mode] = run(mode, n, items, vecs, needs, need_vecs, new_items, new_vecs, args)
            if mode != "exact" and "exact" in tops:
                row["recall@10"] = round(sum(len(set(a) & set(e)) for a, e in zip(tops[mode], tops["exact"]))
                                         / sum(len(e) for e in tops["exact"]), 4)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        samples = []
        for k in range(args.repeats):
            t = time.perf_counter()
            s = vecs @ need_vecs[k % len(needs)]
            top = np.argpartition(-s, 9)[:10]
            top[np.argsort(-s[top])]
            samples.append(time.perf_counter() - t)
        rows.append({"items": n, "mode": "numpy matmul + argpartition", "rank": ms(samples)})
        del items, vecs, corpus
    print(json.dumps({"machine": machine(), "command": " ".join(["python"] + sys.argv),
                      "load_average": Path("/proc/loadavg").read_text().split()[:3], "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
