"""MatchEngine latency against 10k and 100k synthetic items, beside a plain
numpy matmul + argpartition top-k on the same vectors:

- ``rank``: one query, top-10, engine unchanged since the previous query;
- ``add 1 + rank``: the app's real pattern (a submission is published, then
  someone looks at matches): ``add()`` of one new item followed by one
  ``rank()``, i.e. including whatever the engine rebuilds after a change;
- ``build``: first ``rank()`` after loading the whole corpus (a full fit).

    python bench/rank_latency.py [--sizes 10000,100000] [--repeats 20] [--add-repeats 10]
        [--refit-fraction 0.1]   # 0 = refit everything after every change (the old behaviour)
"""
from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embed_throughput import machine  # noqa: E402

from matching.ranking import Item, MatchEngine  # noqa: E402

LANGS = ("vi", "en", "zh")
SECTORS = ("agriculture_highland", "tourism_smart", "health_medicinal", "digital_transformation")


def synthetic(n: int, dim: int, rng, start: int = 0) -> tuple[list[Item], np.ndarray]:
    """n ideas (unit random vectors, mixed languages/sectors, short texts)."""
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    items = [Item(f"I{i}", "idea", "startup_idea", LANGS[i % 3], f"ý tưởng số {i} về {SECTORS[i % 4]}",
                  sectors=frozenset({SECTORS[i % 4]}), place_group=f"d{i % 9}")
             for i in range(start, start + n)]
    return items, vecs


def ms(samples: list[float]) -> dict:
    return {"median_ms": round(statistics.median(samples) * 1000, 2),
            "p90_ms": round(sorted(samples)[int(0.9 * (len(samples) - 1))] * 1000, 2),
            "n": len(samples)}


def make_engine(dim: int, lexical: bool, refit_fraction: float | None) -> MatchEngine:
    kw = {}
    if refit_fraction is not None and "refit_fraction" in inspect.signature(MatchEngine).parameters:
        kw["refit_fraction"] = refit_fraction
    return MatchEngine(dim=dim, lexical=lexical, **kw)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--add-repeats", type=int, default=10)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--refit-fraction", type=float, default=None,
                    help="MatchEngine(refit_fraction=...); default: the engine's default")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n in map(int, args.sizes.split(",")):
        items, vecs = synthetic(n, args.dim, rng)
        new_items, new_vecs = synthetic(args.add_repeats, args.dim, rng, start=n)
        need = Item("N", "need", "business_need", "vi", "cần giải pháp nông nghiệp",
                    sectors=frozenset({SECTORS[0]}), place_group="d1")
        qv = vecs[0] + 0.1 * rng.normal(size=args.dim).astype(np.float32)
        qv /= np.linalg.norm(qv)
        for lexical in (False, True):
            engine = make_engine(args.dim, lexical, args.refit_fraction)
            t = time.perf_counter()
            engine.add(items + [need], np.vstack([vecs, qv[None]]))
            engine.rank(need, qv)  # first call builds derived matrices
            build = time.perf_counter() - t
            samples = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                engine.rank(need, qv, top_k=10)
                samples.append(time.perf_counter() - t)
            rows.append({"items": n, "what": f"rank (lexical={lexical})", "build_s": round(build, 2),
                         **ms(samples)})
            samples = []
            for item, vec in zip(new_items, new_vecs):
                t = time.perf_counter()
                engine.add([item], vec[None])
                engine.rank(need, qv, top_k=10)
                samples.append(time.perf_counter() - t)
            rows.append({"items": n, "what": f"add 1 + rank (lexical={lexical})", **ms(samples)})
        samples = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            s = vecs @ qv
            top = np.argpartition(-s, 9)[:10]
            top[np.argsort(-s[top])]
            samples.append(time.perf_counter() - t)
        rows.append({"items": n, "what": "numpy matmul + argpartition", **ms(samples)})
    print(json.dumps({"machine": machine(), "command": " ".join(["python"] + sys.argv),
                      "refit_fraction": args.refit_fraction, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
