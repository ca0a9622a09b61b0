"""Ranking ideas against technology needs / research orders, and the reverse.

Score = debiased cosine + small facet terms (see :class:`Weights`); the
display band comes from the per-query standardised score (see
:class:`BandThresholds`), never from a raw cosine.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

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

    def __reduce__(self):
        # pickled as plain values, its sectors a tuple: unpickling 110k frozensets took 0.7 s of the
        # 2.9 s a saved index takes to load (services/index_snapshot.py)
        return (_item, (self.id, self.side, self.kind, self.lang, self.text, self.title, tuple(self.sectors),
                        self.place, self.place_group, self.stage, self.trl, self.deadline, self.keywords))


_SECTOR_SETS: dict[tuple[str, ...], frozenset[str]] = {}  # few distinct sets: unpickled items share them


def _item(id, side, kind, lang, text, title, sectors, *rest) -> Item:  # noqa: A002 (Item's own field name)
    """An :class:`Item` from the values :meth:`Item.__reduce__` pickles."""
    return Item(id, side, kind, lang, text, title, _SECTOR_SETS.setdefault(sectors, frozenset(sectors)), *rest)


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


class _Side:
    """Items of one side with their raw vectors, kept in index row order."""

    def __init__(self, dim: int):
        self.index = VectorIndex(dim)
        self.items: dict[str, Item] = {}

    def ordered_items(self) -> list[Item]:
        return [self.items[i] for i in self.index.ids]


_NO_DEADLINE = np.iinfo(np.int64).max  # ordinal of a need without deadline: never expires
_STAGE_INDEX = {s: k for k, s in enumerate(STAGES)}


class _Table:
    """Derived, query-ready arrays of one side, one slot per item.

    Everything ``rank`` needs per candidate is a numpy column (debiased
    vectors, language/place codes, stage index, TRL, deadline ordinal,
    sector flags, alive flag), so masks and facet terms are array operations.
    Slots never move between full fits: new items are appended (buffers grow
    geometrically), removed ones are tombstoned (``alive`` False, row id
    forgotten) and dropped at the next full fit. The TF-IDF rows are kept as
    the matrix of the last full fit (``lex_base``) plus the rows appended
    since (``lex_tail``), slot order.
    """

    def __init__(self, dim: int, capacity: int):
        cap = max(capacity, 16)
        self.n = 0
        self.n_alive = 0
        self.items: list[Item | None] = []
        self.ids: list[str | None] = []
        self.row: dict[str, int] = {}
        self._vecs = np.zeros((cap, dim), np.float32)
        self._alive = np.zeros(cap, bool)
        self._lang = np.zeros(cap, np.int32)
        self._place = np.zeros(cap, np.int32)
        self._group = np.zeros(cap, np.int32)
        self._stage = np.full(cap, -1, np.int8)
        self._trl = np.full(cap, np.nan, np.float64)
        self._deadline = np.full(cap, _NO_DEADLINE, np.int64)
        self.sector_col: dict[str, int] = {}
        self._sectors = np.zeros((cap, 1), bool)
        self.lex_base = None
        self.lex_tail = None

    # views over the used slots
    vecs = property(lambda self: self._vecs[: self.n])
    alive = property(lambda self: self._alive[: self.n])
    lang = property(lambda self: self._lang[: self.n])
    place = property(lambda self: self._place[: self.n])
    group = property(lambda self: self._group[: self.n])
    stage = property(lambda self: self._stage[: self.n])
    trl = property(lambda self: self._trl[: self.n])
    deadline = property(lambda self: self._deadline[: self.n])
    sectors = property(lambda self: self._sectors[: self.n])

    def _grow(self, need: int) -> None:
        cap = len(self._alive)
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name in ("_vecs", "_alive", "_lang", "_place", "_group", "_stage", "_trl", "_deadline",
                     "_sectors"):
            old = getattr(self, name)
            grown = np.empty((new_cap,) + old.shape[1:], old.dtype)
            grown[: self.n] = old[: self.n]
            setattr(self, name, grown)

    def append(self, items: Sequence[Item], vecs: np.ndarray, codes: dict[str, int], lex=None) -> None:
        """Append ``items`` with their query-ready (debiased) ``vecs`` and TF-IDF rows ``lex``."""
        k = len(items)
        if not k:
            return
        self._grow(self.n + k)
        new_sectors = sorted({s for it in items for s in it.sectors} - self.sector_col.keys())
        if new_sectors:
            first = len(self.sector_col)
            self.sector_col.update((s, first + j) for j, s in enumerate(new_sectors))
            width = max(len(self.sector_col), 1)
            if width > self._sectors.shape[1]:
                grown = np.zeros((len(self._sectors), width), bool)
                grown[: self.n, : self._sectors.shape[1]] = self._sectors[: self.n]
                self._sectors = grown
        s = slice(self.n, self.n + k)
        code = lambda v: codes.setdefault(v, len(codes)) if v else 0  # noqa: E731
        self._vecs[s] = vecs
        self._alive[s] = True
        self._lang[s] = [code(it.lang) for it in items]
        self._place[s] = [code(it.place) for it in items]
        self._group[s] = [code(it.place_group) for it in items]
        self._stage[s] = [_STAGE_INDEX.get(it.stage, -1) for it in items]
        self._trl[s] = [np.nan if it.trl is None else it.trl for it in items]
        self._deadline[s] = [it.deadline.toordinal() if it.deadline else _NO_DEADLINE for it in items]
        self._sectors[s] = False
        for r, it in enumerate(items, self.n):
            for sec in it.sectors:
                self._sectors[r, self.sector_col[sec]] = True
            self.row[it.id] = r
        self.items.extend(items)
        self.ids.extend(it.id for it in items)
        if lex is not None:
            if self.lex_base is None and self.n == 0:
                self.lex_base = LexicalScorer.searchable(lex)
            else:
                import scipy.sparse as sp

                self.lex_tail = lex if self.lex_tail is None else sp.vstack([self.lex_tail, lex], format="csr")
        self.n += k
        self.n_alive += k

    def kill(self, item_id: str) -> bool:
        """Tombstone ``item_id``'s slot; False if it has none."""
        r = self.row.pop(item_id, None)
        if r is None:
            return False
        self._alive[r] = False
        self.items[r] = None
        self.ids[r] = None
        self.n_alive -= 1
        return True

    def mask_of(self, ids: Collection[str], value: bool) -> np.ndarray:
        """bool (n,): ``value`` at the slots of ``ids`` (unknown ids ignored), ``not value`` elsewhere."""
        out = np.full(self.n, not value, bool)
        rows = [r for r in map(self.row.get, ids) if r is not None]
        if rows:
            out[np.asarray(rows, np.intp)] = value
        return out


class MatchEngine:
    """Holds ideas and needs with their vectors; ranks one side against the other.

    ``dim``: embedding size (384 for e5-small); ``weights``/``bands``: see
    :class:`Weights`, :class:`BandThresholds`; ``debias``: remove per-language
    means (:class:`LanguageDebias`); ``lexical``: enable the TF-IDF term.

    Derived state (language means, TF-IDF vocabulary, query-ready arrays) is
    updated lazily, at the next query after add/remove, and incrementally:
    new items are transformed with the models fitted last time and appended,
    removed ones dropped. Everything is refitted on the whole corpus when the
    number of items added/replaced/removed since the last full fit exceeds
    ``refit_fraction`` times the corpus size at that fit (0 = after every
    change), or on :meth:`refit`.
    """

    def __init__(self, dim: int = 384, weights: Weights = DEFAULT_WEIGHTS, debias: bool = True,
                 bands: BandThresholds = DEFAULT_BANDS, lexical: bool = True,
                 debias_prior_strength: float = 5.0, debias_strength: float = 1.0,
                 refit_fraction: float = 0.1):
        if refit_fraction < 0:
            raise ValueError("refit_fraction must be >= 0")
        self.dim = dim
        self.weights = weights
        self.bands = bands
        self.debias = debias
        self.lexical = lexical and weights.lexical != 0
        self.refit_fraction = refit_fraction
        self._sides = {s: _Side(dim) for s in SIDES}
        self._debiaser = LanguageDebias(debias_prior_strength, debias_strength)
        self._lex = LexicalScorer()
        self._tables: dict[str, _Table] = {s: _Table(dim, 0) for s in SIDES}
        self._codes: dict[str, int] = {"": 0}  # language/place strings -> int codes
        self._fitted = False          # derived state exists
        self._fitted_size = 0         # corpus size at the last full fit
        self._changes = 0             # items added/replaced/removed since then
        self._stale: dict[str, None] = {}  # ids whose derived rows are out of date (ordered set)
        self._generation = 0

    # -- content ------------------------------------------------------------
    def add(self, items: Sequence[Item], vecs: np.ndarray) -> None:
        """Add or replace ``items`` with their vectors, float32 (len(items), dim)
        from the same embedder (role "query", see docs/matching.md)."""
        vecs = np.asarray(vecs, np.float32).reshape(len(items), self.dim)
        changed = 0
        for item, vec in zip(items, vecs):
            side = self._sides[item.side]
            if side.items.get(item.id) == item and np.array_equal(
                    side.index.vectors[side.index.row_of(item.id)], vec):
                continue  # the same item again (e.g. a sync that re-reads it): nothing to redo
            other = self._sides["need" if item.side == "idea" else "idea"]
            if item.id in other.items:  # an id changed side: keep one copy
                other.index.remove([item.id])
                del other.items[item.id]
            side.items[item.id] = item
            side.index.add([item.id], vec[None, :])
            self._stale[item.id] = None
            changed += 1
        self._changes += changed

    def remove(self, ids: Collection[str]) -> None:
        """Forget ``ids`` (unknown ids are ignored)."""
        for side in self._sides.values():
            gone = [i for i in ids if i in side.items]
            side.index.remove(gone)
            for i in gone:
                del side.items[i]
                self._stale[i] = None
            self._changes += len(gone)

    def __len__(self) -> int:
        return sum(len(s.items) for s in self._sides.values())

    def get(self, item_id: str) -> Item | None:
        """The stored :class:`Item` with this id, or None."""
        for side in self._sides.values():
            if item_id in side.items:
                return side.items[item_id]
        return None

    def raw_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """float32 (len(ids), dim): the vectors ``ids`` were added with. Raises KeyError for an
        unknown id."""
        out = np.empty((len(ids), self.dim), np.float32)
        for k, item_id in enumerate(ids):
            side = next((s for s in self._sides.values() if item_id in s.items), None)
            if side is None:
                raise KeyError(item_id)
            out[k] = side.index.vectors[side.index.row_of(item_id)]
        return out

    @property
    def generation(self) -> int:
        """How many full fits the engine has made: derived vectors (debiasing) change only then."""
        return self._generation

    @property
    def debiaser(self) -> LanguageDebias | None:
        """The fitted :class:`LanguageDebias` the engine applies (None without debiasing)."""
        self._refresh()
        return self._debiaser if self.debias and self._debiaser.global_mean_ is not None else None

    def prepare(self) -> None:
        """Bring the derived state up to date now rather than at the next query (e.g. before the
        engine is saved, so that whoever loads it ranks without fitting)."""
        self._refresh()

    def refit(self) -> None:
        """Refit language means and TF-IDF on the whole corpus now and rebuild
        every derived array (results are then those of a freshly built engine)."""
        self._full_fit()

    # -- derived state ------------------------------------------------------
    def _refresh(self) -> None:
        if not self._fitted or self._changes > self.refit_fraction * self._fitted_size:
            self._full_fit()
        elif self._stale:
            self._update()

    def _full_fit(self) -> None:
        all_items = [it for s in SIDES for it in self._sides[s].ordered_items()]
        all_vecs = np.concatenate([self._sides[s].index.vectors for s in SIDES])
        if self.debias and len(all_items):
            self._debiaser.fit(all_vecs, [it.lang for it in all_items])
        lex = None
        if self.lexical and len(all_items):  # fitted and transformed in one pass
            lex = self._lex.fit_transform([item_text(it) for it in all_items])
        self._codes = {"": 0}
        headroom = int(self.refit_fraction * len(all_items)) + 16
        start = 0
        for name in SIDES:
            side = self._sides[name]
            items = side.ordered_items()
            table = _Table(self.dim, len(items) + headroom)
            if items:
                table.append(items, self._derive_vecs(side.index.vectors, items), self._codes,
                             lex[start:start + len(items)] if lex is not None else None)
            start += len(items)
            self._tables[name] = table
        self._fitted, self._fitted_size, self._changes, self._stale = True, len(all_items), 0, {}
        self._generation += 1

    def _derive_vecs(self, raw: np.ndarray, items: Sequence[Item]) -> np.ndarray:
        return self._debiaser.transform(raw, [it.lang for it in items]) if self.debias else raw.copy()

    def _update(self) -> None:
        """Apply the changes since the last refresh with the models as fitted."""
        stale, self._stale = list(self._stale), {}
        for table in self._tables.values():
            for i in stale:
                table.kill(i)
        for name in SIDES:
            side = self._sides[name]
            items = [side.items[i] for i in stale if i in side.items]
            if not items:
                continue
            raw = side.index.vectors[[side.index.row_of(it.id) for it in items]]
            self._tables[name].append(items, self._derive_vecs(raw, items), self._codes,
                                      self._lex.transform([item_text(it) for it in items])
                                      if self.lexical else None)

    def _query_vec(self, query: Item, query_vec: np.ndarray) -> np.ndarray:
        q = np.asarray(query_vec, np.float32).reshape(1, self.dim)
        if self.debias and len(self):
            q = self._debiaser.transform(q, [query.lang])
        return q[0]

    def _stage_terms(self, query: Item, t: _Table) -> np.ndarray | None:
        """float32 (n,) stage term of each candidate of the other side (see
        :func:`stage_fit`, vectorised), or None when no pair is known."""
        w = self.weights
        q_stage = _STAGE_INDEX.get(query.stage, -1)
        q_trl = np.nan if query.trl is None else float(query.trl)
        if query.side == "idea":
            idea_stage, need_stage, idea_trl, need_trl = q_stage, t.stage, q_trl, t.trl
        else:
            idea_stage, need_stage, idea_trl, need_trl = t.stage, q_stage, t.trl, q_trl
        by_stage = (np.asarray(idea_stage) >= 0) & (np.asarray(need_stage) >= 0)
        with np.errstate(invalid="ignore"):
            by_trl = ~by_stage & ~np.isnan(idea_trl) & ~np.isnan(need_trl)
            fits = np.where(by_stage, np.asarray(idea_stage, np.int16) >= np.asarray(need_stage, np.int16) - 1,
                            np.asarray(idea_trl) >= np.asarray(need_trl) - 2)
        known = np.broadcast_to(by_stage | by_trl, (t.n,))
        if not known.any():
            return None
        return np.where(known, np.where(fits, np.float32(w.stage), np.float32(-w.stage_mismatch)),
                        np.float32(0.0)).astype(np.float32)

    def _scores(self, query: Item, query_vec: np.ndarray, side: str, lexical: bool = True):
        """Semantic and combined scores of every slot of ``side`` (float32 (n,));
        dead slots get scores too and must be masked with ``t.alive``. ``lexical=False``
        leaves the TF-IDF term out (it reads every same-language item's n-grams)."""
        self._refresh()
        t = self._tables[side]
        if t.n_alive == 0:
            z = np.zeros(0, np.float32)
            return t, z, z
        sem = t.vecs @ self._query_vec(query, query_vec)
        w = self.weights
        combined = sem.astype(np.float32).copy()
        if lexical and self.lexical and t.lex_base is not None:
            code = self._codes.get(query.lang or "")
            same = (t.lang == code) & t.alive if code is not None else None
            if same is not None and same.any():
                blocks = [b for b in (t.lex_base, t.lex_tail) if b is not None]
                lex = self._lex.similarity(item_text(query), *blocks)
                # centred within the query's language: reorders same-language
                # candidates without lifting them above other languages
                combined += w.lexical * np.where(same, lex - lex[same].mean(), 0.0).astype(np.float32)
        if query.sectors and w.sector:
            cols = [t.sector_col[s] for s in query.sectors if s in t.sector_col]
            if cols:
                combined += w.sector * t.sectors[:, cols].any(axis=1)
        if query.place_group and w.place_group and query.place_group in self._codes:
            combined += w.place_group * (t.group == self._codes[query.place_group])
        if query.place and w.place and query.place in self._codes:
            combined += w.place * (t.place == self._codes[query.place])
        if (w.stage or w.stage_mismatch) and side != query.side:
            terms = self._stage_terms(query, t)
            if terms is not None:
                combined += terms
        return t, sem, combined

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

    def _select(self, query, t, sem, combined, eligible, top_k, today, candidate_ids, min_band):
        z = self._standardise(combined, eligible) if eligible.any() else combined
        shown = eligible.copy()
        if candidate_ids is not None:
            shown &= t.mask_of(candidate_ids, True)
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
        for r in top:  # facets only for the returned candidates
            cand = t.items[r]
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
        t, sem, combined = self._scores(query, query_vec, side)
        if not t.n_alive:
            return []
        eligible = t.alive.copy()
        if side == "need":
            eligible &= t.deadline >= today.toordinal()
        eligible &= t.mask_of(set(exclude) | {query.id}, False)
        return self._select(query, t, sem, combined, eligible, top_k, today, candidate_ids, min_band)

    def similar(self, query: Item, query_vec: np.ndarray, top_k: int = 5,
                exclude: Collection[str] = (), min_band: str = "possible",
                lexical: bool = True) -> list[Match]:
        """Items on the SAME side as ``query`` (duplicate detection while an
        idea is being written, in any language), best first, at least
        ``min_band``. The query's own id is always skipped. ``lexical=False``:
        scores without the TF-IDF term (debiased cosine and facets only), for a
        search box whose words the database already matches; one (n, dim)
        product instead of a pass over every same-language item's n-grams."""
        if min_band not in BANDS:
            raise ValueError(f"min_band must be one of {BANDS}")
        t, sem, combined = self._scores(query, query_vec, query.side, lexical=lexical)
        if not t.n_alive:
            return []
        eligible = t.alive & t.mask_of(set(exclude) | {query.id}, False)
        return self._select(query, t, sem, combined, eligible, top_k, date.today(), None, min_band)
