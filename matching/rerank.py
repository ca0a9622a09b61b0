"""The second stage: re-ranking the first stage's candidates on richer pair features.

The first stage (:class:`matching.ranking.MatchEngine`) ranks the whole corpus by the debiased
cosine of whole-document vectors. A long need is blurred into one vector ("sensors + farmers +
humidity"), so a generic sensor idea can beat the dryer that solves it. The second stage looks
at each (need, idea) pair of the first stage's top candidates more closely, on features that
are cheap once the texts are embedded (see :data:`FEATURES` and docs/matching.md):

- title against title, and titles against whole texts;
- sentence-level late interaction (ColBERT-style MaxSim, Khattab & Zaharia, SIGIR 2020, here
  over sentence vectors rather than tokens): how well each sentence of one text is covered by
  the best sentence of the other, both ways;
- concepts of the province glossary named by both texts, in any language: technologies and
  problems ("dryer", "landslide") apart from crops, places and institutions, since a hard
  negative shares the crop or the place but not the problem; each concept weighted by its
  inverse document frequency (Spärck Jones, 1972) in the texts the ranker was fitted on, so a
  common concept ("sensor") counts less than a rare one ("dryer");
- the facts a submitter gives: a shared sector, the same place, a stage that fits.

Titles and sentences are debiased with language means estimated on titles and sentences
(:class:`CorpusStatistics`): short texts carry a larger language component than whole
documents, and with the documents' means an unrelated same-language sentence pair still scored
about 0.07 above an unrelated cross-language one. No feature uses the texts' languages or
whether they share one. Every feature is symmetric in
the pair or taken in the fixed orientation (need, idea), so a pair gets one score and one band
whichever side asks. A :class:`Ranker` (a logistic regression fitted by :func:`fit_ranker`)
turns the features into the probability that the idea is relevant to the need; bands are
thresholds on that probability.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .debias import LanguageDebias
from .embedders import Embedder
from .glossary import Glossary
from .ranking import Item, Match, item_text, stage_fit
from .text import split_sentences

__all__ = ["FEATURES", "FACT_FEATURES", "Material", "CorpusStatistics", "corpus_statistics", "item_concepts",
           "materials_for",
           "pair_features", "Ranker", "fit_ranker", "rerank", "RankerFileError", "MAX_SENTENCES", "FORMAT"]

FORMAT = "laocai-ranker/2"  # the ranker file's format; /1 (before CorpusStatistics) is refused

TOPIC_KINDS = ("crop", "place", "institution")  # glossary kinds that say what a text is about, not what it does
MAX_SENTENCES = 24  # sentences per text that the late interaction reads (the rest is rare and costly)

FEATURES = (
    "doc",            # debiased cosine of the whole texts (the first stage's semantic score)
    "title",          # debiased cosine of the two titles
    "title_doc",      # mean of title(need)·text(idea) and text(need)·title(idea)
    "cover_need",     # mean over the need's sentences of the best cosine with an idea sentence
    "cover_idea",     # the same from the idea's sentences
    "best_pair",      # the single best sentence pair
    "shared_methods",  # IDF-weighted sum of the glossary technologies and problems both texts name
    "shared_topics",   # the same for glossary crops, places and institutions
    "title_concepts",  # IDF-weighted share of each title's glossary concepts the other text names (mean of both)
    "sector",         # at least one shared sector (0/1)
    "place",          # same commune/ward or same former district (0/1)
    "stage",          # the idea's stage fits the need's (+1), falls short (-1), unknown (0)
)
# facts a submitter picks rather than text: left out by a text-only evaluation
FACT_FEATURES = ("sector", "place", "stage")


@dataclass(frozen=True)
class Material:
    """What the second stage reads of one item: debiased unit vectors, float32.

    ``doc`` (dim,) the whole text, ``title`` (dim,) the title (the text when there is none),
    ``sentences`` (s, dim) up to :data:`MAX_SENTENCES` sentences, ``methods`` and ``topics``
    the glossary concepts the text names (technologies and other concepts; crops, places and
    institutions). It depends on the item, the embedder, the engine's fitted
    debiasing and the glossary, so it can be cached until one of them changes.
    """

    doc: np.ndarray
    title: np.ndarray
    sentences: np.ndarray
    methods: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    title_concepts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CorpusStatistics:
    """What the features are computed with, estimated without labels on the texts a ranker was
    fitted on, and stored in the ranker file so that the app computes the same features.

    ``document_debias``: a fitted :class:`matching.debias.LanguageDebias` of the raw vectors of
    whole texts, used for the ``doc`` feature instead of the engine's corpus means, so that a
    pair's score does not move when the corpus grows or a process restarts (None: the engine's);
    ``sentence_debias``: the same for titles and sentences (None: the document means);
    ``concept_idf``: concept id -> inverse document frequency ``log((N + 1) / (df + 1))`` over
    the N texts; ``unseen_idf``: the weight of a concept none of them named (``log(N + 1)``)."""

    sentence_debias: LanguageDebias | None = None
    concept_idf: Mapping[str, float] = field(default_factory=dict)
    unseen_idf: float = 1.0
    document_debias: LanguageDebias | None = None

    def weight(self, concepts: frozenset[str]) -> float:
        """Sum of the concepts' IDF."""
        return sum(self.concept_idf.get(c, self.unseen_idf) for c in concepts)

    def to_state(self) -> dict:
        """JSON-ready form (see :meth:`from_state`)."""
        return {"document_means": self.document_debias.to_state() if self.document_debias else None,
                "sentence_means": self.sentence_debias.to_state() if self.sentence_debias else None,
                "concept_idf": {k: round(v, 4) for k, v in sorted(self.concept_idf.items())},
                "unseen_idf": self.unseen_idf}

    @classmethod
    def from_state(cls, state: dict) -> CorpusStatistics:
        """Inverse of :meth:`to_state`. Raises KeyError/TypeError/ValueError on a bad state."""
        means, docs = state.get("sentence_means"), state.get("document_means")
        return cls(LanguageDebias.from_state(means) if means else None,
                   {str(k): float(v) for k, v in state["concept_idf"].items()}, float(state["unseen_idf"]),
                   LanguageDebias.from_state(docs) if docs else None)


NO_STATISTICS = CorpusStatistics()  # every concept weighs 1; sentences use the documents' means


def corpus_statistics(items: Sequence[Item], embedder: Embedder, glossary: Glossary | None) -> CorpusStatistics:
    """Estimate :class:`CorpusStatistics` on ``items`` (the texts a ranker is fitted on): one
    ``embedder.embed`` call for their whole texts, titles and sentences (as :func:`material_texts`
    cuts them), each language's means fitted by :class:`LanguageDebias`; concept document
    frequencies from ``glossary`` (None: no concepts). Reads no labels."""
    documents = [item_text(it) for it in items]
    texts: list[str] = []
    langs: list[str] = []
    df: Counter = Counter()
    for it in items:
        title, sentences = material_texts(it)
        texts += [title, *sentences]
        langs += [it.lang] * (1 + len(sentences))
        df.update(item_concepts(it, glossary))
    if not items:
        return CorpusStatistics()
    vecs = embedder.embed(documents + texts, "query")
    n = len(items)
    return CorpusStatistics(LanguageDebias().fit(vecs[n:], langs),
                            {c: math.log((n + 1) / (d + 1)) for c, d in df.items()}, math.log(n + 1),
                            LanguageDebias().fit(vecs[:n], [it.lang for it in items]))


def item_concepts(item: Item, glossary: Glossary | None) -> frozenset[str]:
    """The glossary concepts ``item`` names in its title or text (empty without a glossary): the
    one reading the second stage, the corpus statistics and the duplicate check share."""
    return glossary.concepts(f"{item.title}\n{item.text}") if glossary is not None else frozenset()


def material_texts(item: Item) -> tuple[str, list[str]]:
    """(title text, sentences) of ``item`` that :func:`materials_for` embeds."""
    text = item_text(item)
    return (item.title.strip() or text), split_sentences(text)[:MAX_SENTENCES]


def materials_for(items: Sequence[Item], doc_vecs: np.ndarray, embedder: Embedder | None,
                  debias: LanguageDebias | None, glossary: Glossary | None = None,
                  stats: CorpusStatistics = NO_STATISTICS) -> dict[str, Material]:
    """:class:`Material` of each item, by id, from ONE ``embedder.embed`` call (a cached
    embedder answers from its store). ``doc_vecs`` float32 (len(items), dim): the items' raw
    document vectors; ``debias``: the engine's fitted :class:`LanguageDebias`, used where
    ``stats`` (the ranker's :class:`CorpusStatistics`) has no means of its own (None: vectors
    used raw); ``glossary``: for the concepts (None: no concepts). Documents use
    ``stats.document_debias``, titles and sentences ``stats.sentence_debias`` (short texts whose
    language component differs from a whole document's), each falling back as said.

    With ``embedder`` None nothing is embedded: each item's document vector stands for its title
    and its sentences (a *provisional* material, for a candidate whose sentences are not embedded
    yet; its features are coarser until they are)."""
    debias = stats.document_debias or debias
    if not items:
        return {}
    parts = [material_texts(it) if embedder is not None else ("", []) for it in items]
    texts: list[str] = []
    for title, sentences in parts:
        texts.append(title)
        texts.extend(sentences)
    raw = embedder.embed(texts, "query") if embedder is not None else np.zeros((len(texts), 0), np.float32)
    langs: list[str] = []
    for it, (_, sentences) in zip(items, parts):
        langs.extend([it.lang] * (1 + len(sentences)))
    docs = np.asarray(doc_vecs, np.float32).reshape(len(items), -1)
    short = stats.sentence_debias or debias
    if short is not None and embedder is not None:
        raw = short.transform(raw, langs)
    if debias is not None:
        docs = debias.transform(docs, [it.lang for it in items])
    out: dict[str, Material] = {}
    pos = 0
    for k, (it, (_, sentences)) in enumerate(zip(items, parts)):
        title = raw[pos] if embedder is not None else docs[k]
        sents = raw[pos + 1: pos + 1 + len(sentences)]
        pos += 1 + len(sentences)
        concepts = item_concepts(it, glossary)
        topics = frozenset(c for c in concepts if glossary.kind(c) in TOPIC_KINDS)
        title_concepts = glossary.concepts(it.title) if glossary is not None else frozenset()
        out[it.id] = Material(doc=docs[k], title=title, sentences=sents if len(sents) else docs[k][None, :],
                              methods=concepts - topics, topics=topics, title_concepts=title_concepts)
    return out


def pair_features(need: Item, idea: Item, n: Material, i: Material, text_only: bool = False,
                  stats: CorpusStatistics = NO_STATISTICS) -> np.ndarray:
    """float64 (len(FEATURES),) features of the pair (need, idea); see :data:`FEATURES`.
    With ``text_only`` the submitter's facts (sector, place, stage) are 0; ``stats`` weighs the
    glossary concepts (the ranker's own, :attr:`Ranker.stats`)."""
    sim = n.sentences @ i.sentences.T
    if text_only:
        sector = place = stage = 0.0
    else:
        sector = float(bool(need.sectors & idea.sectors))
        place = float(bool((need.place and need.place == idea.place)
                           or (need.place_group and need.place_group == idea.place_group)))
        fit = stage_fit(idea, need)
        stage = 0.0 if fit is None else (1.0 if fit else -1.0)
    return np.array([
        float(n.doc @ i.doc),
        float(n.title @ i.title),
        0.5 * float(n.title @ i.doc + n.doc @ i.title),
        float(sim.max(axis=1).mean()),
        float(sim.max(axis=0).mean()),
        float(sim.max()),
        stats.weight(n.methods & i.methods),
        stats.weight(n.topics & i.topics),
        0.5 * (_covered(n.title_concepts, i.methods | i.topics, stats)
               + _covered(i.title_concepts, n.methods | n.topics, stats)),
        sector,
        place,
        stage,
    ])


def _covered(wanted: frozenset[str], found: frozenset[str], stats: CorpusStatistics) -> float:
    """IDF-weighted share of ``wanted`` that is in ``found`` (0 when nothing is wanted)."""
    total = stats.weight(wanted)
    return stats.weight(wanted & found) / total if total > 0 else 0.0


class RankerFileError(ValueError):
    """A ranker file cannot be read or does not fit this code (the message says why)."""


@dataclass
class Ranker:
    """A fitted second stage: standardised features -> logistic regression -> probability.

    ``coef`` (len(features),), ``mean``/``scale`` the standardisation, ``bands`` probability
    thresholds {"strong", "good", "possible"}, ``meta`` what it was fitted on and how well
    it did (see :func:`fit_ranker`), ``version`` an increasing integer, ``stats`` the
    :class:`CorpusStatistics` its features are computed with (materials for it must be made
    with ``stats.sentence_debias``).
    """

    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    bands: dict[str, float]
    meta: dict = field(default_factory=dict)
    version: int = 1
    stats: CorpusStatistics = NO_STATISTICS

    def probability(self, x: np.ndarray) -> np.ndarray:
        """float64 (n,): P(relevant) for rows of features ``x`` (n, len(features))."""
        x = np.atleast_2d(np.asarray(x, float))
        logit = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-logit))

    def band(self, p: float) -> str:
        """Band of a probability: "strong", "good", "possible" or "weak"."""
        for name in ("strong", "good", "possible"):
            if p >= self.bands[name]:
                return name
        return "weak"

    def to_json(self) -> str:
        """The ranker as a JSON document (no pickle: a file anyone can read and diff)."""
        return json.dumps({"format": FORMAT, "version": self.version, "statistics": self.stats.to_state(),
                           "features": list(self.features), "coef": self.coef.tolist(),
                           "intercept": self.intercept, "mean": self.mean.tolist(),
                           "scale": self.scale.tolist(), "bands": self.bands, "meta": self.meta},
                          ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "ranker") -> Ranker:
        """Read :meth:`to_json`'s output. Raises :class:`RankerFileError`."""
        try:
            d = json.loads(text)
            if d.get("format") == "laocai-ranker/1":
                raise RankerFileError(f"{source}: fitted by an earlier version of the app (format 1, without "
                                      "corpus statistics); fit a new one with flask --app app fit-ranker")
            if d.get("format") != FORMAT:
                raise RankerFileError(f"{source}: not a ranker file (format {d.get('format')!r})")
            features = tuple(d["features"])
            unknown = set(features) - set(FEATURES)
            if unknown:
                raise RankerFileError(f"{source}: unknown features {sorted(unknown)}")
            ranker = cls(features, np.asarray(d["coef"], float), float(d["intercept"]),
                         np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                         {k: float(d["bands"][k]) for k in ("strong", "good", "possible")},
                         d.get("meta", {}), int(d["version"]), CorpusStatistics.from_state(d["statistics"]))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, RankerFileError):
                raise
            raise RankerFileError(f"{source}: {exc}") from exc
        if not (len(ranker.coef) == len(ranker.mean) == len(ranker.scale) == len(features)):
            raise RankerFileError(f"{source}: coefficients and features differ in length")
        return ranker

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        """Read a ranker file. Raises :class:`RankerFileError`."""
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise RankerFileError(f"{path}: {exc}") from exc

    def columns(self, x: np.ndarray) -> np.ndarray:
        """Select this ranker's columns from a full :data:`FEATURES` matrix (n, len(FEATURES))."""
        idx = [FEATURES.index(f) for f in self.features]
        return np.atleast_2d(x)[:, idx]


def fit_ranker(x: np.ndarray, grade: np.ndarray, features: Sequence[str] = FEATURES, c: float = 1.0,
               bands: dict[str, float] | None = None, meta: dict | None = None, version: int = 1,
               stats: CorpusStatistics = NO_STATISTICS) -> Ranker:
    """Fit a :class:`Ranker` on labelled pairs.

    ``x`` float (n, len(FEATURES)) from :func:`pair_features`; ``grade`` int (n,) 0/1/2 (2 = the
    idea solves the need, 1 = partly, 0 = not relevant); ``features`` the columns to use; ``c``
    the inverse L2 strength of scikit-learn's ``LogisticRegression``; ``stats`` what ``x`` was
    computed with (kept in the ranker). The target is "relevant"
    (grade > 0) with grade-2 pairs weighted twice, so the probability orders strong fits first.
    """
    from sklearn.linear_model import LogisticRegression

    idx = [FEATURES.index(f) for f in features]
    xs = np.asarray(x, float)[:, idx]
    grade = np.asarray(grade)
    mean, scale = xs.mean(axis=0), xs.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((xs - mean) / scale, (grade > 0).astype(int), sample_weight=np.where(grade == 2, 2.0, 1.0))
    return Ranker(tuple(features), model.coef_[0].astype(float), float(model.intercept_[0]), mean, scale,
                  bands or {"strong": 0.7, "good": 0.5, "possible": 0.3}, dict(meta or {}), version, stats)


def rerank(query: Item, matches: Sequence[Match], items: Mapping[str, Item],
           materials: Mapping[str, Material], ranker: Ranker,
           text_only: bool = False) -> list[Match]:
    """Re-score the first stage's ``matches`` for ``query`` with ``ranker``, best first.

    ``items``/``materials``: by id, for the query and every candidate, made with
    ``ranker.stats.sentence_debias`` (a candidate missing
    from either keeps its place below the re-scored ones, band "weak"). Returns new
    :class:`Match` objects: ``score`` the probability, ``band`` from it, ``z`` the first
    stage's z, ``semantic`` unchanged."""
    q_mat = materials.get(query.id)
    scored, rest = [], []
    for m in matches:
        cand, c_mat = items.get(m.item_id), materials.get(m.item_id)
        if q_mat is None or cand is None or c_mat is None:
            rest.append(replace(m, band="weak", score=0.0))
            continue
        need, idea, n_mat, i_mat = ((query, cand, q_mat, c_mat) if query.side == "need"
                                    else (cand, query, c_mat, q_mat))
        scored.append((m, pair_features(need, idea, n_mat, i_mat, text_only, ranker.stats)))
    if not scored:
        return rest
    p = ranker.probability(ranker.columns(np.stack([f for _, f in scored])))
    out = [replace(m, score=float(prob), band=ranker.band(float(prob))) for (m, _), prob in zip(scored, p)]
    out.sort(key=lambda m: -m.score)
    return out + rest
