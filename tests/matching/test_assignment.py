"""Batch rounds: the exact solver is optimal under quotas, the greedy baseline is not."""
from itertools import combinations

import numpy as np
import pytest

from matching.assignment import GreedySolver, MilpSolver, RoundInfeasible, RoundProblem, greedy_round, solve_round


def brute_force(problem: RoundProblem) -> float | None:
    """Best total over every subset of allowed pairs that meets all quotas (None: infeasible)."""
    candidates = list(zip(*np.nonzero(problem.allowed)))
    n, m = problem.shape
    best = None
    for size in range(len(candidates) + 1):
        for subset in combinations(candidates, size):
            per_need = np.bincount([i for i, _ in subset], minlength=n)
            per_idea = np.bincount([j for _, j in subset], minlength=m)
            if ((per_need <= problem.max_per_need).all() and (per_need >= problem.min_per_need).all()
                    and (per_idea <= problem.max_per_idea).all()):
                total = problem.total(list(subset))
                best = total if best is None else max(best, total)
    return best


def test_the_exact_round_beats_greedy_where_greedy_takes_the_best_pair_first():
    # Greedy takes (0,0)=10 and leaves need 1 with nothing it may take: 10. Optimal: 9 + 9 = 18.
    scores = np.array([[10.0, 9.0], [9.0, 0.0]])
    allowed = np.array([[True, True], [True, False]])
    best = solve_round(scores, allowed, max_per_need=1, max_per_idea=1)
    greedy = greedy_round(scores, allowed, max_per_need=1, max_per_idea=1)
    assert best.pairs == [(0, 1), (1, 0)] and best.total == pytest.approx(18.0) and best.status == "optimal"
    assert greedy.pairs == [(0, 0)] and greedy.total == pytest.approx(10.0)


def test_idea_quota_shares_a_popular_idea_where_it_counts_most():
    # One idea everybody wants, allowed to go to 2 needs: it goes to the two needs that lose most without it.
    scores = np.array([[5.0, 4.9], [5.0, 1.0], [5.0, 2.0]])
    best = solve_round(scores, None, max_per_need=1, max_per_idea=[2, 3])
    assert sorted(best.pairs) == [(0, 1), (1, 0), (2, 0)]
    assert best.total == pytest.approx(14.9)
    # Greedy gives the popular idea to needs 0 and 1 (ties by index), so need 2 falls back to 2.0.
    assert greedy_round(scores, None, 1, [2, 3]).total == pytest.approx(12.0)


def test_quotas_are_respected_per_need_and_per_idea():
    rng = np.random.default_rng(3)
    scores = rng.random((12, 30))
    best = solve_round(scores, None, max_per_need=5, max_per_idea=2)
    problem = RoundProblem.build(scores, None, 5, 2)
    problem.check(best.pairs)
    assert (best.per_need(12) == 5).all()  # plenty of ideas: every need is filled to its quota
    assert best.per_idea(30).max() <= 2
    greedy = greedy_round(scores, None, 5, 2)
    problem.check(greedy.pairs)
    assert best.total >= greedy.total - 1e-9


def test_per_need_quota_arrays():
    scores = np.ones((3, 6))
    best = solve_round(scores, None, max_per_need=[0, 1, 4], max_per_idea=1)
    assert best.per_need(3).tolist() == [0, 1, 4]


def test_minimums_are_met_at_a_cost_in_total():
    # Without a minimum need 1 gets nothing (idea 0 is worth more to need 0); with min 1 it gets idea 0.
    scores = np.array([[3.0, 0.5], [2.0, 0.0]])
    allowed = np.array([[True, True], [True, False]])
    free = solve_round(scores, allowed, max_per_need=1, max_per_idea=1)
    assert free.pairs == [(0, 0)] and free.total == pytest.approx(3.0)
    forced = solve_round(scores, allowed, max_per_need=1, max_per_idea=1, min_per_need=[0, 1])
    assert forced.pairs == [(0, 1), (1, 0)] and forced.total == pytest.approx(2.5)
    assert (forced.per_need(2) >= [0, 1]).all()
    greedy = greedy_round(scores, allowed, 1, 1, min_per_need=[0, 1])
    assert greedy.pairs == [(0, 0)] and greedy.status == "below_minimum"


def test_infeasible_minimums_name_the_needs_that_fall_short():
    scores = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    allowed = np.array([[True, True], [True, True], [False, False]])
    with pytest.raises(RoundInfeasible) as caught:
        solve_round(scores, allowed, max_per_need=2, max_per_idea=1, min_per_need=[0, 0, 1])
    assert caught.value.needs == [2] and caught.value.shortfall == [1]
    # Jointly infeasible: two needs want both ideas, each idea may go to one need only.
    with pytest.raises(RoundInfeasible) as caught:
        solve_round(scores[:2], None, max_per_need=2, max_per_idea=1, min_per_need=2)
    assert len(caught.value.needs) == 1 and caught.value.shortfall == [2]


def test_disallowed_and_nan_pairs_are_never_chosen():
    scores = np.array([[9.0, np.nan, 1.0], [9.0, 8.0, 1.0]])
    allowed = np.array([[False, True, True], [True, True, True]])
    best = solve_round(scores, allowed, max_per_need=3, max_per_idea=3)
    assert best.pairs == [(0, 2), (1, 0), (1, 1), (1, 2)]
    assert set(greedy_round(scores, allowed, 3, 3).pairs) == set(best.pairs)


def test_empty_inputs():
    for shape in [(0, 0), (0, 4), (3, 0)]:
        assert solve_round(np.zeros(shape), None, 2, 2).pairs == []
        assert greedy_round(np.zeros(shape), None, 2, 2).pairs == []
    nothing_allowed = solve_round(np.ones((2, 2)), np.zeros((2, 2), bool), 2, 2)
    assert nothing_allowed.pairs == [] and nothing_allowed.total == 0.0
    with pytest.raises(RoundInfeasible) as caught:
        solve_round(np.ones((2, 2)), np.zeros((2, 2), bool), 2, 2, min_per_need=[1, 0])
    assert caught.value.needs == [0]


def test_ties_give_an_optimal_total_and_a_stable_answer():
    scores = np.full((3, 3), 2.0)
    first = solve_round(scores, None, 1, 1)
    assert first.total == pytest.approx(6.0) and len(first.pairs) == 3
    assert solve_round(scores, None, 1, 1).pairs == first.pairs
    assert greedy_round(scores, None, 1, 1).pairs == [(0, 0), (1, 1), (2, 2)]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        solve_round(np.ones(3), None, 1, 1)
    with pytest.raises(ValueError):
        solve_round(np.ones((2, 2)), np.ones((2, 3), bool), 1, 1)
    with pytest.raises(ValueError):
        solve_round(-np.ones((2, 2)), None, 1, 1)
    with pytest.raises(ValueError):
        solve_round(np.ones((2, 2)), None, 1, 1, min_per_need=2)
    with pytest.raises(ValueError):
        solve_round(np.ones((2, 2)), None, [1, 2, 3], 1)


@pytest.mark.parametrize("seed", range(25))
def test_optimal_against_brute_force_on_tiny_random_rounds(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 4), rng.integers(1, 4)
    scores = np.round(rng.random((n, m)) * 10, 1)
    allowed = rng.random((n, m)) < 0.75
    minimums = rng.integers(0, 2, n) * (seed % 2)  # odd seeds have minimums
    problem = RoundProblem.build(scores, allowed, minimums + rng.integers(0, 3, n), rng.integers(1, 3, m), minimums)
    expected = brute_force(problem)
    if expected is None:
        with pytest.raises(RoundInfeasible):
            MilpSolver().solve(problem)
        return
    best = MilpSolver().solve(problem)
    problem.check(best.pairs)
    assert (best.per_need(n) >= problem.min_per_need).all()
    assert best.total == pytest.approx(expected)
    greedy = GreedySolver().solve(problem)
    if greedy.status == "feasible":  # a greedy answer below some minimum solves an easier problem
        assert greedy.total <= expected + 1e-9
