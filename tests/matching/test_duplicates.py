"""The duplicate decision: figures that survive translation, a threshold fitted for precision."""
import numpy as np

from matching.duplicates import (
    DEFAULT_RULE,
    DuplicateRule,
    concept_overlap,
    fit_threshold,
    number_overlap,
    numbers_in,
)


def test_figures_are_read_the_same_in_vietnamese_english_and_chinese():
    vi = numbers_in("Mẫu 500 kg/mẻ giảm khoảng 70% củi, giá 4,5 triệu đồng, 2.500 ảnh, 3 tháng")
    en = numbers_in("A 500 kg batch used 70% less firewood, VND 4.5 million, 2,500 photos, three months")
    zh = numbers_in("每批500公斤，节省约70%的木柴，2500张照片")
    assert vi == en == {500.0, 70.0, 4.5, 2500.0}  # small counts ("3 tháng") say nothing
    assert number_overlap(vi, zh) == 1.0
    assert number_overlap(vi, frozenset()) == 0.0


def test_the_rule_decides_on_the_pair_alone():
    rule = DuplicateRule(number_weight=0.2, concept_weight=0.2, threshold=0.42)
    assert rule.is_duplicate(0.45, 0.0) and not rule.is_duplicate(0.30, 0.0)
    assert rule.is_duplicate(0.30, 1.0)  # the same figures lift a translation over the line
    assert rule.is_duplicate(0.30, 0.0, 0.7) and not rule.is_duplicate(0.30, 0.0, 0.3)
    assert DEFAULT_RULE.threshold > 0 and DEFAULT_RULE.concept_weight > 0


def test_shared_concepts_are_a_weighted_jaccard_overlap():
    dryer, cinnamon, sensor = "dryer", "cinnamon", "sensor"
    assert concept_overlap(frozenset({dryer, cinnamon}), frozenset({dryer, cinnamon})) == 1.0
    assert concept_overlap(frozenset({dryer, sensor}), frozenset({sensor})) == 0.5
    assert concept_overlap(frozenset(), frozenset()) == 0.0
    idf = {dryer: 3.0, sensor: 1.0}.get
    weight = lambda concepts: sum(idf(c) for c in concepts)  # noqa: E731
    # sharing the rare concept says more than sharing the common one
    assert concept_overlap(frozenset({dryer, sensor}), frozenset({dryer}), weight) == 0.75
    assert concept_overlap(frozenset({dryer, sensor}), frozenset({sensor}), weight) == 0.25


def test_fit_threshold_gives_the_most_recall_at_the_precision_asked():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([True, True, False, True, False, False])
    assert fit_threshold(scores, labels, 0.75) == 0.6   # 3 of 4 at or above 0.6
    assert fit_threshold(scores, labels, 1.0) == 0.8
    assert fit_threshold(scores, np.zeros(6, bool), 0.5) > 0.9  # nothing reaches it: nothing flagged
