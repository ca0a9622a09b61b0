"""Search text: folding for case- and accent-insensitive matching, query parsing, rank fusion.

The same folding is applied to the documents a database indexes and to the queries, in Python,
so SQLite and PostgreSQL see exactly the same words and give the same hits:

- NFC first (text pasted from macOS arrives decomposed), then lower case;
- Vietnamese đ/Đ become d, every other mark is dropped ("Điện" -> "dien", "quế" -> "que");
- words are runs of letters and digits; anything else (``%``, ``_``, NUL, punctuation) only
  separates words, so it is never a wildcard;
- each Chinese character is a word of its own (Chinese is written without spaces), and a run of
  them in a query must appear as a run (a phrase) in the text.

A document is its words joined by single spaces, with a space before the first and after the
last, so that ``" que "`` in it means the whole word "quế" (see :meth:`Phrase.needle`).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .glossary import Glossary

__all__ = ["fold", "words", "document", "Phrase", "Query", "parse_query", "expand", "semantic_text", "with_alternative",
           "spelled", "reciprocal_rank_fusion",
           "PREFIX_MIN_CHARS", "MAX_QUERY_WORDS"]

# A query word of this many letters or more also matches longer words that start with it
# ("dryer" finds "dryers", "sensor" finds "sensors"). Shorter ones match whole words only:
# folded Vietnamese syllables are short and prefixes of one another ("lo" of "long", "que" of
# "quen"), so prefixes of them would find unrelated texts.
PREFIX_MIN_CHARS = 5
MAX_QUERY_WORDS = 16  # a pasted paragraph is cut here (the semantic part reads all of it)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
_IS_HAN = re.compile(rf"[{_HAN}]")
_QUOTED = re.compile(r"[\"“”„«»「」『』]([^\"“”„«»「」『』]+)[\"“”„«»「」『』]")


def fold(text: str) -> str:
    """``text`` in NFC, lower case, đ -> d, without diacritics ("Điện Thoại" -> "dien thoai").
    Characters that are not letters are kept (see :func:`words`)."""
    text = unicodedata.normalize("NFC", text or "").lower().replace("đ", "d")
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits, each Chinese character alone."""
    return _WORD.findall(fold(text))


def document(texts: Iterable[str | None]) -> str:
    """The searchable form of several texts: their words, space-separated, with a space at both
    ends (``""`` when there are none)."""
    found = [w for text in texts if text for w in words(text)]
    return f" {' '.join(found)} " if found else ""


@dataclass(frozen=True)
class Phrase:
    """Folded words that must stand together, in order; ``prefix``: the last one may also be the
    start of a longer word."""

    words: tuple[str, ...]
    prefix: bool = False

    def needle(self) -> str:
        """What a :func:`document` holding the phrase contains: its words between spaces (the last
        one without the space after it when it may be a prefix). Words hold only letters and
        digits, so a plain substring search is exact: no wildcard, nothing to escape."""
        return f" {' '.join(self.words)}{'' if self.prefix else ' '}"


@dataclass(frozen=True)
class Query:
    """A parsed query. Every group must be found in a text, through any one of its phrases; the
    first phrase of each group is what was typed, the others are its translations from a
    glossary (:func:`expand`). ``text`` is the cleaned query as typed (for the semantic part).
    ``alternatives``: whole queries whose hits are hits too (the typed words corrected, with their
    own glossary names: :func:`with_alternative`); a correction can span other groups than the
    typed words' (a corrected word may join its neighbour in a glossary name), so it is an
    alternative to the whole query rather than a phrase of one group."""

    text: str
    groups: tuple[tuple[Phrase, ...], ...]
    alternatives: tuple[Query, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def typed(self) -> tuple[Phrase, ...]:
        """The phrases as typed, one per group."""
        return tuple(g[0] for g in self.groups)

    @property
    def phrase(self) -> Phrase:
        """The whole query as typed, as one phrase."""
        typed = self.typed
        return Phrase(tuple(w for p in typed for w in p.words), typed[-1].prefix if typed else False)


def _phrase(ws: Sequence[str]) -> Phrase:
    last = ws[-1]
    return Phrase(tuple(ws), len(last) >= PREFIX_MIN_CHARS and not _IS_HAN.match(last))


def parse_query(text: str) -> Query:
    """A :class:`Query` from what a person typed: quoted parts are phrases, a run of Chinese
    characters is a phrase, every other word stands alone; at most :data:`MAX_QUERY_WORDS` words.
    A query with no letter or digit has no groups (it is false) and finds nothing. Compatibility
    forms are read as what they stand for (NFKC): full-width "ＳＡＴ ＬＯ" typed by a Chinese input
    method is "SAT LO"."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    groups: list[tuple[str, ...]] = []

    def add(part: str, phrase: bool) -> None:
        found = list(_WORD.finditer(fold(part)))
        if phrase and found:
            groups.append(tuple(m.group(0) for m in found))
            return
        run: list[str] = []
        end = -1
        for m in found:
            han = bool(_IS_HAN.match(m.group(0)))
            if run and not (han and m.start() == end):  # a run of Chinese characters ends
                groups.append(tuple(run))
                run = []
            if han:
                run.append(m.group(0))
                end = m.end()
            else:
                groups.append((m.group(0),))
        if run:
            groups.append(tuple(run))

    last = 0
    for quoted in _QUOTED.finditer(text):
        add(text[last:quoted.start()], False)
        add(quoted.group(1), True)
        last = quoted.end()
    add(text[last:], False)
    kept: list[tuple[Phrase, ...]] = []
    budget = MAX_QUERY_WORDS
    for group in dict.fromkeys(groups):  # a repeated word adds nothing
        if budget <= 0:
            break
        kept.append((_phrase(group[:budget]),))
        budget -= len(group)
    return Query(text=text, groups=tuple(kept))


# Glossary names shorter than this (folded, spaces apart; Chinese: 2 characters) are not
# translated: "ai" is also a Vietnamese word once "AI" is folded.
MIN_NAME_CHARS = 3
MAX_NAME_WORDS = 6


@lru_cache(maxsize=4)
def _synonyms(glossary: Glossary) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Folded words of every glossary name -> the folded words of every name of its concepts."""
    names_of: dict[str, list[tuple[str, ...]]] = {}
    for entry in glossary.entries.values():
        names_of[entry.concept] = list(dict.fromkeys(tuple(words(n)) for _, n in entry.names() if words(n)))
    out: dict[tuple[str, ...], dict[tuple[str, ...], None]] = {}
    for names in names_of.values():
        for key in names:
            han = all(_IS_HAN.match(w) for w in key)
            if len("".join(key)) >= (2 if han else MIN_NAME_CHARS) and len(key) <= MAX_NAME_WORDS:
                out.setdefault(key, {}).update(dict.fromkeys(names))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=4)
def _first_names(glossary: Glossary) -> dict[tuple[str, ...], str]:
    """Folded words of every glossary name -> the first name of its concept as written (Vietnamese
    first), so that every spelling of a concept reads the same."""
    out: dict[tuple[str, ...], str] = {}
    for entry in glossary.entries.values():
        names = [n for _, n in entry.names()]
        for name in names:
            out.setdefault(tuple(words(name)), names[0])
    return out


def semantic_text(query: Query, glossary: Glossary | None) -> str:
    """The text whose meaning a search looks for: when every word of the query belongs to names in
    the glossary, those concepts' first names as written ("que", "QUẾ" and "cinnamon" all read
    "quế"), so that spellings of one query find the same; otherwise the query in lower case."""
    if glossary is not None and query:
        first = _first_names(glossary)
        expanded = expand(query, glossary)
        names = [first.get(group[0].words) for group in expanded.groups]
        if all(names) and all(len(group) > 1 for group in expanded.groups):
            return " ".join(dict.fromkeys(names))
    return query.text.lower()


def expand(query: Query, glossary: Glossary | None) -> Query:
    """``query`` with the names of the glossary's concepts it names added as alternatives, in every
    language ("cinnamon dryer" also finds "quế" and "máy sấy", "thao qua" "cardamom" and "草果").
    Typed words that form one name become one group (a phrase); the longest name wins. Quoted
    phrases are kept as typed."""
    if glossary is None or not query:
        return query
    table = _synonyms(glossary)
    # One token per single word or Chinese character; a quoted phrase is one token kept as typed.
    tokens: list[str | Phrase] = []
    for group in query.groups:
        phrase = group[0]
        if len(phrase.words) > 1 and not all(_IS_HAN.match(w) for w in phrase.words):
            tokens.append(phrase)
        else:
            tokens.extend(phrase.words)
    groups: list[tuple[Phrase, ...]] = []
    pending_han: list[str] = []

    def flush_han() -> None:
        if pending_han:
            groups.append((_phrase(pending_han),))
            pending_han.clear()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(token, Phrase):
            flush_han()
            groups.append((token,))
            i += 1
            continue
        for n in range(min(MAX_NAME_WORDS, len(tokens) - i), 0, -1):
            span = tokens[i:i + n]
            if any(isinstance(t, Phrase) for t in span) or tuple(span) not in table:
                continue
            flush_han()
            typed = _phrase(span)
            groups.append((typed, *(Phrase(alt) for alt in table[tuple(span)] if alt != typed.words)))
            i += n
            break
        else:
            if _IS_HAN.match(token):
                pending_han.append(token)
            else:
                flush_han()
                groups.append((_phrase([token]),))
            i += 1
    flush_han()
    return Query(text=query.text, groups=tuple(groups))


def with_alternative(query: Query, alternative: Query | None) -> Query:
    """``query`` whose hits also include those of ``alternative`` (e.g. the typed words corrected,
    :func:`matching.spelling.correct_query`, expanded by the glossary); ``query`` itself when
    ``alternative`` is None or finds the same."""
    if alternative is None or alternative.groups == query.groups:
        return query
    return Query(text=query.text, groups=query.groups, alternatives=(*query.alternatives, alternative))


def spelled(folded: Sequence[str], texts: Iterable[str | None]) -> str:
    """The folded words ``folded`` as ``texts`` write them, in lower case (("sat", "lo") and texts
    saying "Sạt lở đất ..." -> "sạt lở"): the most common spelling of a run of words that folds to
    ``folded``; when no text holds the run, each word's most common spelling; a word no text holds
    stays as it is. For showing a corrected query (:func:`matching.spelling.correct_query` gives
    folded words) as people write it. Ties: the spelling met first. Cost: linear in the texts'
    length (each text is folded once)."""
    target = list(folded)
    n = len(target)
    runs: Counter[str] = Counter()
    each: dict[str, Counter[str]] = {w: Counter() for w in target}
    folds: dict[str, str] = {}  # texts repeat their words
    for text in texts:
        raw = _WORD.findall(unicodedata.normalize("NFC", text or "").lower())
        folded_raw = [folds[w] if w in folds else folds.setdefault(w, fold(w)) for w in raw]
        for i, word in enumerate(folded_raw):
            if word in each:
                each[word][raw[i]] += 1
                if folded_raw[i:i + n] == target:
                    runs[" ".join(raw[i:i + n])] += 1
    if runs:
        return runs.most_common(1)[0][0]
    return " ".join(each[w].most_common(1)[0][0] if each[w] else w for w in target)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str] | Mapping[str, int]], k: float = 60.0) -> list[str]:
    """Ids of several rankings (each best first) in one order, by the sum over rankings of
    1 / (k + rank), rank counted from 1 (Cormack, Clarke and Büttcher, SIGIR 2009). Ties keep the
    order in which ids are first met, rankings taken in the order given.

    A ranking may also be a mapping id -> rank holding only some ids of a longer ranking (the
    head of a long list, and ids found in another ranking): their scores and ties are those they
    have in the whole ranking, so the fused order of those ids is the same."""
    score: dict[str, float] = {}
    first: dict[str, tuple[int, int]] = {}
    for n, ranking in enumerate(rankings):
        pairs = ranking.items() if isinstance(ranking, Mapping) else ((i, r) for r, i in enumerate(ranking, start=1))
        for item_id, rank in pairs:
            score[item_id] = score.get(item_id, 0.0) + 1.0 / (k + rank)
            first.setdefault(item_id, (n, rank))
    return sorted(score, key=lambda i: (-score[i], first[i]))
