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

from .ann import ApproximateIndex
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

    An approximate table (see :meth:`make_approximate`) also keeps an
    :class:`~matching.ann.ApproximateIndex` of its alive slots (``ann``),
    updated by :meth:`append` and :meth:`kill`, and its ``lex_base`` by row
    (CSR), since a query then reads the TF-IDF rows of a few slots only,
    and the sum of the alive slots' TF-IDF rows per language code
    (``lex_sums``, float64 (V,), with ``lex_counts``), from which the TF-IDF
    term's centre over a whole language is one dot product.
    """

    def __init__(self, dim: int, capacity: int):
        cap = max(capacity, 16)
        self.ann: ApproximateIndex | None = None
        self.lex_sums: dict[int, np.ndarray] = {}
        self.lex_counts: dict[int, int] = {}
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
        if self.ann is not None:
            self.ann.add(np.arange(self.n, self.n + k), vecs, threads=0 if k > 1000 else 1)
        if lex is not None:
            if self.lex_base is None and self.n == 0:
                self.lex_base = lex.tocsr() if self.ann is not None else LexicalScorer.searchable(lex)
            else:
                import scipy.sparse as sp

                self.lex_tail = lex if self.lex_tail is None else sp.vstack([self.lex_tail, lex], format="csr")
        self.n += k
        self.n_alive += k
        if self.ann is not None and lex is not None:
            self._count_lexical(np.arange(self.n - k, self.n), +1)

    def _lex_rows(self, rows: np.ndarray):
        """CSR (len(rows), V): the TF-IDF rows of the slots ``rows`` (an approximate table's)."""
        import scipy.sparse as sp

        base_n = self.lex_base.shape[0] if self.lex_base is not None else 0
        in_base = rows < base_n
        parts = [self.lex_base[rows[in_base]]] if self.lex_base is not None else []
        if self.lex_tail is not None:
            parts.append(self.lex_tail[rows[~in_base] - base_n])
        order = np.concatenate([np.flatnonzero(in_base), np.flatnonzero(~in_base)])
        return sp.vstack(parts, format="csr")[np.argsort(order, kind="stable")]

    def _count_lexical(self, rows: np.ndarray, sign: int) -> None:
        """Add (sign +1) or take away (-1) the TF-IDF rows of ``rows`` from their language's sum."""
        if self.lex_base is None or not len(rows):
            return
        lex, codes = self._lex_rows(rows), self._lang[rows]
        for code in np.unique(codes):
            mine = codes == code
            total = self.lex_sums.get(int(code))
            if total is None:
                total = self.lex_sums[int(code)] = np.zeros(lex.shape[1], np.float64)
            total += sign * np.asarray(lex[np.flatnonzero(mine)].sum(axis=0)).ravel()
            self.lex_counts[int(code)] = self.lex_counts.get(int(code), 0) + sign * int(mine.sum())

    def kill(self, item_id: str) -> bool:
        """Tombstone ``item_id``'s slot; False if it has none."""
        r = self.row.pop(item_id, None)
        if r is None:
            return False
        self._alive[r] = False
        self.items[r] = None
        self.ids[r] = None
        self.n_alive -= 1
        if self.ann is not None:
            self.ann.remove(np.array([r]))
            self._count_lexical(np.array([r]), -1)
        return True

    def make_approximate(self, ann: ApproximateIndex) -> None:
        """Index the alive slots' vectors in ``ann`` (empty) and keep the TF-IDF rows by row from
        now on. ``ann`` is then kept up to date by :meth:`append` and :meth:`kill`."""
        slots = np.flatnonzero(self.alive)
        ann.add(slots, self.vecs[slots], threads=0 if len(slots) > 1000 else 1)  # as append(): a small graph in one
        # thread is built the same way every time (several threads link it differently from run to run)
        self.ann = ann
        if self.lex_base is not None:
            self.lex_base = self.lex_base.tocsr()
            self._count_lexical(slots, +1)

    def slots_of(self, ids: Collection[str]) -> np.ndarray:
        """intp (k,): the slots of the ``ids`` that have one (unknown ids ignored)."""
        return np.fromiter((r for r in map(self.row.get, ids) if r is not None), np.intp)

    def pool_sample(self, size: int) -> np.ndarray:
        """intp (<= size,): every k-th slot (alive or not), k chosen so that at most ``size`` are
        taken; all slots when there are no more than ``size``. A fixed, even sample: the same
        query gets the same bands from one call to the next."""
        step = -(-self.n // max(size, 1))
        return np.arange(0, self.n, max(step, 1), dtype=np.intp)

    def lexical(self, scorer: LexicalScorer, text: str, rows: np.ndarray | None = None,
                code: int | None = None, text_row=None) -> tuple[np.ndarray, float | None]:
        """(float32 (n,) or (len(rows),), centre): TF-IDF cosine of ``text`` with every slot, or
        with the slots ``rows`` only (read row by row: for an approximate table); with ``rows``
        and a language ``code``, also the mean cosine over every alive slot of that language
        (from ``lex_sums``), else None. ``text_row``: the text's TF-IDF row when known."""
        if rows is None:
            return scorer.similarity(text, *[b for b in (self.lex_base, self.lex_tail) if b is not None],
                                     row=text_row), None
        if code is None or not self.lex_counts.get(code):
            return scorer.similarity(text, self._lex_rows(rows), row=text_row), None
        found = scorer.similarity(text, self._lex_rows(rows), self.lex_sums[code][None, :], row=text_row)
        return found[:-1], float(found[-1]) / self.lex_counts[code]

    def mask_of(self, ids: Collection[str], value: bool) -> np.ndarray:
        """bool (n,): ``value`` at the slots of ``ids`` (unknown ids ignored), ``not value`` elsewhere."""
        out = np.full(self.n, not value, bool)
        rows = [r for r in map(self.row.get, ids) if r is not None]
        if rows:
            out[np.asarray(rows, np.intp)] = value
        return out


# Items of one side from which it is searched approximately (docs/operations.md "Scale"). Off (None)
# until recall@10 >= 0.99 is measured at 1M items: 0.997 at 100k, only 0.839 at 1M with the
# graph's present settings (matching/ann.py), so every side is searched exactly for now.
APPROXIMATE_FROM: int | None = None
APPROXIMATE_DEPTH = 1_000   # candidates the approximate index gives for exact scoring (recall@10 0.997 at 100k)
POOL_SAMPLE = 2_000         # slots the approximate path's z-scores (bands) are estimated on


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

    **Approximate first stage.** A side with at least ``approximate_from``
    items (None: never) is searched through an approximate nearest-neighbour
    index (:class:`~matching.ann.ApproximateIndex`, HNSW) over the same
    debiased vectors instead of a product with every vector: the
    ``approximate_depth`` nearest slots (at least ``top_k``) are scored exactly
    (cosine, TF-IDF, facets) and filtered as the exact path does (deadline,
    exclusions, ``candidate_ids``, ``min_band``). The TF-IDF term's centre
    over the query's language is exact (kept as a sum of rows); the z-score's
    mean and spread, which the exact path takes over every eligible item, are
    taken over an even sample of ``pool_sample`` slots, so a band may differ
    from the exact one near a threshold (z within a few hundredths at the
    default); the order never does. ``candidate_ids`` are scored directly,
    without the index. When the filters leave fewer than ``top_k`` of the
    depth's candidates, the query is answered exactly. The index follows
    ``add``/``remove`` (items inserted and removed one by one) and is rebuilt
    at each full fit. Default threshold and depth: docs/operations.md "Scale"
    (``bench/rank_latency.py``).
    """

    def __init__(self, dim: int = 384, weights: Weights = DEFAULT_WEIGHTS, debias: bool = True,
                 bands: BandThresholds = DEFAULT_BANDS, lexical: bool = True,
                 debias_prior_strength: float = 5.0, debias_strength: float = 1.0,
                 refit_fraction: float = 0.1, approximate_from: int | None = APPROXIMATE_FROM,
                 approximate_depth: int = APPROXIMATE_DEPTH, pool_sample: int = POOL_SAMPLE):
        if refit_fraction < 0:
            raise ValueError("refit_fraction must be >= 0")
        if approximate_depth < 1 or pool_sample < 1:
            raise ValueError("approximate_depth and pool_sample must be >= 1")
        self.approximate_from = approximate_from
        self.approximate_depth = approximate_depth
        self.pool_sample = pool_sample
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
        self._version = 0             # content changes and full fits so far (see ``version``)

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
        self._version += changed

    def remove(self, ids: Collection[str]) -> None:
        """Forget ``ids`` (unknown ids are ignored)."""
        for side in self._sides.values():
            gone = [i for i in ids if i in side.items]
            side.index.remove(gone)
            for i in gone:
                del side.items[i]
                self._stale[i] = None
            self._changes += len(gone)
            self._version += len(gone)

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
    def version(self) -> int:
        """Changes so far (items added, replaced or removed, full fits): while it is the same, one
        query gets the same ranking on the same day, so a caller may keep rankings by it."""
        return self._version

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
        for table in self._tables.values():  # a side that grew past the threshold between full fits
            if table.ann is None and self._wants_approximate(table.n_alive):
                table.make_approximate(self._new_ann())

    def _wants_approximate(self, size: int) -> bool:
        return self.approximate_from is not None and size >= self.approximate_from

    def _new_ann(self) -> ApproximateIndex:
        return ApproximateIndex(self.dim, expansion_search=self.approximate_depth)

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
            if self._wants_approximate(len(items)):  # indexed as the rows are appended
                table.ann = self._new_ann()
            if items:
                table.append(items, self._derive_vecs(side.index.vectors, items), self._codes,
                             lex[start:start + len(items)] if lex is not None else None)
            start += len(items)
            self._tables[name] = table
        self._fitted, self._fitted_size, self._changes, self._stale = True, len(all_items), 0, {}
        self._generation += 1
        self._version += 1

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

    def _stage_terms(self, query: Item, t: _Table, rows: np.ndarray | None) -> np.ndarray | None:
        """float32 (n,) stage term of each candidate of the other side (or of the slots ``rows``;
        see :func:`stage_fit`, vectorised), or None when no pair is known."""
        w = self.weights
        col = _columns(rows)
        t_stage, t_trl = col(t.stage), col(t.trl)
        q_stage = _STAGE_INDEX.get(query.stage, -1)
        q_trl = np.nan if query.trl is None else float(query.trl)
        if query.side == "idea":
            idea_stage, need_stage, idea_trl, need_trl = q_stage, t_stage, q_trl, t_trl
        else:
            idea_stage, need_stage, idea_trl, need_trl = t_stage, q_stage, t_trl, q_trl
        by_stage = (np.asarray(idea_stage) >= 0) & (np.asarray(need_stage) >= 0)
        with np.errstate(invalid="ignore"):
            by_trl = ~by_stage & ~np.isnan(idea_trl) & ~np.isnan(need_trl)
            fits = np.where(by_stage, np.asarray(idea_stage, np.int16) >= np.asarray(need_stage, np.int16) - 1,
                            np.asarray(idea_trl) >= np.asarray(need_trl) - 2)
        known = np.broadcast_to(by_stage | by_trl, (len(t_stage),))
        if not known.any():
            return None
        return np.where(known, np.where(fits, np.float32(w.stage), np.float32(-w.stage_mismatch)),
                        np.float32(0.0)).astype(np.float32)

    def _own_lex_row(self, query: Item):
        """The query's TF-IDF row (CSR (1, V)) when it is a stored item with the same text (a page
        of a published submission), else None: transformed then. Identical to transforming it."""
        own = self._tables[query.side]
        slot = own.row.get(query.id)
        if slot is None or own.lex_base is None or self._sides[query.side].items.get(query.id) != query:
            return None
        return own._lex_rows(np.array([slot]))

    def _scores(self, query: Item, q: np.ndarray, t: _Table, lexical: bool = True,
                rows: np.ndarray | None = None):
        """Semantic and combined scores, float32 (n,), of every slot of ``t`` or, with ``rows``
        (intp (k,)), of those slots only, float32 (k,); ``q``: the debiased query (dim,).
        Dead slots get scores too and must be masked with ``t.alive``.
        ``lexical=False`` leaves the TF-IDF term out (it reads every same-language item's n-grams)."""
        col = _columns(rows)
        sem = col(t.vecs) @ q
        w = self.weights
        combined = sem.astype(np.float32).copy()
        if lexical and self.lexical and t.lex_base is not None:
            code = self._codes.get(query.lang or "")
            same = (col(t.lang) == code) & col(t.alive) if code is not None else None
            if same is not None and (same.any() if rows is None else t.lex_counts.get(code)):
                lex, centre = t.lexical(self._lex, item_text(query), rows, code, self._own_lex_row(query))
                # centred within the query's language (over all of it): reorders same-language
                # candidates without lifting them above other languages
                centre = lex[same].mean() if centre is None else centre
                combined += w.lexical * np.where(same, lex - centre, 0.0).astype(np.float32)
        if query.sectors and w.sector:
            cols = [t.sector_col[s] for s in query.sectors if s in t.sector_col]
            if cols:
                flags = t.sectors[:, cols] if rows is None else t.sectors[np.ix_(rows, cols)]
                combined += w.sector * flags.any(axis=1)
        if query.place_group and w.place_group and query.place_group in self._codes:
            combined += w.place_group * (col(t.group) == self._codes[query.place_group])
        if query.place and w.place and query.place in self._codes:
            combined += w.place * (col(t.place) == self._codes[query.place])
        if (w.stage or w.stage_mismatch) and t is not self._tables[query.side]:
            terms = self._stage_terms(query, t, rows)
            if terms is not None:
                combined += terms
        return sem, combined

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

    def _select(self, query, t, rows, sem, combined, eligible, shown, top_k, today, min_band, pool=None):
        """The best ``top_k`` of the ``shown`` rows as :class:`Match` es, z-scored over the
        ``eligible`` rows (of the ``pool`` rows when given). ``rows``: the slots the arrays are
        about (None: every slot, in order)."""
        stats = eligible if pool is None else eligible & pool
        z = self._standardise(combined, stats) if stats.any() else combined
        threshold = {"strong": self.bands.strong, "good": self.bands.good,
                     "possible": self.bands.possible, "weak": -np.inf}[min_band]
        shown = shown & (z >= threshold)
        k = min(top_k, int(shown.sum()))
        if k <= 0:
            return []
        masked = np.where(shown, combined, -np.inf)
        top = np.argpartition(-masked, k - 1)[:k]
        top = top[np.argsort(-masked[top], kind="stable")]
        out = []
        for r in top:  # facets only for the returned candidates
            cand = t.items[r if rows is None else rows[r]]
            out.append(Match(item_id=cand.id, score=float(combined[r]),
                             band=self.bands.band(float(z[r])), semantic=float(sem[r]),
                             facets=self._facets(query, cand, today), z=float(z[r])))
        return out

    def _ranked(self, query: Item, query_vec: np.ndarray, side: str, top_k: int, today: date,
                exclude: Collection[str], candidate_ids: Collection[str] | None, min_band: str,
                lexical: bool) -> list[Match]:
        """What :meth:`rank` and :meth:`similar` share: ``side``'s best items for ``query``,
        exactly or through the approximate index (see the class docstring)."""
        if min_band not in BANDS:
            raise ValueError(f"min_band must be one of {BANDS}")
        self._refresh()
        t = self._tables[side]
        if not t.n_alive:
            return []
        q = self._query_vec(query, query_vec)
        open_only = side == "need" and query.side == "idea"  # expired needs are never proposed to an idea
        excluded = t.slots_of(set(exclude) | {query.id})
        if t.ann is not None and self._wants_approximate(t.n_alive):
            found = (t.slots_of(candidate_ids) if candidate_ids is not None
                     else t.ann.search(q, max(self.approximate_depth, top_k)))
            sample = t.pool_sample(self.pool_sample)
            rows = np.concatenate([sample, found])
            pool = np.arange(len(rows)) < len(sample)
            eligible = self._eligible(t, rows, open_only, today, excluded)
            shown = eligible & ~pool
            if candidate_ids is not None or int(shown.sum()) >= top_k or len(found) >= t.n_alive:
                sem, combined = self._scores(query, q, t, lexical, rows)
                return self._select(query, t, rows, sem, combined, eligible, shown, top_k, today, min_band, pool)
            # the filters left too few of the index's candidates: every slot is scored
        eligible = self._eligible(t, None, open_only, today, excluded)
        shown = eligible & t.mask_of(candidate_ids, True) if candidate_ids is not None else eligible
        sem, combined = self._scores(query, q, t, lexical)
        return self._select(query, t, None, sem, combined, eligible, shown, top_k, today, min_band)

    @staticmethod
    def _eligible(t: _Table, rows: np.ndarray | None, open_only: bool, today: date,
                  excluded: np.ndarray) -> np.ndarray:
        """bool (n,) or (len(rows),): alive, not ``excluded`` (slots) and, with ``open_only``,
        whose deadline is not before ``today``."""
        col = _columns(rows)
        out = col(t.alive).copy()
        if open_only:
            out &= col(t.deadline) >= today.toordinal()
        if len(excluded):
            if rows is None:
                out[excluded] = False
            else:
                out &= ~np.isin(rows, excluded)
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
        whole pool); ``min_band``: drop results below this band. A side of at
        least ``approximate_from`` items is searched approximately (see the
        class docstring). Raises ValueError for an unknown ``min_band``.
        """
        side = "need" if query.side == "idea" else "idea"
        return self._ranked(query, query_vec, side, top_k, today or date.today(), exclude, candidate_ids,
                            min_band, lexical=True)

    def similar(self, query: Item, query_vec: np.ndarray, top_k: int = 5,
                exclude: Collection[str] = (), min_band: str = "possible",
                lexical: bool = True) -> list[Match]:
        """Items on the SAME side as ``query`` (duplicate detection while an
        idea is being written, in any language), best first, at least
        ``min_band``. The query's own id is always skipped. ``lexical=False``:
        scores without the TF-IDF term (debiased cosine and facets only), for a
        search box whose words the database already matches; one (n, dim)
        product instead of a pass over every same-language item's n-grams.
        Approximate on a large side, as :meth:`rank`."""
        return self._ranked(query, query_vec, query.side, top_k, date.today(), exclude, None, min_band,
                            lexical=lexical)


def _columns(rows: np.ndarray | None):
    """``rows``' entries of a per-slot array (the whole array when ``rows`` is None)."""
    return (lambda a: a) if rows is None else (lambda a: a[rows])
