"""Folding, query parsing, glossary translations and rank fusion (matching/search.py)."""
import unicodedata

from matching.glossary import Glossary, GlossaryEntry
from matching.search import (
    document,
    expand,
    fold,
    parse_query,
    reciprocal_rank_fusion,
    semantic_text,
    spelled,
    words,
)

GLOSSARY = Glossary([GlossaryEntry.make("cinnamon", "crop", vi="quế|cây quế", en="cinnamon|cassia", zh="肉桂"),
                     GlossaryEntry.make("dryer", "technology", vi="máy sấy", en="dryer", zh="烘干机"),
                     GlossaryEntry.make("ai", "technology", vi="trí tuệ nhân tạo", en="AI")])


def test_fold_ignores_case_marks_and_normal_form():
    assert fold("ĐIỆN Thoại") == fold("điện thoại") == fold(unicodedata.normalize("NFD", "điện thoại")) == "dien thoai"
    assert words("a_b 50% Bắc-Hà 肉桂") == ["a", "b", "50", "bac", "ha", "肉", "桂"]
    assert document(["Máy sấy", None, "quế"]) == " may say que "
    assert document([None, "%%"]) == ""


def test_queries_without_letters_find_nothing_and_wildcards_are_separators():
    for q in ("%", "_", "\x00", "  ", "*()"):
        assert not parse_query(q)
    assert [g[0].words for g in parse_query("a_b").groups] == [("a",), ("b",)]


def test_phrases_prefixes_and_chinese_runs():
    query = parse_query('"máy sấy" sensors lo 肉桂 烘干')
    assert [(g[0].words, g[0].prefix) for g in query.groups] == [
        (("may", "say"), False), (("sensors",), True), (("lo",), False), (("肉", "桂"), False), (("烘", "干"), False)]
    assert query.phrase.needle() == " may say sensors lo 肉 桂 烘 干 "
    assert parse_query("quế quế QUẾ").groups == parse_query("quế").groups
    assert parse_query("ＳＡＴ ＬＯ").groups == parse_query("sạt lở").groups  # full-width letters, as typed in Chinese


def test_glossary_names_become_alternatives_in_every_language():
    query = expand(parse_query("Cinnamon may say"), GLOSSARY)
    assert [[" ".join(p.words) for p in g] for g in query.groups] == [
        ["cinnamon", "que", "cay que", "cassia", "肉 桂"], ["may say", "dryer", "烘 干 机"]]
    assert [" ".join(p.words) for p in expand(parse_query("肉桂烘干机"), GLOSSARY).groups[0]][0] == "肉 桂"
    assert expand(parse_query('"may say"'), GLOSSARY).groups == parse_query('"may say"').groups  # quoted: as typed
    assert len(expand(parse_query("ai"), GLOSSARY).groups[0]) == 1  # too short to translate once folded


def test_every_spelling_of_a_concept_reads_the_same():
    assert {semantic_text(parse_query(q), GLOSSARY) for q in ("que", "QUẾ", "cinnamon", "肉桂")} == {"quế"}
    assert semantic_text(parse_query("Cinnamon harvest"), GLOSSARY) == "cinnamon harvest"


def test_a_corrected_query_is_spelled_as_the_texts_write_it():
    texts = ["Cảnh báo SẠT LỞ đất", "Sạt lở ở Bắc Hà", "sat lo", None, "Máy sấy quế; cây quế, vỏ que"]
    assert spelled(("sat", "lo"), texts) == "sạt lở"            # the run, its most common spelling
    assert spelled(("sat", "lo", "que"), texts) == "sạt lở quế"  # no text holds the run: word by word
    assert spelled(("xyz", "que"), texts) == "xyz quế"           # a word no text holds stays folded
    assert spelled(("dien",), ["Ðiện thoại".replace("Ð", "Đ"), "điện"]) == "điện"
    nfd = unicodedata.normalize("NFD", "Lũ quét")
    assert spelled(("lu", "quet"), [nfd]) == "lũ quét"  # pasted from macOS
    assert spelled(("que",), []) == "que"


def test_reciprocal_rank_fusion_rewards_agreement():
    assert reciprocal_rank_fusion([["a", "b", "c"], ["c", "d"]]) == ["c", "a", "b", "d"]
    assert reciprocal_rank_fusion([[], ["x"]]) == ["x"]


def test_reciprocal_rank_fusion_of_a_ranking_s_head_orders_those_ids_as_the_whole_ranking_does():
    whole = [f"l{i}" for i in range(1, 200)]
    other = ["s1", "l150", "l3", "s2"]
    fused = reciprocal_rank_fusion([whole, other])
    head = {i: rank for rank, i in enumerate(whole, start=1) if rank <= 10 or i in other}
    partial = reciprocal_rank_fusion([head, {i: rank for rank, i in enumerate(other, start=1)}])
    assert partial[:10] == fused[:10]
    assert [i for i in fused if i in set(partial)] == partial
