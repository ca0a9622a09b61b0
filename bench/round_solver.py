"""Batch matching rounds: the exact MILP round beside the greedy baseline on random instances.

    python bench/round_solver.py [--sizes 50x500,200x2000] [--max-per-need 5] [--max-per-idea 3]

Scores are per-need z-scores ~ N(0, 1) with a shared "idea quality" term (so popular ideas exist
and the quotas bind). Two densities: "possible or better" keeps pairs with z >= 1.31, as a real
round does; "all pairs" allows everything (the hardest case for the solver). 200x300 is a
round with fewer idea places than need places, where the quotas bind hardest. Prints one JSON
object (machine, command, a row per instance).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embed_throughput import machine  # noqa: E402

from matching.assignment import greedy_round, solve_round  # noqa: E402
from matching.ranking import DEFAULT_BANDS  # noqa: E402


def instance(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """float (n, m): standardised per need, like the engine's z."""
    raw = rng.normal(size=(n, m)) + 0.8 * rng.normal(size=(1, m))
    return (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50x500,200x2000,200x300")
    ap.add_argument("--max-per-need", type=int, default=5)
    ap.add_argument("--max-per-idea", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    for size in args.sizes.split(","):
        n, m = map(int, size.split("x"))
        z = instance(n, m, rng)
        for density, allowed in (("possible or better", z >= DEFAULT_BANDS.possible), ("all pairs", None)):
            scores = np.clip(z, 0, None) if allowed is not None else z - z.min()
            t = time.perf_counter()
            best = solve_round(scores, allowed, args.max_per_need, args.max_per_idea)
            milp_s = time.perf_counter() - t
            t = time.perf_counter()
            greedy = greedy_round(scores, allowed, args.max_per_need, args.max_per_idea)
            greedy_s = time.perf_counter() - t
            rows.append({
                "needs x ideas": size, "allowed": density,
                "allowed_pairs": int(np.count_nonzero(allowed) if allowed is not None else n * m),
                "quotas": f"{args.max_per_need}/{args.max_per_idea}", "status": best.status,
                "milp_s": round(milp_s, 3), "milp_total": round(best.total, 2), "milp_pairs": len(best.pairs),
                "greedy_s": round(greedy_s, 3), "greedy_total": round(greedy.total, 2),
                "greedy_pairs": len(greedy.pairs),
                "improvement_pct": round(100 * (best.total - greedy.total) / greedy.total, 2) if greedy.total else None,
            })
    print(json.dumps({"machine": {**machine(), "scipy": scipy.__version__},
                      "command": " ".join(["python"] + sys.argv), "rows": rows},
                     indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
