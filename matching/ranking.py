"""Ranking ideas against technology needs / research orders, and the reverse.

Score = debiased cosine + small facet terms (see :class:`Weights`); the
display band comes from the per-query standardised score (see
:class:`BandThresholds`), never from a raw cosine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Collection, Sequence

import numpy as np

from .debias import LanguageDebias
from .index import VectorIndex
from .lexical import LexicalScorer

__all__ = ["Item", "Weights", "DEFAULT_WEIGHTS", "BandThresholds", "DEFAULT_BANDS", "Match",
           "MatchEngine", "LanguageDebias", "item_text", "BANDS", "STAGES"]

SIDES = ("idea", "need")
STAGES = ("idea", "prototype", "pilot", "market")
BANDS = ("strong", "good", "possible", "weak")  # best first


@dataclass(frozen=True)
class Item:
    """One idea, technology need or research order as the matcher sees it.

    ``side`` is "idea" or "need" (research orders are side "need", kind
    "research_order"); ``place`` a commune/ward code, ``place_group`` the
    former district used for proximity; ``stage`` one of :data:`STAGES`.
    """

    id: str
    side: str
    kind: str
    lang: str
    text: str
    title: str = ""
    sectors: frozenset[str] = frozenset()
    place: str | None = None
    place_group: str | None = None
    stage: str | None = None
    trl: int | None = None
    deadline: date | None = None
    keywords: tuple[str, ...] = ()

    def __post_init__(self):
        if self.side not in SIDES:
            raise ValueError(f"Item.side must be one of {SIDES}, got {self.side!r}")


def item_text(item: Item) -> str:
    """The text embedded for ``item``: title and description, one per line."""
    return "\n".join(p for p in (item.title.strip(), item.text.strip()) if p)


@dataclass(frozen=True)
class Weights:
    """How the combined score is built (all added to the debiased cosine,
    whose spread between a relevant and an unrelated pair is ~0.3-0.5).

    - ``lexical``: TF-IDF char n-gram cosine, centred over same-language
      candidates (so it re-orders within a language without favouring it).
    - ``sector``: at least one shared sector.
    - ``place_group`` / ``place``: same former district / same commune.
    - ``stage``: idea's stage fits the need's (see :func:`stage_fit`); a
      misfit subtracts ``stage_mismatch``.
    """

    lexical: float = 0.10
    sector: float = 0.06
    place_group: float = 0.01
    place: float = 0.01
    stage: float = 0.01
    stage_mismatch: float = 0.02


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class BandThresholds:
    """Minimum per-query z-score of the combined score for each band.

    z = (score - mean) / std over the query's whole eligible pool; pools
    smaller than ``min_pool`` are blended with ``prior_mean``/``prior_std``
    (z of the combined score in a typical pool is ~N(0,1), so the prior is
    the typical *score* distribution measured on the dev set).
    """

    # fitted on seed_data/eval/laocai-dev.json by matching.calibration
    # (targets: strong 85% grade-2, good 70% relevant, possible 35% relevant)
    strong: float = 2.26
    good: float = 1.72
    possible: float = 1.31
    prior_mean: float = -0.01
    prior_std: float = 0.11
    prior_strength: float = 8.0

    def band(self, z: float) -> str:
        """Band name for a z-score."""
        if z >= self.strong:
            return "strong"
        if z >= self.good:
            return "good"
        if z >= self.possible:
            return "possible"
        return "weak"


DEFAULT_BANDS = BandThresholds()


@dataclass
class Match:
    """One ranked candidate. ``score`` orders results only; show ``band``.
    ``facets``: shared_sectors (list), same_place, same_place_group (bool),
    stage_fit (True/False/None), deadline_open (True/None)."""

    item_id: str
    score: float
    band: str
    semantic: float
    facets: dict = field(default_factory=dict)
    z: float = 0.0


def stage_fit(idea: Item, need: Item) -> bool | None:
    """True if the idea is at most one stage short of the stage (or TRL) the
    need asks for, False if further behind, None when either is unknown."""
    if idea.stage in STAGES and need.stage in STAGES:
        return STAGES.index(idea.stage) >= STAGES.index(need.stage) - 1
    if idea.trl is not None and need.trl is not None:
        return idea.trl >= need.trl - 2
    return None


def _passes(band: str, min_band: str) -> bool:
    return BANDS.index(band) <= BANDS.index(min_band)


class _Side:
    """Items of one side with their raw vectors, kept in index row order."""

    def __init__(self, dim: int):
        self.index = VectorIndex(dim)
        self.items: dict[str, Item] = {}

    def ordered_items(self) -> list[Item]:
        return [self.items[i] for i in self.index.ids]


class MatchEngine:
    """Holds ideas and needs with their vectors; ranks one side against the other.

    ``dim``: embedding size (384 for e5-small); ``weights``/``bands``: see
    :class:`Weights`, :class:`BandThresholds`; ``debias``: remove per-language
    means (:class:`LanguageDebias`); ``lexical``: enable the TF-IDF term.
    Derived matrices are rebuilt lazily after add/remove.
    """

    def __init__(self, dim: int = 384, weights: Weights = DEFAULT_WEIGHTS, debias: bool = True,
                 bands: BandThresholds = DEFAULT_BANDS, lexical: bool = True,
                 debias_prior_strength: float = 5.0, debias_strength: float = 1.0):
        self.dim = dim
        self.weights = weights
        self.bands = bands
        self.debias = debias
        self.lexical = lexical and weights.lexical != 0
        self._sides = {s: _Side(dim) for s in SIDES}
        self._debiaser = LanguageDebias(debias_prior_strength, debias_strength)
        self._lex = LexicalScorer()
        self._dirty = True
        self._cache: dict[str, dict] = {}

    # -- content ------------------------------------------------------------
    def add(self, items: Sequence[Item], vecs: np.ndarray) -> None:
        """Add or replace ``items`` with their vectors, float32 (len(items), dim)
        from the same embedder (role "query", see docs/matching.md)."""
        vecs = np.asarray(vecs, np.float32).reshape(len(items), self.dim)
        for item, vec in zip(items, vecs):
            other = self._sides["need" if item.side == "idea" else "idea"]
            if item.id in other.items:  # an id changed side: keep one copy
                other.index.remove([item.id])
                del other.items[item.id]
            side = self._sides[item.side]
            side.items[item.id] = item
            side.index.add([item.id], vec[None, :])
        self._dirty = True

    def remove(self, ids: Collection[str]) -> None:
        """Forget ``ids`` (unknown ids are ignored)."""
        for side in self._sides.values():
            gone = [i for i in ids if i in side.items]
            side.index.remove(gone)
            for i in gone:
                del side.items[i]
        self._dirty = True

    def __len__(self) -> int:
        return sum(len(s.items) for s in self._sides.values())

    def get(self, item_id: str) -> Item | None:
        """The stored :class:`Item` with this id, or None."""
        for side in self._sides.values():
            if item_id in side.items:
                return side.items[item_id]
        return None

    # -- derived state ------------------------------------------------------
    def _refresh(self) -> None:
        if not self._dirty:
            return
        all_items = [it for s in SIDES for it in self._sides[s].ordered_items()]
        all_vecs = np.concatenate([self._sides[s].index.vectors for s in SIDES])
        if self.debias and len(all_items):
            self._debiaser.fit(all_vecs, [it.lang for it in all_items])
        if self.lexical and len(all_items):
            self._lex.fit([item_text(it) for it in all_items])
        self._cache = {}
        sectors = sorted({s for it in all_items for s in it.sectors})
        self._sector_col = {s: j for j, s in enumerate(sectors)}
        for name in SIDES:
            side = self._sides[name]
            items = side.ordered_items()
            raw = side.index.vectors
            vecs = self._debiaser.transform(raw, [it.lang for it in items]) if (
                self.debias and len(items)) else raw.copy()
            sec = np.zeros((len(items), max(len(sectors), 1)), np.float32)
            for r, it in enumerate(items):
                for s in it.sectors:
                    sec[r, self._sector_col[s]] = 1.0
            self._cache[name] = {
                "items": items, "ids": side.index.ids, "vecs": vecs, "sectors": sec,
                "langs": np.asarray([it.lang for it in items], dtype=object),
                "place": np.asarray([it.place or "" for it in items], dtype=object),
                "group": np.asarray([it.place_group or "" for it in items], dtype=object),
                "lex": self._lex.transform([item_text(it) for it in items]) if (
                    self.lexical and len(items)) else None,
            }
        self._dirty = False

    def _query_vec(self, query: Item, query_vec: np.ndarray) -> np.ndarray:
        q = np.asarray(query_vec, np.float32).reshape(1, self.dim)
        if self.debias and len(self):
            q = self._debiaser.transform(q, [query.lang])
        return q[0]

    def _scores(self, query: Item, query_vec: np.ndarray, side: str):
        """Semantic and combined scores of every item of ``side`` (float32 (n,))."""
        self._refresh()
        c = self._cache[side]
        n = len(c["ids"])
        if n == 0:
            z = np.zeros(0, np.float32)
            return c, z, z
        sem = c["vecs"] @ self._query_vec(query, query_vec)
        w = self.weights
        combined = sem.astype(np.float32).copy()
        if self.lexical and c["lex"] is not None:
            lex = self._lex.similarity(item_text(query), c["lex"])
            same = c["langs"] == query.lang
            if same.any():
                # centred within the query's language: reorders same-language
                # candidates without lifting them above other languages
                combined += w.lexical * np.where(same, lex - lex[same].mean(), 0.0).astype(np.float32)
        if query.sectors and w.sector:
            qs = np.zeros(c["sectors"].shape[1], np.float32)
            for s in query.sectors:
                if s in self._sector_col:
                    qs[self._sector_col[s]] = 1.0
            combined += w.sector * (c["sectors"] @ qs > 0)
        if query.place_group and w.place_group:
            combined += w.place_group * (c["group"] == query.place_group)
        if query.place and w.place:
            combined += w.place * (c["place"] == query.place)
        if w.stage or w.stage_mismatch:
            fits = [stage_fit(query, it) if query.side == "idea" else stage_fit(it, query)
                    for it in c["items"]] if side != query.side else None
            if fits is not None and any(f is not None for f in fits):
                combined += np.array([w.stage if f else (-w.stage_mismatch if f is False else 0.0)
                                      for f in fits], np.float32)
        return c, sem, combined

    def _standardise(self, combined: np.ndarray, eligible: np.ndarray) -> np.ndarray:
        pool = combined[eligible]
        b = self.bands
        n, k = len(pool), b.prior_strength
        mean = (pool.sum() + k * b.prior_mean) / (n + k)
        var = (((pool - mean) ** 2).sum() + k * (b.prior_std ** 2 + (b.prior_mean - mean) ** 2)) / (n + k)
        return (combined - mean) / max(float(np.sqrt(var)), 1e-6)

    def _facets(self, query: Item, cand: Item, today: date) -> dict:
        idea, need = (query, cand) if query.side == "idea" else (cand, query)
        cross = query.side != cand.side
        facets = {
            "shared_sectors": sorted(query.sectors & cand.sectors),
            "same_place": bool(query.place and query.place == cand.place),
            "same_place_group": bool(query.place_group and query.place_group == cand.place_group),
            "stage_fit": stage_fit(idea, need) if cross else None,
            "deadline_open": (True if need.deadline and need.deadline >= today else None) if cross else None,
        }
        return facets

    def _select(self, query, c, sem, combined, eligible, top_k, today, candidate_ids, min_band):
        z = self._standardise(combined, eligible) if eligible.any() else combined
        shown = eligible.copy()
        if candidate_ids is not None:
            wanted = set(candidate_ids)
            shown &= np.fromiter((i in wanted for i in c["ids"]), bool, len(c["ids"]))
        threshold = {"strong": self.bands.strong, "good": self.bands.good,
                     "possible": self.bands.possible, "weak": -np.inf}[min_band]
        shown &= z >= threshold
        k = min(top_k, int(shown.sum()))
        if k <= 0:
            return []
        masked = np.where(shown, combined, -np.inf)
        top = np.argpartition(-masked, k - 1)[:k]
        top = top[np.argsort(-masked[top], kind="stable")]
        out = []
        for r in top:
            cand = c["items"][r]
            out.append(Match(item_id=cand.id, score=float(combined[r]),
                             band=self.bands.band(float(z[r])), semantic=float(sem[r]),
                             facets=self._facets(query, cand, today), z=float(z[r])))
        return out

    # -- queries ------------------------------------------------------------
    def rank(self, query: Item, query_vec: np.ndarray, top_k: int = 10, today: date | None = None,
             exclude: Collection[str] = (), candidate_ids: Collection[str] | None = None,
             min_band: str = "weak") -> list[Match]:
        """Best items on the OTHER side for ``query`` (idea -> needs/orders,
        need/order -> ideas), best first.

        ``query_vec``: float32 (dim,) from the same embedder as the stored
        vectors. Needs whose deadline is before ``today`` (default: today)
        are never proposed to an idea. ``exclude``: ids to skip;
        ``candidate_ids``: restrict results to these ids (bands still use the
        whole pool); ``min_band``: drop results below this band.
        """
        if min_band not in BANDS:
            raise ValueError(f"min_band must be one of {BANDS}")
        today = today or date.today()
        side = "need" if query.side == "idea" else "idea"
        c, sem, combined = self._scores(query, query_vec, side)
        if not len(c["ids"]):
            return []
        eligible = np.ones(len(c["ids"]), bool)
        if side == "need":
            eligible &= np.fromiter((not (it.deadline and it.deadline < today) for it in c["items"]),
                                    bool, len(c["items"]))
        skip = set(exclude) | {query.id}
        if skip:
            eligible &= np.fromiter((i not in skip for i in c["ids"]), bool, len(c["ids"]))
        return self._select(query, c, sem, combined, eligible, top_k, today, candidate_ids, min_band)

    def similar(self, query: Item, query_vec: np.ndarray, top_k: int = 5,
                exclude: Collection[str] = (), min_band: str = "possible") -> list[Match]:
        """Items on the SAME side as ``query`` (duplicate detection while an
        idea is being written, in any language), best first, at least
        ``min_band``. The query's own id is always skipped."""
        if min_band not in BANDS:
            raise ValueError(f"min_band must be one of {BANDS}")
        c, sem, combined = self._scores(query, query_vec, query.side)
        if not len(c["ids"]):
            return []
        skip = set(exclude) | {query.id}
        eligible = np.fromiter((i not in skip for i in c["ids"]), bool, len(c["ids"]))
        return self._select(query, c, sem, combined, eligible, top_k, date.today(), None, min_band)
