"""Why a candidate was proposed: best-matching sentence pairs, key terms
shared across languages, and facet reason codes.

Returns codes and original text fragments only; the app translates codes
into the viewer's language. One batched ``embedder.embed`` call per
explanation, so a :class:`~matching.embedders.CachedEmbedder` caches it all.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .embedders import Embedder
from .ranking import Item, item_text, stage_fit
from .stopwords import STOPWORDS
from .text import split_sentences

# Reason codes (the app owns their wording): see docs/matching.md.
REASON_CODES = ("same_sector", "same_place", "same_place_group", "stage_fits", "stage_early",
                "deadline_open")


@dataclass
class SentencePair:
    """A sentence of the query and the candidate sentence that best matches
    it; ``strength`` is a band ("strong", "good", "possible")."""

    query_sentence: str
    candidate_sentence: str
    strength: str


@dataclass
class TermPair:
    """A key term of the query and its counterpart in the candidate (the same
    string, or a translation/synonym found by the embedder)."""

    query_term: str
    candidate_term: str


@dataclass
class Explanation:
    """``facets``: list of (reason code, value) tuples, see REASON_CODES."""

    sentence_pairs: list[SentencePair] = field(default_factory=list)
    shared_terms: list[TermPair] = field(default_factory=list)
    facets: list[tuple[str, object]] = field(default_factory=list)


_WORD = re.compile(r"[^\W\d_][\w\-']*", re.UNICODE)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def key_terms(text: str, lang: str, keywords: tuple[str, ...] = (), max_terms: int = 20) -> list[str]:
    """Candidate key terms of ``text``: the ``keywords`` first, then frequent
    content n-grams (2-4 syllables for vi, 1-3 words for en, 2-4 characters of CJK runs for zh),
    without stopwords at either end. Returns original-case strings."""
    stop = STOPWORDS.get(lang, frozenset()) | STOPWORDS["en"]
    counts: Counter = Counter()
    surface: dict[str, str] = {}
    if lang == "zh":
        zstop = STOPWORDS["zh"]
        for run in _CJK_RUN.findall(text):
            for n in (2, 3, 4):
                for i in range(len(run) - n + 1):
                    g = run[i:i + n]
                    if g[0] in zstop or g[-1] in zstop:
                        continue
                    counts[g] += 1
                    surface.setdefault(g, g)
    for line in split_sentences(text):
        words = _WORD.findall(line)
        if lang == "zh":  # CJK runs were handled above; keep Latin words only
            words = [w for w in words if not _CJK_RUN.search(w)]
        # Vietnamese words are 1-4 syllables written apart; English terms 1-3 words
        for n in ((2, 3, 4) if lang == "vi" else (1, 2, 3)):
            for i in range(len(words) - n + 1):
                gram = words[i:i + n]
                low = [w.lower() for w in gram]
                if any(w in stop or len(w) < 2 for w in low):
                    continue
                key = " ".join(low)
                counts[key] += 1
                surface.setdefault(key, " ".join(gram))
    # "tác xã" inside "hợp tác xã": drop a gram no more frequent than a
    # longer gram that contains it
    grams = sorted(counts, key=len, reverse=True)
    for g in grams:
        if any(g != h and g in h and counts[h] >= counts[g] for h in grams if len(h) > len(g)):
            counts[g] = 0
    for g in grams:
        counts[g] *= 1 + 0.5 * (g.count(" ") if lang != "zh" else len(g) - 2)
    terms = [k.strip() for k in keywords if k.strip()]
    seen = {t.lower() for t in terms}
    for key, score in counts.most_common():
        if len(terms) >= max_terms or score <= 0:
            break
        if key not in seen:
            terms.append(surface[key])
            seen.add(key)
    return terms


def _bands_from_matrix(sim: np.ndarray, prior_mean: float, prior_std: float, k: float = 6.0) -> np.ndarray:
    """Per-entry z of a similarity matrix against its own distribution,
    shrunk to a prior for tiny matrices (same idea as the match bands)."""
    flat = sim.ravel()
    n = len(flat)
    mean = (flat.sum() + k * prior_mean) / (n + k)
    var = (((flat - mean) ** 2).sum() + k * prior_std ** 2) / (n + k)
    return (sim - mean) / max(float(np.sqrt(var)), 1e-6)


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


def explanation_parts(item: Item, max_sentences: int = 40) -> tuple[list[str], list[str]]:
    """The sentences and key terms of ``item`` that :func:`explain` embeds.
    Embedding them when an item is saved makes later explanations cache hits."""
    text = item_text(item)
    return split_sentences(text)[:max_sentences], key_terms(text, item.lang, item.keywords)


def texts_to_embed(item: Item, max_sentences: int = 40) -> list[str]:
    """All texts :func:`explain` will embed for ``item`` (role "query")."""
    sentences, terms = explanation_parts(item, max_sentences)
    return sentences + terms


def explain(query: Item, candidate: Item, embedder: Embedder, max_pairs: int = 3,
            max_terms: int = 8, max_sentences: int = 40, today: date | None = None,
            z_strong: float = 2.5, z_good: float = 1.5, z_possible: float = 0.5, z_terms: float = 2.0) -> Explanation:
    """Explain one proposed match.

    Sentence pairs: greedy best pairs (each sentence used once) by cosine,
    banded by z against all sentence pairs of the two texts. Shared terms:
    identical terms, then pairs that are each other's best match with z >=
    ``z_terms``. All vectors come from ONE ``embedder.embed(..., "query")``.
    """
    qs, qt = explanation_parts(query, max_sentences)
    cs, ct = explanation_parts(candidate, max_sentences)
    texts = qs + cs + qt + ct
    vecs = embedder.embed(texts, "query") if texts else np.zeros((0, embedder.dim), np.float32)
    a, b = len(qs), len(qs) + len(cs)
    c = b + len(qt)
    result = Explanation(facets=facet_reasons(query, candidate, today))

    if qs and cs:
        sim = vecs[:a] @ vecs[a:b].T
        z = _bands_from_matrix(sim, prior_mean=0.78, prior_std=0.04)
        used_q, used_c = set(), set()
        for flat in np.argsort(-sim, axis=None):
            i, j = divmod(int(flat), sim.shape[1])
            if i in used_q or j in used_c:
                continue
            if z[i, j] < z_possible and result.sentence_pairs:
                break
            strength = "strong" if z[i, j] >= z_strong else "good" if z[i, j] >= z_good else "possible"
            result.sentence_pairs.append(SentencePair(qs[i], cs[j], strength))
            used_q.add(i)
            used_c.add(j)
            if len(result.sentence_pairs) >= max_pairs:
                break

    if qt and ct:
        sim = vecs[b:c] @ vecs[c:].T
        z = _bands_from_matrix(sim, prior_mean=0.80, prior_std=0.04)
        pairs: list[tuple[float, int, int]] = []
        low_c = [t.lower() for t in ct]
        for i, term in enumerate(qt):
            if term.lower() in low_c:
                pairs.append((2.0, i, low_c.index(term.lower())))
        best_c = sim.argmax(axis=1)
        best_q = sim.argmax(axis=0)
        for i, j in enumerate(best_c):
            if best_q[j] == i and z[i, j] >= z_terms:
                pairs.append((float(sim[i, j]), i, int(j)))
        used_q, used_c = set(), set()
        for _, i, j in sorted(pairs, key=lambda p: -p[0]):
            if i in used_q or j in used_c:
                continue
            result.shared_terms.append(TermPair(qt[i], ct[j]))
            used_q.add(i)
            used_c.add(j)
            if len(result.shared_terms) >= max_terms:
                break
    return result
