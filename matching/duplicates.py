"""Is one idea a duplicate of another (a translation, a paraphrase, the same project twice)?

The duplicate check shown while an idea is written must not depend on what else is in the pool:
the engine's bands are z-scores within a query's pool, so the same pair can be "strong" in one
corpus and "weak" in another, and a translation is pushed down by every same-topic idea around it.
This module decides on the pair alone:

    score = semantic + number_weight * shared_numbers + concept_weight * shared_concepts

- ``semantic``: the cosine of the two texts' vectors after :class:`matching.debias.LanguageDebias`
  (each language's mean removed: the engine's ``Match.semantic``);
- ``shared_numbers``: the share of the figures of the text with fewer figures that the other text
  also has (:func:`number_overlap`): a translation or a paraphrase of the same project keeps its
  figures ("500 kg", "70%", "2.500 ảnh" = "2,500 photos"), whatever the language;
- ``shared_concepts``: the weighted Jaccard overlap of the province glossary's concepts the two
  texts name (:func:`concept_overlap`), each concept weighted by its IDF in the ranker's corpus
  statistics (:class:`matching.rerank.CorpusStatistics`): two teams' nearly identical ideas name
  the same crop, place and technology in whatever words or language.

No feature looks at the texts' languages. ``threshold`` and ``number_weight`` are fitted on
``seed_data/eval/duplicates.json`` by ``bench/duplicates.py`` (figures in ``docs/matching.md``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DuplicateRule", "DEFAULT_RULE", "numbers_in", "number_overlap", "concept_overlap", "fit_threshold"]

_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
# Small whole numbers say little (counts of steps, "2 ngày", "3 tháng"): left out.
_SMALL = 10


def numbers_in(text: str) -> frozenset[float]:
    """The figures of a text as numbers, written either way: "2.500" (Vietnamese) and "2,500"
    (English) are 2500, "4,5" and "4.5" are 4.5. Whole numbers up to 10 are left out."""
    found: set[float] = set()
    for token in _NUMBER.findall(text):
        if _THOUSANDS.fullmatch(token):
            value = token.replace(".", "").replace(",", "")
        else:
            value = token.replace(",", ".")
            if value.count(".") > 1:
                continue
        number = float(value)
        if number.is_integer() and number <= _SMALL:
            continue
        found.add(number)
    return frozenset(found)


def number_overlap(a: frozenset[float], b: frozenset[float]) -> float:
    """Share of the smaller set of figures found in the other (0 when either has none)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def concept_overlap(a: frozenset[str], b: frozenset[str],
                    weight: Callable[[frozenset[str]], float] = len) -> float:
    """Weighted Jaccard overlap of two sets of glossary concepts: ``weight(a & b) / weight(a | b)``
    (0 when neither names any). ``weight``: a set's total weight, e.g.
    :meth:`matching.rerank.CorpusStatistics.weight` (IDF); default: its size."""
    union = weight(a | b)
    return weight(a & b) / union if union > 0 else 0.0


@dataclass(frozen=True)
class DuplicateRule:
    """``score = semantic + number_weight * shared_numbers + concept_weight * shared_concepts``;
    a duplicate when ``score >= threshold``.

    Fitted on ``seed_data/eval/duplicates.json`` by ``bench/duplicates.py`` (``--fit`` prints the
    values to put here), with the shipped ranker's concept IDF."""

    number_weight: float = 0.1
    concept_weight: float = 0.2
    threshold: float = 0.414

    def scores(self, semantic: np.ndarray | Sequence[float], shared_numbers: np.ndarray | Sequence[float],
               shared_concepts: np.ndarray | Sequence[float] | float = 0.0) -> np.ndarray:
        """float64 (n,) duplicate scores of n pairs."""
        return (np.asarray(semantic, float) + self.number_weight * np.asarray(shared_numbers, float)
                + self.concept_weight * np.asarray(shared_concepts, float))

    def is_duplicate(self, semantic: float, shared_numbers: float, shared_concepts: float = 0.0) -> bool:
        """The decision for one pair."""
        return bool(self.scores([semantic], [shared_numbers], [shared_concepts])[0] >= self.threshold)


DEFAULT_RULE = DuplicateRule()


def fit_threshold(scores: np.ndarray, labels: np.ndarray, min_precision: float = 0.8) -> float:
    """The lowest score threshold at which the pairs at or above it reach ``min_precision``
    (the most recall at that precision); the highest score + 1e-9 if no threshold does.
    ``scores``: float (n,); ``labels``: bool (n,), True for duplicates."""
    scores = np.asarray(scores, float)
    labels = np.asarray(labels, bool)
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= min_precision)
    if not len(ok):
        return float(scores.max() + 1e-9) if len(scores) else 0.0
    last = ok[-1]
    # never cut between equal scores
    return float(scores[order[last]])
