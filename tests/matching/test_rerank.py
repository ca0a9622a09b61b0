"""The second stage: pair features, the fitted ranker, re-ranking."""
from dataclasses import replace

import numpy as np
import pytest

from matching.debias import LanguageDebias
from matching.glossary import Glossary, GlossaryEntry
from matching.ranking import Item, Match
from matching.rerank import (
    FEATURES,
    CorpusStatistics,
    Material,
    Ranker,
    RankerFileError,
    corpus_statistics,
    fit_ranker,
    materials_for,
    pair_features,
    rerank,
)

DIM = 8


def unit(*values):
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def material(doc, title=None, sentences=None, methods=(), topics=()):
    doc = unit(*doc)
    return Material(doc=doc, title=unit(*title) if title else doc,
                    sentences=np.stack([unit(*s) for s in sentences]) if sentences else doc[None, :],
                    methods=frozenset(methods), topics=frozenset(topics))


NEED = Item(id="need:1", side="need", kind="business_need", lang="en", text="Dry cinnamon bark", title="Dryer",
            sectors=frozenset({"agriculture_highland"}), place_group="Văn Yên")
IDEA = Item(id="idea:1", side="idea", kind="startup_idea", lang="vi", text="Máy sấy quế", title="Máy sấy",
            sectors=frozenset({"agriculture_highland"}), place_group="Văn Yên", stage="prototype")


def test_features_are_named_and_read_no_language():
    n = material((1, 0.2), sentences=[(1, 0), (0, 1)], methods={"dryer", "solar"}, topics={"cinnamon"})
    i = material((1, 0.1), sentences=[(1, 0.1)], methods={"dryer"}, topics={"cinnamon", "bac_ha"})
    x = pair_features(NEED, IDEA, n, i)
    assert x.shape == (len(FEATURES),)
    feature = dict(zip(FEATURES, x))
    assert feature["cover_idea"] > feature["cover_need"]  # the idea's one sentence is covered, not both of the need's
    assert feature["shared_methods"] == 1 and feature["shared_topics"] == 1  # without statistics a concept weighs 1
    assert feature["sector"] == 1 and feature["place"] == 1
    # the same texts declared in other languages give the same features: no feature reads the language
    swapped = pair_features(replace(NEED, lang="zh"), replace(IDEA, lang="en"), n, i)
    assert np.array_equal(x, swapped)


def test_rare_concepts_weigh_more_than_common_ones():
    stats = CorpusStatistics(None, {"sensor": 0.2, "dryer": 3.0}, unseen_idf=4.0)
    n = material((1, 0), methods={"sensor", "dryer"})
    by_sensor = dict(zip(FEATURES, pair_features(NEED, IDEA, n, material((1, 0), methods={"sensor"}), stats=stats)))
    by_dryer = dict(zip(FEATURES, pair_features(NEED, IDEA, n, material((1, 0), methods={"dryer"}), stats=stats)))
    assert by_sensor["shared_methods"] == pytest.approx(0.2) and by_dryer["shared_methods"] == pytest.approx(3.0)
    assert stats.weight(frozenset({"never_seen"})) == 4.0


def test_corpus_statistics_read_texts_not_labels(counting_embedder):
    glossary = Glossary([GlossaryEntry.make("dryer", "technology", "máy sấy", "dryer", "烘干机"),
                         GlossaryEntry.make("sensor", "technology", "cảm biến", "sensor", "传感器")])
    items = [Item(id=f"idea:{k}", side="idea", kind="startup_idea", lang=lang, title=title, text=text)
             for k, (lang, title, text) in enumerate([
                 ("vi", "Cảm biến độ ẩm", "Cảm biến cho vườn mận. Cảnh báo sương muối."),
                 ("vi", "Máy sấy quế", "Máy sấy năng lượng mặt trời. Có cảm biến nhiệt độ."),
                 ("en", "Frost sensor", "A sensor network for plum orchards."),
                 ("zh", "茶园传感器", "茶园的温湿度传感器。")])]
    stats = corpus_statistics(items, counting_embedder, glossary)
    assert stats.concept_idf["dryer"] > stats.concept_idf["sensor"]  # 1 text of 4 against 4 of 4
    assert stats.unseen_idf == pytest.approx(np.log(5))
    assert set(stats.sentence_debias.means_) == {"vi", "en", "zh"} and stats.sentence_debias.dim == DIM
    assert set(stats.document_debias.means_) == {"vi", "en", "zh"}
    assert len(counting_embedder.calls) == 1  # whole texts, titles and sentences in one call


def test_a_provisional_material_embeds_nothing_and_stands_on_the_document(counting_embedder):
    glossary = Glossary([GlossaryEntry.make("dryer", "technology", "máy sấy", "dryer", "烘干机")])
    item = Item(id="idea:1", side="idea", kind="startup_idea", lang="vi", title="Máy sấy quế",
                text="Máy sấy năng lượng mặt trời. Có cảm biến nhiệt độ.")
    doc = counting_embedder.embed(["Máy sấy quế"], "query")
    counting_embedder.calls.clear()
    made = materials_for([item], doc, None, None, glossary)["idea:1"]
    assert counting_embedder.calls == []  # nothing embedded
    assert np.allclose(made.title, made.doc) and made.sentences.shape == (1, DIM)
    assert made.methods == {"dryer"}  # the glossary concepts are read from the text all the same
    full = materials_for([item], doc, counting_embedder, None, glossary)["idea:1"]
    assert len(counting_embedder.calls) == 1 and full.sentences.shape == (3, DIM)  # title and two sentences


def test_text_only_leaves_out_the_submitters_facts():
    n, i = material((1, 0)), material((1, 0))
    x = dict(zip(FEATURES, pair_features(NEED, IDEA, n, i, text_only=True)))
    assert x["sector"] == x["place"] == x["stage"] == 0


def _training(rng, n=400):
    x = rng.normal(size=(n, len(FEATURES)))
    grade = np.where(x[:, 0] > 1.0, 2, np.where(x[:, 0] > 0.3, 1, 0))  # relevance follows "doc"
    return x, grade


def test_fit_ranker_learns_which_feature_matters_and_survives_json():
    x, grade = _training(np.random.default_rng(0))
    ranker = fit_ranker(x, grade, bands={"strong": 0.8, "good": 0.6, "possible": 0.4}, meta={"pairs": len(grade)})
    assert np.argmax(np.abs(ranker.coef)) == FEATURES.index("doc")
    p = ranker.probability(x)
    assert p[grade == 2].mean() > p[grade == 0].mean() + 0.5
    again = Ranker.from_json(ranker.to_json())
    assert np.allclose(again.probability(x), p) and again.meta == {"pairs": len(grade)}
    assert [ranker.band(v) for v in (0.9, 0.7, 0.5, 0.1)] == ["strong", "good", "possible", "weak"]


def test_the_ranker_file_keeps_its_corpus_statistics():
    rng = np.random.default_rng(4)
    debias = LanguageDebias().fit(rng.normal(size=(20, DIM)).astype(np.float32), ["vi"] * 10 + ["en"] * 10)
    stats = CorpusStatistics(debias, {"dryer": 2.5}, 3.0, document_debias=debias)
    again = Ranker.from_json(fit_ranker(*_training(rng), stats=stats).to_json())
    assert np.allclose(again.stats.document_debias.mean_for("vi"), debias.mean_for("vi"))
    assert again.stats.concept_idf == {"dryer": 2.5} and again.stats.unseen_idf == 3.0
    assert np.allclose(again.stats.sentence_debias.mean_for("en"), debias.mean_for("en"))
    vecs = rng.normal(size=(3, DIM)).astype(np.float32)
    assert np.allclose(again.stats.sentence_debias.transform(vecs, ["vi", "en", "zh"]),
                       debias.transform(vecs, ["vi", "en", "zh"]))


def test_a_ranker_file_that_does_not_fit_is_refused():
    ranker = fit_ranker(*_training(np.random.default_rng(1)))
    text = ranker.to_json()
    with pytest.raises(RankerFileError, match="earlier version"):
        Ranker.from_json(text.replace('"laocai-ranker/2"', '"laocai-ranker/1"'))
    with pytest.raises(RankerFileError, match="unknown features"):
        Ranker.from_json(text.replace('"doc"', '"same_language"'))
    with pytest.raises(RankerFileError, match="not a ranker file"):
        Ranker.from_json('{"format": "pickle"}')
    with pytest.raises(RankerFileError):
        Ranker.from_json("{not json")


def test_rerank_scores_a_pair_the_same_from_either_side():
    x, grade = _training(np.random.default_rng(2))
    ranker = fit_ranker(x, grade)
    other = replace(IDEA, id="idea:2", title="Frost sensor", text="Cảm biến sương muối")
    mats = {NEED.id: material((1, 0.1), sentences=[(1, 0), (0.2, 1)]),
            IDEA.id: material((1, 0.2), sentences=[(1, 0.1)]),
            other.id: material((0.3, 1), sentences=[(0.1, 1)])}
    items = {it.id: it for it in (NEED, IDEA, other)}
    first = [Match(other.id, 0.9, "strong", 0.9), Match(IDEA.id, 0.8, "good", 0.8)]
    from_need = rerank(NEED, first, items, mats, ranker)
    assert [m.item_id for m in from_need] == [IDEA.id, other.id]  # the ranker orders them, not the first stage
    from_idea = rerank(IDEA, [Match(NEED.id, 0.5, "possible", 0.5)], items, mats, ranker)
    assert from_idea[0].score == pytest.approx(from_need[0].score)
    assert from_idea[0].band == from_need[0].band


def test_a_candidate_without_material_keeps_its_place_below_as_weak():
    ranker = fit_ranker(*_training(np.random.default_rng(3)))
    mats = {NEED.id: material((1, 0)), IDEA.id: material((1, 0))}
    items = {NEED.id: NEED, IDEA.id: IDEA}
    out = rerank(NEED, [Match("idea:9", 0.9, "strong", 0.9), Match(IDEA.id, 0.5, "good", 0.5)], items, mats,
                 ranker)
    assert [m.item_id for m in out] == [IDEA.id, "idea:9"] and out[1].band == "weak"


def test_glossary_concepts_count_across_languages():
    glossary = Glossary([GlossaryEntry.make("cinnamon", "crop", "quế", "cinnamon", "肉桂"),
                         GlossaryEntry.make("bac_ha", "place", "Bắc Hà", "Bac Ha", "")])
    assert glossary.concepts("Solar drying of cinnamon bark near Bac Ha") == {"cinnamon", "bac_ha"}
    assert glossary.concepts("Máy sấy quế") == {"cinnamon"}
    assert glossary.concepts("肉桂烘干") == {"cinnamon"}
    assert glossary.concepts("que diem") == frozenset()  # "que" without its tone mark is another word
    assert glossary.same_concept("Quế", "cinnamon") and not glossary.same_concept("bark", "Bắc Hà")
