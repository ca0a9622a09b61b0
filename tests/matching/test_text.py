import unicodedata

import pytest

from matching.text import TextRejected, check_text, chunk_text, clean_text, detect_language, split_sentences


def test_clean_text_strips_html_entities_and_scripts():
    raw = "<p>Xin&nbsp;chào <b>bạn</b></p>\n\n\n<script>alert(1)</script><i>Dòng</i>   2\u200b"
    assert clean_text(raw) == "Xin chào bạn\nDòng 2"


def test_clean_text_makes_nfc_and_drops_controls():
    nfd = unicodedata.normalize("NFD", "Nông nghiệp\x07 vùng cao")
    out = clean_text(nfd)
    assert out == "Nông nghiệp vùng cao"
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize("text, code", [
    ("", "empty"), ("   \n ", "empty"), ("😀🎉👍", "no_letters"), ("!!! ... 123", "no_letters"),
    ("a" * 20001, "too_long"),
])
def test_check_text_rejects_with_code(text, code):
    with pytest.raises(TextRejected) as err:
        check_text(text)
    assert err.value.code == code


def test_check_text_accepts_mixed_script_with_emoji():
    text = "Máy sấy 🌞 solar dryer 太阳能"
    assert check_text(text) == text


@pytest.mark.parametrize("text, lang", [
    ("Hệ thống tưới nhỏ giọt cho vườn chè", "vi"),
    ("Chè Shan", "vi"),
    ("A smart irrigation system for tea gardens", "en"),
    ("高原茶园的太阳能滴灌系统", "zh"),
    ("😀", "vi"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_declared_language_wins():
    assert detect_language("A smart irrigation system", declared="vi") == "vi"
    assert detect_language("Hệ thống tưới", declared="en-US") == "en"
    assert detect_language("Hệ thống tưới", declared="fr") == "vi"  # unsupported: detect


def test_split_sentences_handles_vi_en_zh_bullets_and_abbreviations():
    text = ("TS. Nguyễn đề xuất máy sấy. Giá 2.5 triệu đồng! Có hiệu quả?\n"
            "- mục một\n• mục hai\n我们用无人机。效果很好！Dr. Smith agrees.")
    assert split_sentences(text) == [
        "TS. Nguyễn đề xuất máy sấy.", "Giá 2.5 triệu đồng!", "Có hiệu quả?", "mục một", "mục hai",
        "我们用无人机。", "效果很好！", "Dr. Smith agrees."]


def test_chunk_text_keeps_everything_and_respects_budget():
    sentences = [f"Câu số {i} nói về máy sấy quế." for i in range(200)]
    text = " ".join(sentences)
    chunks = chunk_text(text, max_tokens=100, tokenizer_len=lambda s: len(s.split()))
    assert len(chunks) > 1
    assert all(len(c.split()) <= 100 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_chunk_text_splits_a_single_overlong_sentence():
    text = "từ " * 1000
    chunks = chunk_text(text.strip(), max_tokens=50, tokenizer_len=lambda s: len(s.split()))
    assert all(len(c.split()) <= 50 for c in chunks)
    assert sum(len(c.split()) for c in chunks) == 1000


def test_chunk_text_short_text_is_one_chunk():
    assert chunk_text("ngắn gọn") == ["ngắn gọn"]
