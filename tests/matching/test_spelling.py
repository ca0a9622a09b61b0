"""Corrections of queries misspelled by one letter (matching/spelling.py)."""
import pytest

from matching.search import document, expand, parse_query, with_alternative
from matching.spelling import Vocabulary, correct, correct_query, edit_kind
from tests.matching.test_search import GLOSSARY

# Folded texts as a province's ideas write them: a few concepts, each in several texts, and
# common short words that misspellings of them also make once folded ("de", "ho", "cac").
TEXTS = [
    "Trạm cảnh báo sạt lở đất giá rẻ", "Bản đồ điểm sạt lở do cộng đồng báo cáo", "Sạt lở ở Sa Pa", "Sạt lở taluy",
    "Lò sấy thảo quả tiết kiệm củi", "Nhân giống thảo quả dưới tán rừng", "Thảo quả và quế Văn Yên",
    "Máy sấy quế năng lượng mặt trời", "Tinh dầu quế", "Quế hữu cơ", "Vỏ quế", "Quế Văn Yên", "Bóc quế", "Cây quế",
    "Chè Shan tuyết cổ thụ", "Phân loại chè búp", "Chè xanh", "Chế biến chè",
    "Nuôi cá hồi nước lạnh", "Cá hồi Sa Pa", "Cảnh báo lũ quét", "Lũ quét ở Bát Xát", "Lũ quét và sạt lở", "Bản đồ lũ quét",
    "Đề xuất cho các hộ dân", "Để các hộ dễ làm", "Đề án xây dựng", "Hộ trợ các hộ nghèo", "Về để làm",
    "Vẽ bản đồ", "Lễ hội", "Mầm cây", "Thả cá giống", "Xây hồ chứa nước", "Hồ Na Hang", "Đi lò",
    "Lớp học 2024", "Năm 2024", "肉桂 烘干机",
]


@pytest.fixture(scope="module")
def vocabulary():
    return Vocabulary().fit(document([t]) for t in TEXTS)


@pytest.mark.parametrize(("typed", "meant"), [
    ("xạt lở", "sat lo"),      # a sound-alike: both words exist, the pair does not
    ("thả quả", "thao qua"),   # a letter forgotten, making another real word ("thả")
    ("qế", "que"),             # no such word; "de", "ve", "le" are one letter away too, and commoner
    ("cè", "che"),             # "de" is a neighbouring key away and commoner still
    ("cá hồ", "ca hoi"),       # "các hồ" is one letter away too: "hồi" fits after "cá" best
    ("lũ quyét", "lu quet"),   # a letter too many
    ("XẠT LỞ đất", "sat lo dat"),
    ("máy xấy quế", "may say que"),
])
def test_misspellings_of_the_evaluation_set_are_corrected(vocabulary, typed, meant):
    words = tuple(w for g in parse_query(typed).groups for w in g[0].words)
    assert correct(words, vocabulary) == tuple(meant.split())


@pytest.mark.parametrize("typed", [
    "sạt lở", "thảo quả", "quế", "cá hồi", "lũ quét",  # as written
    "thả",          # a correct rare word: in one text only, and "thảo" is one letter away
    "mầm",          # a real word alone: nothing to judge it against, however common its neighbours
    "lò",           # a valid two-letter word
    "肉桂", "肉柱",  # Chinese characters are never changed
    "2024", "2023", # numbers neither
    "zyxtrola",     # a word nobody wrote, with no word one letter away
    "a",            # one letter: too ambiguous
])
def test_what_must_not_be_corrected(vocabulary, typed):
    words = tuple(w for g in parse_query(typed).groups for w in g[0].words)
    assert correct(words, vocabulary) is None


def test_a_correction_must_be_much_more_common_than_what_was_typed(vocabulary):
    assert correct(("xat", "lo"), vocabulary) == ("sat", "lo")
    # the same misspelling where the typed pair is written as often as the corrected one
    both = Vocabulary().fit([*(document([t]) for t in TEXTS), " xat lo ", " xat lo ", " xat lo "])
    assert correct(("xat", "lo"), both) is None


def test_a_word_between_two_is_judged_by_its_better_neighbour():
    # a query is not a sentence: "máy sấy" is written, "sấy quế" nowhere; "cây xấy" (the first
    # word changed, a less likely edit) fits less well than "máy sấy" but better than "sấy" fits
    # both its neighbours at once (at 100k ideas that made "máy xấy quế" "cây xấy quế")
    texts = ["Máy sấy lai cho thảo quả và quế", "Máy sấy lai cho thảo quả và quế", "Máy sấy củi", "Máy sấy chè",
             "Máy bơm", "Quế Văn Yên", "Vỏ quế", "Tinh dầu quế", "Bột quế", "Quế hữu cơ", "Cây quế", "Giống quế",
             "Rừng quế", "Cây xấy", "Cây xấy", "Xây nhà", "Xây cầu"]
    vocabulary = Vocabulary().fit(document([t]) for t in texts)
    assert correct(("may", "xay", "que"), vocabulary) == ("may", "say", "que")
    assert correct(("may", "xay", "que"), vocabulary, ratio=1.0) == ("may", "say", "que")  # "cay" competes


def test_edit_kinds():
    assert edit_kind("ce", "che") == "missing"
    assert edit_kind("quyet", "quet") == "near"   # a letter too many
    assert edit_kind("xat", "sat") == "near"      # a sound-alike
    assert edit_kind("mam", "man") == "near"      # neighbouring keys
    assert edit_kind("qe", "de") == "other"


def test_a_corrected_query_keeps_its_groups_and_joins_the_glossary(vocabulary):
    query = parse_query('"xạt lở" 肉桂')
    corrected = correct_query(query, vocabulary)
    assert [g[0].words for g in corrected.groups] == [("sat", "lo"), ("肉", "桂")]
    assert corrected.text == "sat lo 肉 桂"
    # a corrected word can make a glossary name with its neighbour: the correction is an
    # alternative to the whole query, the typed groups stay as typed
    typed = parse_query("mái sấy")
    fixed = correct_query(typed, Vocabulary().fit([" may say que ", " may say ", " mai nha "] * 3))
    assert fixed.text == "may say"
    combined = with_alternative(expand(typed, GLOSSARY), expand(fixed, GLOSSARY))
    assert combined.groups == expand(typed, GLOSSARY).groups
    assert [" ".join(p.words) for p in combined.alternatives[0].groups[0]] == ["may say", "dryer", "烘 干 机"]
    assert with_alternative(typed, None) is typed


def test_pairs_are_counted_once_per_text_whatever_the_batch():
    texts = [" sat lo dat sat lo ", " sat lo ", " lo sat 2024 lo ", " 肉 桂 sat lo "]
    for batch in (1, 3, 1000):
        vocabulary = Vocabulary(batch=batch).fit(texts)
        assert [vocabulary.pair_count(*p) for p in (("sat", "lo"), ("lo", "sat"), ("lo", "dat"), ("dat", "sat"),
                                                     ("lo", "lo"), ("2024", "lo"), ("lo", "xyz"))] == [3, 1, 1, 1, 0, 0, 0]
        assert (vocabulary.words_["sat"], vocabulary.words_["lo"], vocabulary.n_documents_) == (4, 4, 4)
        assert "2024" not in vocabulary.words_ and "肉" not in vocabulary.words_
