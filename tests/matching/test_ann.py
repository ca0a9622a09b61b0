"""The approximate first stage (matching/ann.py, MatchEngine(approximate_from=...)): with the
threshold lowered to a small clustered set it must give what the exact engine gives."""
import pickle
from datetime import date

import numpy as np
import pytest

from matching.ann import ApproximateIndex
from matching.ranking import Item, MatchEngine

DIM = 32
LANGS = ("vi", "en", "zh")
TODAY = date(2026, 6, 1)


def _clustered(n, seed=0, topics=12):
    """n unit vectors around ``topics`` centres (cosine ~0.8 to their centre)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    v = centres[rng.integers(topics, size=n)] + rng.normal(scale=0.7 / np.sqrt(DIM), size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _world(n_ideas=600, n_needs=150):
    vecs = _clustered(n_ideas + n_needs)
    ideas = [Item(f"I{i}", "idea", "startup_idea", LANGS[i % 3], f"ý tưởng {i % 7} sấy thảo quả số {i}",
                  sectors=frozenset({("agri", "tour")[i % 2]}), place_group=f"g{i % 5}",
                  stage=("idea", "pilot", None)[i % 3]) for i in range(n_ideas)]
    needs = [Item(f"N{i}", "need", "business_need", LANGS[i % 3], f"cần máy sấy {i % 5} số {i}",
                  sectors=frozenset({"agri"}), place_group=f"g{i % 5}", stage="pilot",
                  deadline=date(2026, 1 + i % 12, 1) if i % 2 else None) for i in range(n_needs)]
    return ideas, needs, vecs


def _engines(**kw):
    ideas, needs, vecs = _world()
    exact = MatchEngine(dim=DIM, approximate_from=None)
    approx = MatchEngine(dim=DIM, approximate_from=100, approximate_depth=60, **kw)
    for e in (exact, approx):
        e.add(ideas + needs, vecs)
        e.prepare()
    return exact, approx, ideas, needs, vecs


def _same(a, b):
    assert [m.item_id for m in a] == [m.item_id for m in b]
    assert [m.band for m in a] == [m.band for m in b]
    assert [m.facets for m in a] == [m.facets for m in b]
    assert [m.score for m in a] == pytest.approx([m.score for m in b], abs=1e-5)


def _queries(ideas, needs, vecs):
    return [(needs[k], vecs[len(ideas) + k]) for k in range(0, len(needs), 15)] + \
        [(ideas[k], vecs[k]) for k in range(0, len(ideas), 60)]


def test_approximate_top10_equals_exact_on_a_clustered_set():
    exact, approx, ideas, needs, vecs = _engines()
    assert approx._tables["idea"].ann is not None and approx._tables["need"].ann is not None
    assert exact._tables["idea"].ann is None
    for query, vec in _queries(ideas, needs, vecs):
        _same(approx.rank(query, vec, top_k=10, today=TODAY), exact.rank(query, vec, top_k=10, today=TODAY))
        _same(approx.similar(query, vec, top_k=10, min_band="weak"),
              exact.similar(query, vec, top_k=10, min_band="weak"))


def test_filters_are_those_of_the_exact_path():
    exact, approx, ideas, needs, vecs = _engines()
    idea, vec = ideas[0], vecs[0]
    # expired needs are never proposed to an idea; exclusions, bands and a candidate list apply
    got = approx.rank(idea, vec, top_k=20, today=TODAY)
    assert all(approx.get(m.item_id).deadline is None or approx.get(m.item_id).deadline >= TODAY for m in got)
    top = [m.item_id for m in got]
    for kw in ({"exclude": top[:3]}, {"min_band": "good"}, {"candidate_ids": top[5:9] + ["N149", "gone"]},
               {"top_k": 3}):
        options = {"top_k": 10, "today": TODAY, **kw}
        a, e = approx.rank(idea, vec, **options), exact.rank(idea, vec, **options)
        _same(a, e)
        assert not set(kw.get("exclude", ())) & {m.item_id for m in a}
    assert {m.item_id for m in approx.rank(idea, vec, candidate_ids=top[5:9], today=TODAY)} == set(top[5:9])
    # the query's own id is skipped by similar()
    assert idea.id not in {m.item_id for m in approx.similar(idea, vec, top_k=50, min_band="weak")}


def test_too_few_candidates_after_the_filters_falls_back_to_every_item():
    exact, approx, ideas, needs, vecs = _engines()
    need, vec = needs[0], vecs[len(ideas)]
    first = [m.item_id for m in approx.rank(need, vec, top_k=60)]  # the whole depth
    a = approx.rank(need, vec, top_k=10, exclude=first[:55])
    assert len(a) == 10
    _same(a, exact.rank(need, vec, top_k=10, exclude=first[:55]))


def test_items_added_and_removed_one_by_one_update_the_index_without_a_rebuild():
    exact, approx, ideas, needs, vecs = _engines()
    need, vec = needs[3], vecs[len(ideas) + 3]
    approx.rank(need, vec)
    ann, generation = approx._tables["idea"].ann, approx.generation
    size = len(ann)
    twin = Item("I-new", "idea", "startup_idea", need.lang, need.text, sectors=need.sectors,
                place_group=need.place_group, stage="pilot")
    for e in (exact, approx):
        e.add([twin], vec[None])
    got = approx.rank(need, vec, top_k=10)
    assert got[0].item_id == "I-new"
    assert approx._tables["idea"].ann is ann and len(ann) == size + 1 and approx.generation == generation
    _same(got, exact.rank(need, vec, top_k=10))
    removed = ["I-new", got[1].item_id]
    for e in (exact, approx):
        e.remove(removed)
    got = approx.rank(need, vec, top_k=10)
    assert not set(removed) & {m.item_id for m in got}
    assert len(ann) == size - 1 and approx.generation == generation
    _same(got, exact.rank(need, vec, top_k=10))


def test_refit_rebuilds_the_index_and_a_side_that_grows_past_the_threshold_gets_one():
    exact, approx, ideas, needs, vecs = _engines()
    approx.prepare()
    old = approx._tables["idea"].ann
    approx.refit()
    assert approx._tables["idea"].ann is not old and len(approx._tables["idea"].ann) == len(ideas)
    # 150 needs: no index with the threshold at 200, one once a 200th need arrives (between fits)
    ideas, needs, vecs = _world(n_ideas=600, n_needs=250)
    growing = MatchEngine(dim=DIM, approximate_from=200, approximate_depth=60)
    same_steps = MatchEngine(dim=DIM, approximate_from=None)  # the same changes, ranked exactly
    for e in (growing, same_steps):
        e.add(ideas + needs[:190], vecs[:790])
        e.prepare()
    assert growing._tables["need"].ann is None and growing._tables["idea"].ann is not None
    for e in (growing, same_steps):
        e.add(needs[190:215], vecs[790:815])
        e.prepare()
    assert growing.generation == 1 and len(growing._tables["need"].ann) == 215
    for idea, vec in zip(ideas[:60:6], vecs[:60:6]):
        _same(growing.rank(idea, vec, top_k=10, today=TODAY), same_steps.rank(idea, vec, top_k=10, today=TODAY))


@pytest.mark.parametrize("out_of_band", [False, True])
def test_pickled_engine_ranks_and_updates_as_before(out_of_band):
    exact, approx, ideas, needs, vecs = _engines()
    approx.prepare()
    buffers = []
    blob = pickle.dumps(approx, protocol=5, buffer_callback=buffers.append if out_of_band else None)
    restored = pickle.loads(blob, buffers=[b.raw() for b in buffers] if out_of_band else None)
    assert len(restored._tables["idea"].ann) == len(ideas)
    for query, vec in _queries(ideas, needs, vecs):
        _same(restored.rank(query, vec, today=TODAY), exact.rank(query, vec, today=TODAY))
    need, vec = needs[0], vecs[len(ideas)]
    twin = Item("I-after", "idea", "startup_idea", need.lang, need.text, sectors=need.sectors, stage="pilot")
    restored.add([twin], vec[None])
    restored.remove([ideas[1].id])
    ids = [m.item_id for m in restored.rank(need, vec, top_k=600)]
    assert ids[0] == "I-after" and ideas[1].id not in ids


def test_approximate_index_add_remove_search_and_pickle():
    vecs = _clustered(300, seed=4)
    index = ApproximateIndex(DIM)
    index.add(np.arange(300), vecs, threads=1)  # one thread: the same graph at every run
    exact = np.argsort(-(vecs @ vecs[5]))[:10]
    assert set(index.search(vecs[5], 10).tolist()) == set(exact.tolist())
    index.remove(np.array([5, 999]))
    assert 5 not in index.search(vecs[5], 10).tolist() and len(index) == 299
    again = pickle.loads(pickle.dumps(index))
    assert again.search(vecs[7], 10).tolist() == index.search(vecs[7], 10).tolist()
    assert ApproximateIndex(DIM).search(vecs[0], 10).tolist() == []
