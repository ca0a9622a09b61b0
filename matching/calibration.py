"""Fitting the display bands on labelled pairs.

A band is a threshold on a score: the second stage's probability that the
pair is relevant (``flask --app app fit-ranker`` fits them on out-of-fold
probabilities), or, when no ranker is installed, the first stage's per-query
z-score. Each threshold is the lowest score at which the labelled pairs
between it and the band above reach a target precision.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .ranking import DEFAULT_BANDS, BandThresholds

# Precision wanted among the pairs that fall *inside* each band (from its
# threshold up to the next band's): strong = nearly always relevant, good =
# mostly relevant, possible = relevant often enough to be worth a look. (A
# grade-2 target for "strong" is out of reach: even the surest 25 pairs of the
# training sets are 80 % grade 2, since graders kept some fits at grade 1.)
DEFAULT_TARGETS = {"strong": ("relevant", 0.85), "good": ("relevant", 0.6), "possible": ("relevant", 0.3)}


def _lowest_threshold(z: np.ndarray, hit: np.ndarray, target: float, min_support: int,
                      upper: float) -> float:
    below = z < upper
    zb, hb = z[below], hit[below]
    order = np.argsort(-zb)
    precision = np.cumsum(hb[order]) / np.arange(1, len(zb) + 1)
    ok = [i for i in range(min_support - 1, len(zb)) if precision[i] >= target]
    return float(zb[order][max(ok)]) if ok else float(upper)


def fit_band_thresholds(z: np.ndarray, grade: np.ndarray, targets: dict = DEFAULT_TARGETS,
                        base: BandThresholds = DEFAULT_BANDS, min_support: int = 5) -> BandThresholds:
    """Thresholds, best band first, each the lowest z at which the pairs
    between it and the band above reach the band's target precision
    (``targets``: band -> ("grade2" | "relevant", precision))."""
    z, grade = np.asarray(z, float), np.asarray(grade)
    out, upper = {}, np.inf
    for band in ("strong", "good", "possible"):
        kind, target = targets[band]
        hit = (grade == 2) if kind == "grade2" else (grade > 0)
        out[band] = upper = _lowest_threshold(z, hit.astype(float), target, min_support, upper)
    # a band no pair reaches gets a threshold above every score rather than infinity (not JSON)
    top = float(np.max(z)) + 0.01 if len(z) else 1.0
    return replace(base, **{k: round(min(v, top), 2) for k, v in out.items()})


def band_report(z: np.ndarray, grade: np.ndarray, bands: BandThresholds) -> dict:
    """Per band: number of pairs and share that are relevant / grade 2."""
    names = np.array([bands.band(v) for v in z])
    rep = {}
    for b in ("strong", "good", "possible", "weak"):
        sel = names == b
        rep[b] = {"pairs": int(sel.sum()),
                  "relevant": round(float((grade[sel] > 0).mean()), 3) if sel.any() else None,
                  "grade2": round(float((grade[sel] == 2).mean()), 3) if sel.any() else None}
    return rep
