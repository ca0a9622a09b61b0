"""The province glossary: the same concept's names in Vietnamese, English and Chinese.

Crops, places, technologies and institutions of Lào Cai, kept as data (the
file ``seed_data/glossary.csv`` seeds it; admins edit it in the app). The
engine uses it to see that "quế", "cinnamon" and "肉桂" name one thing: for
cross-language lexical evidence in the ranker and for shared terms in the
reasons shown to people.

CSV columns: ``concept`` (a stable id such as ``cinnamon``), ``kind`` (one of
:data:`KINDS`), ``vi``, ``en``, ``zh`` (each one or more names separated by
``|``). Matching is on whole words for Latin scripts (case-insensitive, after
NFC; Vietnamese diacritics matter: "quế" is not "que") and on substrings for
Chinese. Acronyms and names written with a capital inside a word ("AI", "EU",
"IoT", "HTX") match only as written: Vietnamese "ai" (who) is not "AI".
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KINDS", "LANGS", "GlossaryEntry", "GlossaryError", "Glossary", "read_glossary_csv"]

KINDS = ("crop", "place", "technology", "institution", "other")
LANGS = ("vi", "en", "zh")
_COLUMNS = ("concept", "kind") + LANGS
_CONCEPT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


class GlossaryError(ValueError):
    """A glossary row is malformed. ``row`` is the 1-based data row (header =
    row 1), ``code`` one of ``columns``, ``concept``, ``kind``, ``no_names``,
    ``duplicate`` for the app to translate; the message is English."""

    def __init__(self, row: int | None, code: str, message: str):
        super().__init__(f"row {row}: {message}" if row else message)
        self.row, self.code = row, code


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = value.split("|") if isinstance(value, str) else list(value)
    out: list[str] = []
    for p in parts:
        p = " ".join(unicodedata.normalize("NFC", p).split())
        if p and p not in out:
            out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class GlossaryEntry:
    """One concept and its names per language (each a tuple, maybe empty)."""

    concept: str
    kind: str
    vi: tuple[str, ...] = ()
    en: tuple[str, ...] = ()
    zh: tuple[str, ...] = ()

    @classmethod
    def make(cls, concept: str, kind: str, vi=None, en=None, zh=None, row: int | None = None) -> GlossaryEntry:
        """Build a checked entry; names may be ``"a | b"`` strings or lists.
        Raises :class:`GlossaryError`."""
        concept = (concept or "").strip().lower()
        kind = (kind or "other").strip().lower()
        if not _CONCEPT.match(concept):
            raise GlossaryError(row, "concept", f"concept id {concept!r} must be lower-case letters, "
                                "digits, '_' or '-' (at most 80)")
        if kind not in KINDS:
            raise GlossaryError(row, "kind", f"kind {kind!r} must be one of {', '.join(KINDS)}")
        entry = cls(concept, kind, _names(vi), _names(en), _names(zh))
        if not (entry.vi or entry.en or entry.zh):
            raise GlossaryError(row, "no_names", f"concept {concept!r} has no name in any language")
        return entry

    def names(self) -> Iterable[tuple[str, str]]:
        """(language, name) for every name of the entry."""
        for lang in LANGS:
            for name in getattr(self, lang):
                yield lang, name


def read_glossary_csv(source: str | Path | io.TextIOBase) -> list[GlossaryEntry]:
    """Entries of a glossary CSV (a path or an open text file, UTF-8; a BOM is
    ignored). Raises :class:`GlossaryError` naming the first bad row."""
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8-sig", newline="") as fh:
            return read_glossary_csv(fh)
    reader = csv.DictReader(source)
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise GlossaryError(1, "columns", f"missing columns: {', '.join(missing)}")
    entries: list[GlossaryEntry] = []
    seen: set[str] = set()
    for n, rec in enumerate(reader, start=2):
        if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
            continue
        entry = GlossaryEntry.make(rec["concept"], rec["kind"], rec["vi"], rec["en"], rec["zh"], row=n)
        if entry.concept in seen:
            raise GlossaryError(n, "duplicate", f"concept {entry.concept!r} appears twice")
        seen.add(entry.concept)
        entries.append(entry)
    return entries


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _written_exactly(name: str) -> bool:
    """Acronyms and inner capitals ("AI", "IoT", "TP Lào Cai") are matched as written."""
    return any(any(c.isupper() for c in word[1:]) for word in name.split())


def _alternation(names: Iterable[str], before: str, after: str) -> re.Pattern | None:
    """One regex matching any of ``names``, longest first (None if there are none)."""
    alts = [re.escape(n) for n in sorted(names, key=len, reverse=True)]
    return re.compile(before + "|".join(alts) + after) if alts else None


CONCEPT_CACHE_SIZE = 200_000  # terms whose concept a Glossary keeps (~100 bytes each)


class Glossary:
    """Finds glossary concepts in texts of any language.

    ``Glossary(entries)``; :meth:`find` gives (concept, surface text)
    occurrences, :meth:`concepts` the set of concept ids. Longest names win
    where names overlap ("chè Shan tuyết" before "chè").
    """

    def __init__(self, entries: Iterable[GlossaryEntry] = ()):
        self.entries: dict[str, GlossaryEntry] = {e.concept: e for e in entries}
        folded: dict[str, str] = {}
        exact: dict[str, str] = {}
        cjk: dict[str, str] = {}
        for e in self.entries.values():
            for _, name in e.names():
                if _CJK.search(name):
                    cjk.setdefault(name, e.concept)
                elif _written_exactly(name):
                    exact.setdefault(name, e.concept)
                else:
                    folded.setdefault(_fold(name), e.concept)
        self._folded, self._exact = {**folded, **cjk}, exact
        # whole words: no letter or digit right before or after the name
        self._latin = _alternation(folded, r"(?<![\w])(", r")(?![\w])")
        self._acronyms = _alternation(exact, r"(?<![\w])(", r")(?![\w])")
        self._cjk = _alternation(cjk, "(", ")")
        # term -> concept or None, as concept_of() answered: explanations ask for the same few
        # hundred terms hundreds of times a page (every pair of two texts' key terms)
        self._concept_of: dict[str, str | None] = {}

    @classmethod
    def from_csv(cls, source: str | Path | io.TextIOBase) -> Glossary:
        """A glossary read with :func:`read_glossary_csv`."""
        return cls(read_glossary_csv(source))

    def __len__(self) -> int:
        return len(self.entries)

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 hex of the entries in order (the order decides which concept a shared name
        names): the same in every process for the same glossary, so what was computed with it
        (an explanation's key terms) can be stored and found again."""
        return hashlib.sha256(repr(list(self.entries.values())).encode("utf-8")).hexdigest()

    def kind(self, concept: str) -> str | None:
        """The kind of ``concept`` ("place", "crop", ...), None if unknown."""
        entry = self.entries.get(concept)
        return entry.kind if entry else None

    def find(self, text: str) -> list[tuple[str, str]]:
        """(concept, surface) for each occurrence in ``text``, in text order;
        surfaces are as written in ``text``. Where names overlap the longer
        one wins ("TP Lào Cai" before "Lào Cai")."""
        folded = _fold(text)
        # casefold keeps the length of Vietnamese, English and Chinese text, so
        # positions in the folded text are positions in the original
        same_length = len(folded) == len(text)
        hits: list[tuple[int, int, str, str]] = []
        for pattern, haystack, names in ((self._latin, folded, self._folded), (self._cjk, folded, self._folded),
                                         (self._acronyms, text, self._exact)):
            if pattern is None:
                continue
            for m in pattern.finditer(haystack):
                surface = text[m.start():m.end()] if same_length or haystack is text else m.group(0)
                hits.append((m.start(), m.end(), names[m.group(0)], surface))
        hits.sort(key=lambda h: (h[0], h[0] - h[1]))
        out: list[tuple[str, str]] = []
        end = -1
        for start, stop, concept, surface in hits:
            if start >= end:
                out.append((concept, surface))
                end = stop
        return out

    def concepts(self, text: str) -> frozenset[str]:
        """The concept ids named in ``text``."""
        return frozenset(c for c, _ in self.find(text))

    def concept_of(self, term: str) -> str | None:
        """The concept that ``term`` (a whole name) names, or None. Answers are kept (the glossary
        never changes; a changed one is a new object), up to CONCEPT_CACHE_SIZE terms."""
        try:
            return self._concept_of[term]
        except KeyError:
            pass
        name = unicodedata.normalize("NFC", " ".join(term.split()))
        concept = self._exact.get(name) or self._folded.get(_fold(name))
        if len(self._concept_of) < CONCEPT_CACHE_SIZE:
            self._concept_of[term] = concept
        return concept

    def same_concept(self, a: str, b: str) -> bool:
        """True when the terms ``a`` and ``b`` are names of one concept."""
        ca, cb = self.concept_of(a), self.concept_of(b)
        return ca is not None and ca == cb
