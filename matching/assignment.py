"""Batch matching rounds: choose (need, idea) pairs that maximise total quality under quotas.

A round is a bipartite b-matching: need ``i`` gets between ``min_per_need[i]`` and
``max_per_need[i]`` ideas, idea ``j`` goes to at most ``max_per_idea[j]`` needs, only
``allowed`` pairs may be chosen, and the sum of the chosen pairs' scores is maximised.

In the manner of openreview-matcher, the problem is stated once (:class:`RoundProblem`) and
each algorithm is a separate solver behind one interface (:class:`Solver`):

- :class:`MilpSolver` solves it exactly as a 0/1 integer programme with ``scipy.optimize.milp``
  (HiGHS). The constraint matrix is a bipartite incidence matrix (totally unimodular), so the
  LP relaxation is already integral and HiGHS proves optimality at the root.
- :class:`GreedySolver` is the baseline: best pair first while both quotas allow.

Minimums that cannot all be met raise :class:`RoundInfeasible` naming the needs that fall short
(we do not silently relax them: staff must see that a need cannot get its minimum and decide).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.sparse import csr_array, eye_array, hstack

__all__ = ["Assignment", "RoundProblem", "RoundInfeasible", "Solver", "MilpSolver", "GreedySolver",
           "solve_round", "greedy_round"]

Quota = int | Sequence[int] | np.ndarray


class RoundInfeasible(ValueError):
    """The minimums cannot all be met. ``needs``: row indices of needs that fall short in a
    least-shortfall assignment, sorted; ``shortfall``: how many ideas each one misses."""

    def __init__(self, needs: list[int], shortfall: list[int]):
        self.needs = needs
        self.shortfall = shortfall
        super().__init__(f"needs {needs} cannot reach their minimum (short by {shortfall})")


@dataclass
class Assignment:
    """Chosen pairs as ``(need_index, idea_index)``, sorted; ``total`` the sum of their scores;
    ``status``: "optimal" (MilpSolver), "feasible" or "below_minimum" (GreedySolver), or
    "empty" when there was nothing to choose."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    total: float = 0.0
    status: str = "empty"

    def per_need(self, n_needs: int) -> np.ndarray:
        """int (n_needs,): how many ideas each need received."""
        return np.bincount([i for i, _ in self.pairs], minlength=n_needs).astype(int)

    def per_idea(self, n_ideas: int) -> np.ndarray:
        """int (n_ideas,): how many needs each idea went to."""
        return np.bincount([j for _, j in self.pairs], minlength=n_ideas).astype(int)


def _quota(value: Quota, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value), (n,)).astype(int) if np.ndim(value) == 0 else np.asarray(value)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be an int or have shape ({n},), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) and not np.all(arr == np.round(arr)):
        raise ValueError(f"{name} must hold integers")
    arr = arr.astype(int)
    if (arr < 0).any():
        raise ValueError(f"{name} must not be negative")
    return arr


@dataclass(frozen=True)
class RoundProblem:
    """A round's inputs, checked and normalised.

    ``scores``: float (n_needs, n_ideas), non-negative where allowed (NaN = not allowed);
    ``allowed``: bool, same shape; ``max_per_need``, ``min_per_need``: int (n_needs,);
    ``max_per_idea``: int (n_ideas,).
    """

    scores: np.ndarray
    allowed: np.ndarray
    max_per_need: np.ndarray
    max_per_idea: np.ndarray
    min_per_need: np.ndarray

    @classmethod
    def build(cls, scores: np.ndarray, allowed: np.ndarray | None, max_per_need: Quota,
              max_per_idea: Quota, min_per_need: Quota = 0) -> RoundProblem:
        """Check shapes and values; pairs whose score is NaN are not allowed."""
        scores = np.asarray(scores, float)
        if scores.ndim != 2:
            raise ValueError(f"scores must be 2-D (n_needs, n_ideas), got shape {scores.shape}")
        n, m = scores.shape
        mask = np.ones((n, m), bool) if allowed is None else np.asarray(allowed, bool)
        if mask.shape != scores.shape:
            raise ValueError(f"allowed must have shape {scores.shape}, got {mask.shape}")
        mask = mask & ~np.isnan(scores)
        if np.isinf(scores[mask]).any():
            raise ValueError("scores of allowed pairs must be finite")
        if (scores[mask] < 0).any():
            raise ValueError("scores of allowed pairs must be non-negative (a quality, not a cost)")
        hi, lo = _quota(max_per_need, n, "max_per_need"), _quota(min_per_need, n, "min_per_need")
        if (lo > hi).any():
            raise ValueError("min_per_need must not exceed max_per_need")
        return cls(np.where(mask, scores, 0.0), mask, hi, _quota(max_per_idea, m, "max_per_idea"), lo)

    @property
    def shape(self) -> tuple[int, int]:
        return self.scores.shape

    def total(self, pairs: list[tuple[int, int]]) -> float:
        """Sum of the scores of ``pairs``."""
        return float(sum(self.scores[i, j] for i, j in pairs))

    def check(self, pairs: list[tuple[int, int]]) -> None:
        """Raise AssertionError if ``pairs`` break a quota, repeat, or use a disallowed pair."""
        assert len(set(pairs)) == len(pairs), "a pair is chosen twice"
        assert all(self.allowed[i, j] for i, j in pairs), "a disallowed pair is chosen"
        a = Assignment(pairs)
        assert (a.per_need(self.shape[0]) <= self.max_per_need).all(), "a need is over its quota"
        assert (a.per_idea(self.shape[1]) <= self.max_per_idea).all(), "an idea is over its quota"


class Solver(Protocol):
    """One assignment algorithm. ``solve`` returns the chosen pairs of ``problem``."""

    def solve(self, problem: RoundProblem) -> Assignment: ...


class MilpSolver:
    """Exact: maximise sum(score * x) over x in {0,1} for allowed pairs, subject to the quotas,
    with ``scipy.optimize.milp``. ``time_limit`` in seconds (None: none).

    Only allowed pairs become variables, so a sparse round (most pairs below "possible") stays
    small. With minimums, a first programme minimises the total shortfall; if it is not zero
    :class:`RoundInfeasible` names the needs that fall short.
    """

    def __init__(self, time_limit: float | None = None):
        self.time_limit = time_limit

    def _options(self) -> dict:
        return {} if self.time_limit is None else {"time_limit": self.time_limit}

    def solve(self, problem: RoundProblem) -> Assignment:
        from scipy.optimize import Bounds, LinearConstraint, milp  # here, not at import: ~0.35 s of every start

        n, m = problem.shape
        rows, cols = np.nonzero(problem.allowed)
        k = len(rows)
        if k == 0:
            if problem.min_per_need.any():
                short = np.nonzero(problem.min_per_need)[0]
                raise RoundInfeasible(short.tolist(), problem.min_per_need[short].tolist())
            return Assignment()
        var = np.arange(k)
        need_rows = csr_array((np.ones(k), (rows, var)), shape=(n, k))
        idea_rows = csr_array((np.ones(k), (cols, var)), shape=(m, k))
        if problem.min_per_need.any():
            self._check_minimums(problem, need_rows, idea_rows, k)
        constraints = [LinearConstraint(need_rows, problem.min_per_need, problem.max_per_need),
                       LinearConstraint(idea_rows, 0, problem.max_per_idea)]
        res = milp(-problem.scores[rows, cols], integrality=np.ones(k), bounds=Bounds(0, 1),
                   constraints=constraints, options=self._options())
        if res.x is None:
            raise RuntimeError(f"the MILP solver failed: {res.message}")
        chosen = np.nonzero(res.x > 0.5)[0]
        pairs = sorted(zip(rows[chosen].tolist(), cols[chosen].tolist()))
        return Assignment(pairs, problem.total(pairs), "optimal" if res.status == 0 else "time_limit")

    def _check_minimums(self, problem: RoundProblem, need_rows, idea_rows, k: int) -> None:
        """Minimise the total shortfall: sum_j x_ij + s_i >= min_i with 0 <= s_i <= min_i under
        the same quotas; raise :class:`RoundInfeasible` if the least shortfall is not zero."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        n, m = problem.shape
        slack = eye_array(n, format="csr")
        no_slack = lambda rows: csr_array((rows, n))  # noqa: E731
        res = milp(np.concatenate([np.zeros(k), np.ones(n)]),
                   integrality=np.concatenate([np.ones(k), np.zeros(n)]),
                   bounds=Bounds(0, np.concatenate([np.ones(k), problem.min_per_need])),
                   constraints=[LinearConstraint(hstack([need_rows, slack]), problem.min_per_need, np.inf),
                                LinearConstraint(hstack([need_rows, no_slack(n)]), 0, problem.max_per_need),
                                LinearConstraint(hstack([idea_rows, no_slack(m)]), 0, problem.max_per_idea)],
                   options=self._options())
        if res.x is None:
            raise RuntimeError(f"the MILP solver failed: {res.message}")
        shortfall = np.round(res.x[k:]).astype(int)
        if shortfall.any():
            short = np.nonzero(shortfall)[0]
            raise RoundInfeasible(short.tolist(), shortfall[short].tolist())


class GreedySolver:
    """Baseline: take pairs best score first (ties: lower need, then lower idea index) while
    both the need's and the idea's quota allow. Ignores minimums; reports "below_minimum"
    when a need ends under its minimum."""

    def solve(self, problem: RoundProblem) -> Assignment:
        n, m = problem.shape
        rows, cols = np.nonzero(problem.allowed)
        if len(rows) == 0:
            return Assignment()
        order = np.lexsort((cols, rows, -problem.scores[rows, cols]))
        need_left, idea_left = problem.max_per_need.copy(), problem.max_per_idea.copy()
        pairs = []
        for i, j in zip(rows[order].tolist(), cols[order].tolist()):
            if need_left[i] > 0 and idea_left[j] > 0:
                pairs.append((i, j))
                need_left[i] -= 1
                idea_left[j] -= 1
        pairs.sort()
        a = Assignment(pairs, problem.total(pairs), "feasible")
        if (a.per_need(n) < problem.min_per_need).any():
            a.status = "below_minimum"
        return a


def solve_round(scores: np.ndarray, allowed: np.ndarray | None, max_per_need: Quota, max_per_idea: Quota,
                min_per_need: Quota = 0, solver: Solver | None = None) -> Assignment:
    """The best assignment of a round (exact, :class:`MilpSolver` unless ``solver`` is given).

    ``scores``: float (n_needs, n_ideas), non-negative quality (NaN = not allowed);
    ``allowed``: bool (n_needs, n_ideas) or None (all allowed); quotas: an int for all or int
    arrays of shape (n_needs,) / (n_ideas,). Raises :class:`RoundInfeasible` when the
    minimums cannot all be met, ValueError on malformed inputs.
    """
    problem = RoundProblem.build(scores, allowed, max_per_need, max_per_idea, min_per_need)
    return (solver or MilpSolver()).solve(problem)


def greedy_round(scores: np.ndarray, allowed: np.ndarray | None, max_per_need: Quota, max_per_idea: Quota,
                 min_per_need: Quota = 0) -> Assignment:
    """The greedy baseline on the same inputs as :func:`solve_round` (never raises for minimums)."""
    problem = RoundProblem.build(scores, allowed, max_per_need, max_per_idea, min_per_need)
    return GreedySolver().solve(problem)
