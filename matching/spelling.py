"""Queries misspelled by one letter: a corrected query from the words people can find.

Vietnamese typos mostly make other real words once folded ("xạt lở" for "sạt lở", "cá hồ" for
"cá hồi", "thả quả" for "thảo quả"), so correcting only unknown words is not enough: a word is
changed when the corrected query is much more common in the searchable texts than what was typed.

- :class:`Vocabulary` counts, over folded documents (:func:`matching.search.document`), in how
  many documents each word and each pair of adjacent words occurs, and keeps the words in a
  SymSpell index (``symspellpy``) to find those one edit away.
- :func:`correct` changes at most one word of a query (a noisy channel with a bigram context):
  each candidate one edit away is compared with the typed word by how well each fits beside the
  typed neighbours (the share of a neighbour's documents in which the two stand side by side),
  times how likely that edit is as a typo (a forgotten letter most, a neighbouring key or a
  Vietnamese sound-alike next, any other letter least); it is kept if that makes it ``ratio``
  times better. A query of one word is corrected only when that word is in no document (without
  neighbours a real word has nothing to be judged against). Words with digits, Chinese characters
  and one-letter words are never changed.

Everything works on folded words, so accents and case never matter and both databases receive
the same corrected words.
"""
from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from symspellpy import SymSpell, Verbosity

from .search import Query, _phrase

__all__ = ["Vocabulary", "correct", "correct_query", "edit_kind", "RATIO", "EDIT_WEIGHTS"]

RATIO = 4.0          # a correction must fit its place this many times better than the typed word
SMOOTHING = 0.5      # added to every count, so that a pair never seen still compares
MIN_WORD_CHARS = 2   # shorter words are never changed ("a", "o" are too ambiguous)
MAX_WORD_CHARS = 24  # longer "words" (codes, pasted URLs) are neither counted nor changed
# How likely each kind of edit is as a typo, relative to one another: a forgotten letter ("cè"
# for "chè", "qế" for "quế") is the commonest on a phone; a neighbouring key, a Vietnamese
# sound-alike (s/x, d/r, l/n, c/t, i/y), a letter too many or two letters swapped come next;
# any other letter least.
EDIT_WEIGHTS = {"missing": 1.0, "near": 0.5, "other": 0.2}
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYS = {ch: (row, col + 0.5 * row) for row, keys in enumerate(_ROWS) for col, ch in enumerate(keys)}
_SOUND_ALIKE = (frozenset("sx"), frozenset("dr"), frozenset("ln"), frozenset("ct"), frozenset("iy"))


def _near(a: str, b: str) -> bool:
    if frozenset((a, b)) in _SOUND_ALIKE:
        return True
    if a in _KEYS and b in _KEYS:
        (row_a, col_a), (row_b, col_b) = _KEYS[a], _KEYS[b]
        return abs(row_a - row_b) <= 1 and abs(col_a - col_b) <= 1
    return False


def edit_kind(typed: str, word: str) -> str:
    """The kind of the one edit that turns ``word`` into ``typed`` (a key of :data:`EDIT_WEIGHTS`):
    "missing" when ``typed`` lacks one of its letters, "near" for a letter too many, two letters
    swapped or a letter replaced by a neighbouring key or a sound-alike, "other" otherwise."""
    if len(word) == len(typed) + 1:
        return "missing"
    if len(word) != len(typed):
        return "near"
    differ = [(a, b) for a, b in zip(typed, word) if a != b]
    if len(differ) == 1 and not _near(*differ[0]):
        return "other"
    return "near"


def _merge(keys: np.ndarray, counts: np.ndarray, gathered: array) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique pair keys and their counts: ``keys``/``counts`` plus the ``gathered`` keys
    (the batch is sorted alone and inserted, so the arrays are copied once, never sorted again)."""
    new, new_counts = np.unique(np.frombuffer(gathered, dtype=np.int64), return_counts=True)
    at = np.searchsorted(keys, new)
    known = at < len(keys)
    known[known] = keys[at[known]] == new[known]
    counts[at[known]] += new_counts[known]
    fresh = ~known
    return np.insert(keys, at[fresh], new[fresh]), np.insert(counts, at[fresh], new_counts[fresh])


def _changeable(word: str) -> bool:
    return MIN_WORD_CHARS <= len(word) <= MAX_WORD_CHARS and word.isalpha() and word.isascii()


class Vocabulary:
    """Document frequencies of folded words and of adjacent word pairs, with the words one edit
    away from any word (scikit-learn style: ``__init__`` stores settings, :meth:`fit` learns).

    Learned: ``n_documents_``; ``words_`` (Counter word -> documents holding it); the pairs as two
    arrays, ``pair_keys_`` (int64 (n_pairs,), sorted: the first word's number in ``words_``
    shifted left 32 bits, plus the second's) and ``pair_counts_`` (int64 (n_pairs,): documents
    holding the two side by side), read through :meth:`pair_count`: at 100k texts there are
    millions of pairs, 16 bytes each here against ~190 in a Counter of tuples. Only words of
    letters (ASCII once folded, 2 to :data:`MAX_WORD_CHARS` of them) are counted: numbers and
    Chinese characters are never corrected and would only fill the memory (a number per text).
    ``batch``: pairs gathered before they are merged into the arrays (memory while counting)."""

    def __init__(self, max_edit_distance: int = 1, batch: int = 500_000):
        self.max_edit_distance = max_edit_distance
        self.batch = batch

    def fit(self, documents: Iterable[str]) -> Vocabulary:
        """Count ``documents``: folded texts, words separated by spaces (``search_public`` or
        ``search_full``). Returns self."""
        number: dict[str, int] = {}
        counts: list[int] = []
        keys, pair_counts = np.empty(0, np.int64), np.empty(0, np.int64)
        gathered = array("q")
        n = 0
        for text in documents:
            n += 1
            found = []
            for word in text.split():
                i = number.get(word, -1)
                if i < 0 and _changeable(word):
                    i = number[word] = len(counts)
                    counts.append(0)
                found.append(i)
            for i in set(found):
                if i >= 0:
                    counts[i] += 1
            gathered.extend({a << 32 | b for a, b in zip(found, found[1:]) if a >= 0 and b >= 0})
            if len(gathered) >= self.batch:
                keys, pair_counts = _merge(keys, pair_counts, gathered)
                gathered = array("q")
        self.pair_keys_, self.pair_counts_ = _merge(keys, pair_counts, gathered)
        self._number = number
        self.words_ = Counter(dict(zip(number, counts)))
        self.n_documents_ = n
        self.index_ = SymSpell(max_dictionary_edit_distance=self.max_edit_distance, prefix_length=7)
        for word, count in self.words_.items():
            self.index_.create_dictionary_entry(word, count)
        return self

    def pair_count(self, first: str, second: str) -> int:
        """How many documents hold ``first`` followed by ``second``."""
        i, j = self._number.get(first), self._number.get(second)
        if i is None or j is None:
            return 0
        key = i << 32 | j
        at = int(np.searchsorted(self.pair_keys_, key))
        return int(self.pair_counts_[at]) if at < len(self.pair_keys_) and self.pair_keys_[at] == key else 0

    def near(self, word: str) -> list[str]:
        """The counted words one edit (at most ``max_edit_distance``) away from ``word``, not
        ``word`` itself."""
        return [s.term for s in self.index_.lookup(word, Verbosity.ALL, self.max_edit_distance)
                if s.term != word]

    def shares(self, word: str, left: str | None, right: str | None) -> tuple[float, ...]:
        """How well ``word`` fits between ``left`` and ``right`` (None: the query's edge): for each
        neighbour, the smoothed share of its documents in which it stands beside ``word``; without
        neighbours, the smoothed share of all documents holding ``word`` (one value)."""
        if left is None and right is None:
            return ((self.words_[word] + SMOOTHING) / (self.n_documents_ + SMOOTHING),)
        shares = []
        if left is not None:
            shares.append((self.pair_count(left, word) + SMOOTHING) / (self.words_[left] + SMOOTHING))
        if right is not None:
            shares.append((self.pair_count(word, right) + SMOOTHING) / (self.words_[right] + SMOOTHING))
        return tuple(shares)


def correct(words: Sequence[str], vocabulary: Vocabulary, ratio: float = RATIO) -> tuple[str, ...] | None:
    """``words`` (folded, in the order typed) with at most one word changed to a word one edit
    away that fits its neighbours ``ratio`` times better than the typed word does, weighted by how
    likely that edit is as a typo (:data:`EDIT_WEIGHTS`); None when no change is that much better.
    "Better" multiplies, over the neighbours, how many times larger the candidate's share is than
    the typed word's (:meth:`Vocabulary.shares`; a neighbour seen beside neither is neutral).
    Among several changes, the one whose word fits its best neighbour best wins (a query is not
    a sentence: "máy sấy quế" holds the phrase "máy sấy" though few texts write "sấy quế"), so "cá
    hồ" is "cá hồi" ("hồi" follows "cá" in most of its texts), not "các hồ" ("các" precedes "hồ"
    in few of its texts). A query of one word is changed only when the word is in no document.
    Deterministic: ties keep the first position, then the alphabetical first word."""
    words = tuple(words)
    best: tuple[float, float, int, str] | None = None  # (-fit, -gain, position, word): least wins
    for i, typed in enumerate(words):
        if not _changeable(typed) or (len(words) == 1 and vocabulary.words_[typed]):
            continue
        left = words[i - 1] if i > 0 else None
        right = words[i + 1] if i + 1 < len(words) else None
        base = vocabulary.shares(typed, left, right)
        for word in vocabulary.near(typed):
            weight = EDIT_WEIGHTS[edit_kind(typed, word)]
            shares = vocabulary.shares(word, left, right)
            gain = weight * math.prod(c / t for c, t in zip(shares, base))
            if gain >= ratio:
                key = (-weight * max(shares), -gain, i, word)
                best = key if best is None or key < best else best
    if best is None:
        return None
    _, _, i, word = best
    return (*words[:i], word, *words[i + 1:])


def correct_query(query: Query, vocabulary: Vocabulary, ratio: float = RATIO) -> Query | None:
    """``query`` with one word corrected (:func:`correct` over its typed words, quoted phrases and
    Chinese runs included as context), its groups and phrases otherwise as typed; None when no
    word is corrected."""
    typed = [w for phrase in query.typed for w in phrase.words]
    corrected = correct(typed, vocabulary, ratio)
    if corrected is None:
        return None
    groups, start = [], 0
    for group in query.groups:
        n = len(group[0].words)
        words = corrected[start:start + n]
        start += n
        groups.append((group[0] if words == group[0].words else _phrase(words),))
    return Query(text=" ".join(corrected), groups=tuple(groups))
