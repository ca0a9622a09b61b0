"""The match index of one process: the model, the engine, and keeping both in step with the database.

Vectors live in the database (so a restart does not re-embed) and in one in-memory
:class:`matching.ranking.MatchEngine` per process. The index follows the database: ``refresh()``
picks up the submissions changed since it last looked, so several processes (gunicorn workers,
CLI commands, the job worker) stay consistent without talking to each other.

Data flows one way: a service calls ``refresh()``, then ``rank()`` or ``similar()``, and gets
:class:`matching.ranking.Match` objects (engine ids, scores, bands). Loading the rows behind them,
deciding who may see what and explaining happen afterwards, in ``services/matchmaking.py``.
"""
from __future__ import annotations

import copy
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app

from extensions import db
from matching.debias import LanguageDebias
from matching.embedders import CachedEmbedder, Embedder, ModelMissingError, load_embedder, model_id_of, text_key
from matching.explain import Explanation, TextParts, explain, parts_key, text_parts
from matching.glossary import Glossary
from matching.ranking import BANDS, Item, Match, MatchEngine, item_text
from matching.rerank import (
    NO_STATISTICS,
    CorpusStatistics,
    Material,
    Ranker,
    material_texts,
    materials_for,
    pair_features,
    rerank,
)
from matching.text import TextRejected, check_text, clean_text
from models import Status, Submission
from services import index_snapshot, jobs, submission_types
from services.formats import local_today
from services.glossary import current_glossary
from services.kept import Kept
from services.ranker import current_ranker, log_once
from services.submission_types import TYPES, engine_id, to_item, with_facets
from services.vector_store import DatabasePartsStore, DatabaseVectorStore

log = logging.getLogger(__name__)

BATCH = 64  # texts per embedding call when filling the cache
EXPLANATIONS_KEPT = 4096  # explained pairs each process keeps (MatchIndex.explain)
RANKINGS_KEPT = 2048  # rankings each process keeps (MatchIndex.rank; a list of at most 50 matches each)
EMBED_CHUNK = 32  # submissions per bulk embedding job (a few seconds on 2 cores); the rest is a new job
SECOND_STAGE_TOP_N = 50  # first-stage candidates the second stage re-ranks (docs/matching.md)
MATERIALS_CACHED = 4096  # items whose second-stage material a process keeps (about 15 kB each)
SEARCH_VECTORS_CACHED = 1024  # search texts whose vector a process keeps (1.5 kB each), never stored
# A process asks for a new snapshot when this many rows changed since the last one (or were read to
# build its engine): a tenth of the index, at least SNAPSHOT_MIN_CHANGES, at most SNAPSHOT_AFTER_CHANGES
SNAPSHOT_AFTER_CHANGES = 1000
SNAPSHOT_MIN_CHANGES = 50  # below that, building from the rows takes well under a second


class SerialEmbedder:
    """An :class:`matching.embedders.Embedder` whose ``embed`` runs one call at a time: the models
    are not documented as thread-safe, and gunicorn threads share one per process.

    The model is loaded by ``load`` when first needed (an embedding, its ``dim``), not before:
    a process that starts from a snapshot ranks stored vectors without it, seconds earlier
    (importing PyTorch and loading the model: 4-12 s here). ``model_id`` names it meanwhile."""

    def __init__(self, load: Callable[[], Embedder], model_id: str):
        self._load, self.model_id = load, model_id
        self._embedder: Embedder | None = None
        self._loading = threading.Lock()
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The model, loaded now if it was not. Raises ModelMissingError when it has not been built."""
        with self._loading:
            if self._embedder is None:
                self._embedder = self._load()
                if self._embedder.model_id != self.model_id:  # model_id_of() and the model disagree
                    raise RuntimeError(f"model {self._embedder.model_id} loaded as {self.model_id}")
            return self._embedder

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def embed(self, texts: Sequence[str], role: str = "query", timeout: float | None = None) -> np.ndarray:
        """Same contract as :meth:`matching.embedders.Embedder.embed`. With ``timeout`` (seconds),
        raises TimeoutError when another call holds the model longer than that."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("the model is busy")
        try:
            return self.embedder.embed(texts, role)
        finally:
            self._lock.release()


def _texts(item: Item) -> tuple[str, ...]:
    """The title and sentences of ``item`` that its second-stage material embeds."""
    title, sentences = material_texts(item)
    return (title, *sentences)


@functools.lru_cache(maxsize=2)
def _load_model(backend: str, model: str | None, model_dir: str, threads: int | None = None) -> SerialEmbedder:
    """A model is loaded once per process, when first needed (it is immutable; apps made by tests
    share it). ``threads``: CPU threads per text (None: all cores)."""
    return SerialEmbedder(lambda: load_embedder(backend, model, Path(model_dir), num_threads=threads),
                          model_id_of(backend, model, Path(model_dir)))


class MatchIndex:
    """One process's embedder and engine. Built lazily: the model loads on first use.

    ``refresh()`` brings the engine up to date with the database; ``rank()`` and ``similar()``
    embed the query (cached) and ask the engine. Two locks: the engine's lock guards the engine
    alone and is held only while it changes or ranks (numpy work, milliseconds); refreshes take
    turns under a lock of their own while they read the database and embed, so a slow refresh
    never holds up a ranking. Raises :class:`matching.embedders.ModelMissingError` when the model
    has not been built. ``threads``: the model's CPU threads per text (None: all cores).

    ``snapshot_dir``: where the engine is saved (:mod:`services.index_snapshot`, signed with
    ``snapshot_key``) and read back by the next process, which then reads only the rows changed
    since; None: every process builds its engine from the rows. ``database_url`` names the file.
    """

    def __init__(self, backend: str, model: str | None, model_dir: str, threads: int | None = None,
                 snapshot_dir: str | None = None, snapshot_key: bytes = b"", database_url: str = ""):
        self.backend, self.model, self.model_dir, self.threads = backend, model, model_dir, threads
        self.snapshot_dir, self._snapshot_key, self._database_url = snapshot_dir, snapshot_key, database_url
        self._versions: dict[str, datetime] = {}  # engine id -> updated_at of the row read (ranked or pending)
        self._changes_since_snapshot = 0
        self._snapshot_asked = False
        self._lock = threading.RLock()           # the engine
        self._refreshing = threading.Lock()      # one refresh at a time, so changes apply in order
        self._embedder: CachedEmbedder | None = None
        self._engine: MatchEngine | None = None
        self._refreshed_at: datetime | None = None
        self._probed: tuple | None = None        # (since, what _unchanged_since read) at the last refresh
        self._epoch = 0                          # engines this index has had (a reset or a restore makes a new one)
        self._pending: dict[str, Item] = {}      # published, no stored vector yet: not ranked
        self._asked: set[str] = set()            # pending ids an embedding job was asked for
        self._members_only: frozenset[str] = frozenset()  # published ideas shown to signed-in people only
        self._confidential: dict[str, int | None] = {}   # published confidential needs -> their owner's id
        # item id -> (item, engine generation, glossary, ranker statistics, material); least recently used first
        self._materials: OrderedDict[str, tuple[Item, int, Glossary | None, CorpusStatistics, Material]] = (
            OrderedDict())
        self._materials_lock = threading.Lock()
        self._preparing: set[str] = set()        # ids a warm_explanations job was asked for
        self._search_vectors = Kept(SEARCH_VECTORS_CACHED)  # text -> vector (transient_vector)
        self._explanations = Kept(EXPLANATIONS_KEPT)        # (query, candidate, glossary, day) -> explain()
        self._rankings = Kept(RANKINGS_KEPT)                # (query, arguments, engine version, ...) -> rank()
        self._rankings_by: Ranker | None = None                # the ranker those rankings were made with
        self._prepared = Kept(EXPLANATIONS_KEPT)            # (item, glossary) whose explanation texts are stored
        self._parts = Kept(EXPLANATIONS_KEPT)               # parts key -> stored explanation parts
        self.parts_store = DatabasePartsStore()
        self._loading: threading.Thread | None = None

    @property
    def embedder(self) -> CachedEmbedder:
        """The model behind the database's vector cache."""
        if self._embedder is None:
            self._embedder = CachedEmbedder(_load_model(self.backend, self.model, self.model_dir, self.threads),
                                            DatabaseVectorStore())
        return self._embedder

    def refresh(self) -> None:
        """Pick up every submission changed since the last refresh (all published ones the first
        time): withdrawn and closed ones leave the engine; published ones whose vector is stored
        are (re-)added. A published one whose vector is not stored yet is *pending*: it is not
        ranked, a bulk job is asked once per process to embed it (:func:`embed_job`), and every
        refresh looks for its vector again. Nothing is embedded here, so no page waits for other
        people's texts (an import of 2,000 ideas, a restore)."""
        with self._refreshing:
            asked = self._take_changes()
        if asked:
            jobs.enqueue("embed", asked, False)
            with self._refreshing:  # a job that ran at once (JOBS_SYNC, tests) is picked up now
                self._take_changes(recheck_only=True)
        if (self.snapshot_file is not None and not self._snapshot_asked
                and self._changes_since_snapshot >= max(SNAPSHOT_MIN_CHANGES,
                                                        min(SNAPSHOT_AFTER_CHANGES, len(self._versions) // 10))):
            self._snapshot_asked = True  # once per process until it is written
            jobs.enqueue("snapshot_index")

    def _take_changes(self, recheck_only: bool = False) -> list[str]:
        """Apply the database's changes (or, with ``recheck_only``, only look for the pending
        items' vectors); returns the pending ids not asked for before. Call under ``_refreshing``."""
        since, newest = self._refreshed_at, self._refreshed_at
        changed: list[Submission] = []
        vanished: list[str] = []
        if not recheck_only and since is None and self._engine is None and self._restore():
            changed, vanished, newest = self._changed_since_snapshot()
        elif not recheck_only and since is not None and self._unchanged_since(since) and not self._pending:
            return []
        elif not recheck_only:
            for submission_type in TYPES:
                model = submission_type.model
                stmt = sa.select(model).options(*with_facets(submission_type))
                if since is not None:
                    stmt = stmt.where(model.updated_at >= since)
                else:
                    stmt = stmt.where(model.status == Status.PUBLISHED.value)
                rows = list(db.session.scalars(stmt))
                changed.extend(rows)
                newest = max([newest, *(r.updated_at for r in rows)], key=lambda t: t or datetime.min)
        gone = [engine_id(s) for s in changed if not s.is_published] + vanished
        changed_ids = {engine_id(s) for s in changed} | set(vanished)
        waiting = {ref: it for ref, it in self._pending.items() if ref not in changed_ids}
        waiting.update((engine_id(s), to_item(s)) for s in changed if s.is_published)
        items = list(waiting.values())
        keys = [text_key(item_text(it)) for it in items]
        stored = self.embedder.store.get_many(self.embedder.model_id, "query", list(dict.fromkeys(keys)))
        ready = [(it, stored[k]) for it, k in zip(items, keys) if k in stored]
        self._pending = {it.id: it for it, k in zip(items, keys) if k not in stored}
        with self._lock:
            if self._engine is None:  # the vectors' own size: the model is asked (loaded) only when there is none
                self._engine = MatchEngine(dim=len(ready[0][1]) if ready else self.embedder.dim)
            # an edited text not embedded yet leaves the engine until it is (never ranked by its old text)
            self._engine.remove(gone + list(self._pending))
            if ready:
                self._engine.add([it for it, _ in ready], np.stack([v for _, v in ready]))
            if changed or vanished:  # replaced, never changed in place: readers take it without a copy
                self._members_only = frozenset((self._members_only - changed_ids)
                                               | {engine_id(s) for s in changed if s.is_published and s.members_only})
                confidential = {ref: owner for ref, owner in self._confidential.items() if ref not in changed_ids}
                confidential.update((engine_id(s), s.owner_id) for s in changed
                                    if s.is_published and getattr(s, "confidential", False))
                self._confidential = confidential  # replaced, never changed in place
            self._refreshed_at = newest
        for ref in vanished:
            self._versions.pop(ref, None)
        for sub in changed:
            if sub.is_published:
                self._versions[engine_id(sub)] = sub.updated_at
            else:
                self._versions.pop(engine_id(sub), None)
        self._changes_since_snapshot += len(changed) + len(vanished)
        asked = [ref for ref in self._pending if ref not in self._asked]
        self._asked.update(asked)
        return asked

    def _unchanged_since(self, since: datetime) -> bool:
        """True when no row changed since the last call with the same ``since``: one statement
        reads, for each type, the newest ``updated_at`` and the number of rows at or after
        ``since`` (a row edited again has a newer date, a new one adds to the count), instead of
        reading the rows themselves at every refresh (the newest row of each type with its facets:
        ~7 ms a page at 110k rows)."""
        probe = sa.union_all(*(sa.select(sa.literal(k), sa.func.max(t.model.updated_at), sa.func.count())
                               .where(t.model.updated_at >= since) for k, t in enumerate(TYPES)))
        seen = (since, tuple(sorted(tuple(row) for row in db.session.execute(probe))))
        unchanged, self._probed = seen == self._probed, seen
        return unchanged

    @property
    def members_only(self) -> frozenset[str]:
        """Engine ids of the published ideas that only signed-in people may see, as of the last
        ``refresh()``: kept from the rows each refresh reads, so that an anonymous visitor's search
        or matches page does not read every idea to leave them out (~90 ms at 100k ideas)."""
        return self._members_only

    @property
    def version(self) -> tuple[int, int, int]:
        """What the rankings depend on in this index, as of the last ``refresh()``: (engine number,
        :attr:`matching.ranking.MatchEngine.version`, items waiting for their vectors). Equal
        versions rank alike (with the same ranker, glossary and day)."""
        with self._lock:
            return self._epoch, self._ready().version, len(self._pending)

    @property
    def confidential_needs(self) -> dict[str, int | None]:
        """Engine id -> owner's user id of the published confidential needs, as of the last
        ``refresh()`` (kept like :attr:`members_only`; a new dict after each change, never changed
        in place: callers must not change it)."""
        return self._confidential

    def load_model(self) -> None:
        """Load the model now (otherwise it is loaded for the first text to embed). Raises
        ModelMissingError when it has not been built."""
        self.embedder.embedder.embedder  # noqa: B018 (the property loads it)

    @functools.cached_property
    def snapshot_file(self) -> Path | None:
        """Where this index's snapshot is saved (None: snapshots are off), worked out once: every
        refresh asks. Named by the database and the model's id, which is known without loading it."""
        return index_snapshot.path_for(self.snapshot_dir, self._database_url, self.embedder.model_id) \
            if self.snapshot_dir else None

    def _restore(self) -> bool:
        """Take the engine from the snapshot file, if there is a usable one (see
        :mod:`services.index_snapshot`). Call under ``_refreshing``."""
        path = self.snapshot_file
        snapshot = index_snapshot.read(path, self._snapshot_key, self.embedder.model_id) if path else None
        if snapshot is None:
            return False
        with self._lock:
            self._engine, self._pending = snapshot.engine, dict(snapshot.pending)
            self._members_only, self._versions = snapshot.members_only, dict(snapshot.versions)
            self._confidential = dict(snapshot.confidential)
            self._rankings.clear()  # versions are the snapshot engine's own
            self._epoch += 1
        self._changes_since_snapshot = 0
        log.info("Match index read from %s: %d items, %d pending", path, len(snapshot.engine), len(snapshot.pending))
        return True

    def _changed_since_snapshot(self) -> tuple[list[Submission], list[str], datetime | None]:
        """(rows, vanished, newest) after :meth:`_restore`: the rows whose ``updated_at`` differs
        from the one the snapshot was built from, or that it does not know and are published (new,
        edited, withdrawn: the same as an incremental refresh finds, and also what a restore or a
        clock going back changed); the engine ids the snapshot knows whose row is gone; the newest
        ``updated_at`` of all rows (the next refresh's start). Reads each row's id, status and
        date (~0.3 s at 110k rows), then only the changed rows in full."""
        rows: list[Submission] = []
        seen: set[str] = set()
        newest: datetime | None = None
        for submission_type in TYPES:
            model = submission_type.model
            stale = []
            for row_id, status, updated_at in db.session.execute(sa.select(model.id, model.status, model.updated_at)):
                ref = f"{submission_type.code}:{row_id}"  # engine_id() without loading the row
                newest = updated_at if newest is None or (updated_at and updated_at > newest) else newest
                if ref in self._versions:
                    seen.add(ref)
                    if self._versions[ref] != updated_at:
                        stale.append(row_id)
                elif status == Status.PUBLISHED.value:
                    stale.append(row_id)
            for start in range(0, len(stale), 500):
                rows.extend(db.session.scalars(sa.select(model).where(model.id.in_(stale[start:start + 500]))
                                               .options(*with_facets(submission_type))))
        return rows, [ref for ref in self._versions if ref not in seen], newest

    def save_snapshot(self) -> int | None:
        """Save the engine, fitted, for the next process to start from (:mod:`services.index_snapshot`).
        Holds the engine's lock while it is written (seconds at 100k items: the job worker saves
        it, or a thread when there is no Redis). Returns the file's size in bytes, None when
        snapshots are off or the engine is not built. Raises OSError when the file cannot be written."""
        path = self.snapshot_file
        if path is None:
            return None
        with self._refreshing, self._lock:
            if self._engine is None:
                return None
            self._engine.prepare()
            size = index_snapshot.write(index_snapshot.Snapshot(
                self.embedder.model_id, self._engine, dict(self._versions), dict(self._pending),
                self._members_only, dict(self._confidential)), path, self._snapshot_key)
            self._changes_since_snapshot = 0
            self._snapshot_asked = False
        return size

    def is_pending(self, ref: str) -> bool:
        """True while the submission ``ref`` (engine id) is published but not embedded yet, so
        not ranked for anyone (as of the last refresh)."""
        return ref in self._pending

    def reset(self) -> None:
        """Forget the engine and delete its snapshot; the next refresh rebuilds it from the stored
        vectors (after a reindex)."""
        with self._refreshing, self._lock:
            self._engine, self._refreshed_at = None, None
            self._pending, self._asked, self._members_only, self._versions = {}, set(), frozenset(), {}
            self._confidential = {}
            self._explanations.clear()  # after a reindex, from other vectors
            self._rankings.clear()  # a new engine counts its versions from 0 again
            self._epoch += 1
            self._prepared.clear()
            if self.snapshot_dir:
                index_snapshot.remove(self.snapshot_file)

    def query_vectors(self, queries: Sequence[Item]) -> np.ndarray:
        """float32 (len(queries), dim): the queries' vectors, in one cached call."""
        return self.embedder.embed([item_text(q) for q in queries], "query")

    def rank(self, query: Item, top_k: int = 10, exclude: Collection[str] = (), min_band: str = "weak",
             candidate_ids: Collection[str] | None = None, query_vec: np.ndarray | None = None) -> list[Match]:
        """The best items on the other side of ``query``, best first, in two stages: the engine's
        first stage (:meth:`matching.ranking.MatchEngine.rank`) finds the top
        :data:`SECOND_STAGE_TOP_N`, the ranker in use re-scores them (:func:`matching.rerank.rerank`:
        ``score`` is the probability that the pair is relevant, ``band`` comes from it and is the
        same whichever side asks). Without a ranker file the first stage ranks alone.
        ``query_vec`` from ``query_vectors()`` when the caller embedded many queries at once.
        Call ``refresh()`` first.

        A ranking is kept in the process (the :data:`RANKINGS_KEPT` used last) while nothing it
        depends on changes: the query item (its text and facets), the arguments, the engine's
        :attr:`~matching.ranking.MatchEngine.version`, the ranker file, the glossary and the day; one
        made while a candidate's texts were not embedded yet (a provisional material) is not kept.
        A matches page asks the same question at every visit (~40 ms at 100k items). The list
        returned is shared: callers must not change it."""
        ranker = self._ranker()
        today = local_today()  # needs past their deadline in the province's calendar are not ranked
        key = None
        if query_vec is None:
            with self._lock:
                version = self._ready().version
            if ranker is not self._rankings_by:  # another ranker file (a Ranker is not hashable)
                self._rankings.clear()
                self._rankings_by = ranker
            key = (query, top_k, frozenset(exclude), min_band,
                   None if candidate_ids is None else frozenset(candidate_ids),
                   today, version, current_glossary() if ranker is not None else None)
            kept = self._rankings.get(key)
            if kept is not None:
                return list(kept)
        ranked, complete = self._rank(query, top_k, exclude, min_band, candidate_ids, query_vec, ranker, today)
        if key is not None and complete:
            self._rankings.put(key, ranked)
        return list(ranked)

    def _rank(self, query: Item, top_k: int, exclude: Collection[str], min_band: str,
              candidate_ids: Collection[str] | None, query_vec: np.ndarray | None, ranker: Ranker | None,
              today) -> tuple[list[Match], bool]:
        """:meth:`rank` without keeping it: (matches, whether every candidate's material was complete)."""
        vec = self.query_vectors([query])[0] if query_vec is None else query_vec
        with self._lock:
            engine = self._ready()
            if ranker is None:
                return engine.rank(query, vec, top_k=top_k, exclude=exclude, min_band=min_band,
                                   candidate_ids=candidate_ids, today=today), True
            first = engine.rank(query, vec, top_k=max(top_k, SECOND_STAGE_TOP_N), exclude=exclude,
                                candidate_ids=candidate_ids, today=today)
            if not first:
                return [], True
            context = self._context(engine, [engine.get(m.item_id) for m in first])
        items = {it.id: it for it in context.items}
        items[query.id] = query
        materials, complete = self._materials_of(context, ranker.stats, extra=(query, vec))
        ranked = rerank(query, first, items, materials, ranker)
        allowed = BANDS[:BANDS.index(min_band) + 1]
        return [m for m in ranked if m.band in allowed][:top_k], complete

    def _ranker(self) -> Ranker | None:
        """The ranker in use, if it was fitted on vectors of this model's size (a ranker fitted
        with another model is logged and left unused: the first stage ranks alone)."""
        ranker = current_ranker()
        debias = ranker.stats.sentence_debias if ranker is not None else None
        dim = self._ready().dim  # the model's, without loading it
        if debias is not None and debias.dim != dim:
            log_once(("dimension", ranker.version, ranker.meta.get("fitted_at"), debias.dim, dim),
                     "ranker-%04d was fitted on %d-dimensional vectors, the model gives %d: not used; "
                     "fit a new one with flask --app app fit-ranker", ranker.version, debias.dim, dim)
            return None
        return ranker

    def pair_features(self, need: Item, idea: Item, stats: CorpusStatistics | None = None) -> np.ndarray | None:
        """The second stage's features of one pair as the live index sees it (float64
        (len(FEATURES),)), computed with ``stats`` (default: the ranker in use's), None when
        either is not in the index. Call ``refresh()`` first."""
        if stats is None:
            ranker = self._ranker()
            stats = ranker.stats if ranker is not None else NO_STATISTICS
        with self._lock:
            engine = self._ready()
            pair = [engine.get(need.id), engine.get(idea.id)]
            if None in pair:
                return None
            context = self._context(engine, pair)
        materials, _ = self._materials_of(context, stats)
        return pair_features(need, idea, materials[need.id], materials[idea.id], stats=stats)

    def _context(self, engine: MatchEngine, items: list[Item]) -> _Context:
        """What computing materials needs from the engine, taken under the engine's lock: the
        items' raw vectors, a copy of the fitted debiasing (a refit replaces its arrays, it does
        not change them in place) and the generation."""
        return _Context(items, engine.raw_vectors([it.id for it in items]), copy.copy(engine.debiaser),
                        engine.generation)

    def _materials_of(self, context: _Context, stats: CorpusStatistics,
                      extra: tuple[Item, np.ndarray] | None = None) -> tuple[dict[str, Material], bool]:
        """(materials, complete): materials of the context's items (and of ``extra``, a query with
        its vector) for a ranker with ``stats``, from the process's cache where the item, the engine's
        generation, the glossary and the ranker's statistics are unchanged; the rest in one cached
        embedding call. ``complete`` is False when a candidate got a provisional material (its texts
        are not embedded yet: a job is asked to prepare it)."""
        glossary = current_glossary()
        items = list(context.items)
        vecs = list(context.vectors)
        if extra is not None:
            items.append(extra[0])
            vecs.append(extra[1])
        out: dict[str, Material] = {}
        missing: list[int] = []
        with self._materials_lock:
            for k, it in enumerate(items):
                hit = self._materials.get(it.id)
                if (hit is not None and hit[0] == it and hit[1] == context.generation and hit[2] is glossary
                        and hit[3] is stats):
                    self._materials.move_to_end(it.id)
                    out[it.id] = hit[4]
                else:
                    missing.append(k)
        query = len(items) - 1 if extra is not None else None
        # Only the query's own texts may be embedded here; a candidate whose title and sentences
        # are not stored yet gets a provisional material (its document vector) and is prepared by a job.
        texts = {k: _texts(items[k]) for k in missing if k != query}
        unstored = self.embedder.unstored([t for group in texts.values() for t in group])
        ready = [k for k in missing if k == query or unstored.isdisjoint(texts[k])]
        provisional = [k for k in missing if k not in ready]
        if provisional:
            made = materials_for([items[k] for k in provisional], np.stack([vecs[k] for k in provisional]),
                                 None, context.debias, glossary, stats)
            out.update(made)
            self.prepare([items[k].id for k in provisional])
        if ready:
            made = materials_for([items[k] for k in ready], np.stack([vecs[k] for k in ready]),
                                 self.embedder, context.debias, glossary, stats)
            with self._materials_lock:
                for k in ready:
                    it = items[k]
                    out[it.id] = made[it.id]
                    if it.id:  # a draft being written has no id worth keeping
                        self._materials[it.id] = (it, context.generation, glossary, stats, made[it.id])
                while len(self._materials) > MATERIALS_CACHED:
                    self._materials.popitem(last=False)
        return out, not provisional

    def stored_parts(self, items: Sequence[Item], glossary: Glossary | None) -> dict[str, TextParts]:
        """Item id -> the explanation parts (:func:`matching.explain.text_parts` with ``glossary``)
        stored for it by the job that embedded it, kept in the process once read (the
        :data:`EXPLANATIONS_KEPT` used last); items whose parts are not stored are left out.
        One look at the store for the items not kept."""
        keys = {it.id: parts_key(it, glossary=glossary) for it in items}
        out, missing = {}, []
        for ref, key in keys.items():
            kept = self._parts.get(key)
            if kept is None:
                missing.append(key)
            else:
                out[ref] = kept
        if missing:
            found = self.parts_store.get_many(missing)
            for key, parts in found.items():
                self._parts.put(key, parts)
            out.update((ref, found[key]) for ref, key in keys.items() if key in found)
        return out

    def unprepared(self, items: Sequence[Item], glossary: Glossary | None) -> set[str]:
        """Ids of ``items`` whose explanation material is not all stored yet: their parts
        (:meth:`stored_parts`) and the vectors of their sentences and key terms, in one look at
        each store for the items not known to be prepared; a job is asked to prepare those
        (:meth:`prepare`). An item found prepared is remembered (the :data:`EXPLANATIONS_KEPT` used
        last): stored material stays stored, and a matches page asks about the same items at every
        visit."""
        todo = [it for it in items if self._prepared.get((it, glossary)) is None]
        if not todo:
            return set()
        parts = self.stored_parts(todo, glossary)
        texts = {ref: sentences + [t.text for t in terms] for ref, (sentences, terms) in parts.items()}
        unstored = self.embedder.unstored([t for group in texts.values() for t in group])
        pending = {it.id for it in todo if it.id not in texts or not unstored.isdisjoint(texts[it.id])}
        for it in todo:
            if it.id not in pending:
                self._prepared.put((it, glossary), True)
        self.prepare(pending)
        return pending

    def prepare(self, refs: Collection[str]) -> None:
        """Ask a job, once per process and submission, to embed the explanation texts of ``refs``
        (engine ids) that a page met unprepared (:func:`warm_explanations`)."""
        with self._materials_lock:
            asked = [ref for ref in refs if ref and ref not in self._preparing]
            self._preparing.update(asked)
        for ref in asked:
            jobs.enqueue("warm_explanations", ref)

    def explain(self, query: Item, candidate: Item, glossary: Glossary | None) -> Explanation:
        """:func:`matching.explain.explain` of one pair, with the stored vectors, kept in this
        process (the :data:`EXPLANATIONS_KEPT` pairs used last): a pair's explanation depends only on
        the two items (their texts and facets: a changed text is another item), the glossary (a
        changed one is a new object) and the day (deadlines), and a matches page explains the same
        ten pairs at every visit (~10 ms each at 100k items, mostly reading their vectors). The
        explanation returned is shared: callers must not change it."""
        today = local_today()
        key = (query, candidate, glossary, today)
        why = self._explanations.get(key)
        if why is None:
            parts = self.stored_parts([query, candidate], glossary)  # else segmented here (a draft)
            why = explain(query, candidate, self.embedder, glossary=glossary, today=today,
                          query_parts=parts.get(query.id), candidate_parts=parts.get(candidate.id))
            self._explanations.put(key, why)
        return why

    def similar(self, query: Item, top_k: int = 5, exclude: Collection[str] = (),
                min_band: str = "good", query_vec: np.ndarray | None = None) -> list[Match]:
        """Items on the same side as ``query`` (near-duplicates), best first (see
        :meth:`matching.ranking.MatchEngine.similar`); ``query_vec`` when the caller has it
        (e.g. from ``transient_vector``). Call ``refresh()`` first."""
        vec = self.query_vectors([query])[0] if query_vec is None else query_vec
        with self._lock:
            return self._ready().similar(query, vec, top_k=top_k, exclude=exclude, min_band=min_band)

    @property
    def ready(self) -> bool:
        """True once the model is loaded and the engine built (a first ``refresh()`` has run)."""
        return self._engine is not None

    def load_in_background(self, app: Flask) -> None:
        """Load the model and build the engine in a thread, once, so that a caller who must not
        wait (a search) can go on without it and find it ready later."""
        with self._materials_lock:
            if self._loading is None and self._engine is None:
                self._loading = preload(app)

    def search(self, text: str, lang: str, side: str, top_k: int = 50, exclude: Collection[str] = (),
               timeout: float = 0.5, lexical: bool = False) -> list[Match] | None:
        """Items of ``side`` ("idea" or "need") whose meaning is nearest to a short text typed in a
        search box, in any language, best first (:meth:`matching.ranking.MatchEngine.similar` with
        the text as title; ``lang`` its language, for debiasing). The text's vector is kept in this
        process only (a search is not a submission: it is never written to the vector cache).
        Returns None, without waiting longer than ``timeout`` seconds, when the model is busy with
        other work. ``lexical``: also score the engine's TF-IDF term (off: the database matches the
        words, and the term would read every same-language item: ~1.5 s at 100k ideas against a
        few ms for the cosine). Call ``refresh()`` first."""
        vec = self.transient_vector(text, timeout)
        if vec is None:
            return None
        query = Item(id="", side=side, kind="search", lang=lang, text="", title=text)
        with self._lock:
            return self._ready().similar(query, vec, top_k=top_k, exclude=exclude, min_band="weak",
                                         lexical=lexical)

    def transient_vector(self, text: str, timeout: float = 0.5) -> np.ndarray | None:
        """float32 (dim,): the vector of a text that is not a saved submission (a search, a draft
        being typed), kept in this process's memory only, never written to the vector cache. None
        when the model is busy longer than ``timeout`` seconds."""
        vec = self._search_vectors.get(text)
        if vec is not None:
            return vec
        try:
            vec = self.embedder.embedder.embed([text], "query", timeout=timeout)[0]
        except TimeoutError:
            return None
        self._search_vectors.put(text, vec)
        return vec

    def _ready(self) -> MatchEngine:
        if self._engine is None:
            raise RuntimeError("MatchIndex.refresh() must be called before asking the engine")
        return self._engine


@dataclass
class _Context:
    """A snapshot of what the second stage reads from the engine (see ``MatchIndex._context``)."""

    items: list[Item]
    vectors: np.ndarray
    debias: LanguageDebias | None
    generation: int


def match_index(app: Flask | None = None) -> MatchIndex:
    """The process's index for this app (one per app object; tests make several apps)."""
    app = app or current_app._get_current_object()
    index = app.extensions.get("match_index")
    if index is None:
        index = app.extensions.setdefault("match_index", MatchIndex(
            app.config["MATCHING_BACKEND"], app.config["MATCHING_MODEL"], app.config["MODEL_DIR"],
            app.config.get("MATCHING_THREADS") or None, snapshot_dir=app.config.get("MATCH_INDEX_SNAPSHOT_DIR"),
            snapshot_key=str(app.config["SECRET_KEY"]).encode(),
            database_url=str(app.config["SQLALCHEMY_DATABASE_URI"])))
    return index


def preload(app: Flask) -> threading.Thread:
    """Load the index and then, ``MATCHING_MODEL_PRELOAD_DELAY`` seconds later, the model in the
    background, so the first visitor does not wait (a matches page needs the index only; a search
    or a new text, the model too, which a search does without meanwhile and a text asked for earlier
    loads at once). Importing PyTorch holds the interpreter for seconds: right after the index, it
    delayed a worker's first matches pages from 4.7 to 6.7 s after launch (docs/operations.md)."""
    def work():
        with app.app_context():
            try:
                index = match_index(app)
                index.refresh()
                time.sleep(app.config.get("MATCHING_MODEL_PRELOAD_DELAY", 0))
                index.load_model()
            except ModelMissingError as missing:
                log.warning("%s", missing)
    thread = threading.Thread(target=work, name="matching-preload", daemon=True)
    thread.start()
    return thread


def text_problem(text: str) -> str | None:
    """Why a text cannot be matched ("empty", "no_letters", "too_long"), or None if it can."""
    try:
        check_text(clean_text(text))
    except TextRejected as rejected:
        return rejected.code
    return None


# --- embedding -----------------------------------------------------------------------

def embed_submissions(subs: Iterable[Submission], key_terms: bool = True) -> int:
    """Embed (or find in the cache) the texts of these submissions: each one's whole text, its
    title and sentences (what the second stage ranks on) and, with ``key_terms``, the sentences
    and key-term candidates its explanations pair (about two thirds of the model's time: at the
    demo size, 2,095 of 2,199 texts), whose parts (:func:`matching.explain.text_parts`) are then
    stored for every process's pages. Returns how many were embedded."""
    index = match_index()
    embedder = index.embedder
    glossary = current_glossary() if key_terms else None
    texts: list[str] = []
    count = 0
    terms: list[str] = []  # after every ranking text: a submission can be ranked once the first calls are done
    parts: dict[str, TextParts] = {}
    documents: list[str] = []  # first: with its whole text's vector a submission is ranked
    for sub in subs:
        item = to_item(sub)
        documents.append(item_text(item))
        title, sentences = material_texts(item)
        texts.append(title)
        texts.extend(sentences)
        if key_terms:
            found = text_parts(item, glossary=glossary)
            parts[parts_key(item, glossary=glossary)] = found
            terms.extend(found[0] + [t.text for t in found[1]])
        count += 1
    for group in (documents, texts, terms):
        # longest first within each group, so that a batch holds texts of one length: the model pads
        # every text of a batch to its longest (a sentence batched with whole texts cost 8x its own
        # length; `make db`'s embedding took 52 s instead of ~28)
        group = sorted(dict.fromkeys(group), key=len, reverse=True)
        for start in range(0, len(group), BATCH):
            embedder.embed(group[start:start + BATCH], "query")
    if parts:  # after their vectors: stored parts say the text is prepared
        index.parts_store.put_many(parts)
    return count


def submission_changed(sub: Submission) -> None:
    """Called after a submission is saved. A published one is embedded by an interactive job
    (:func:`warm_explanations`: its whole text, title and sentences first, then the key terms that
    explanations pair), not in the author's request: a long text costs the model 1-2 s on 2 cores.
    Until its vector is stored its page says its matches are being prepared (seconds). The
    submission itself is already committed: a failure here loses nothing, and `flask --app app
    reindex --missing` catches up."""
    if not sub.is_published:
        return
    try:
        jobs.enqueue("warm_explanations", engine_id(sub))
    except Exception:  # the engine must never cost the author their saved work
        db.session.rollback()
        log.exception("Embedding not queued for %s; `flask --app app reindex --missing` will", engine_id(sub))


def embed_job(refs: list[str], explanations: bool = True, alert: bool = False) -> int:
    """Job (bulk queue): embed the submissions ``refs`` (engine ids), with their explanation texts
    when ``explanations``, :data:`EMBED_CHUNK` per job: this job embeds the first chunk and queues
    the rest as a new job, so e-mail and other interactive jobs queued meanwhile run in between.
    ``alert``: then queue each embedded submission's match alerts (services.alerts.match_alerts:
    an import's ideas, alerted for once they can be ranked). Idempotent: texts already stored are
    skipped, so a job retried after a crash redoes only what was not stored, and a text is never
    stored twice. Returns how many were embedded here."""
    head, rest = list(refs[:EMBED_CHUNK]), list(refs[EMBED_CHUNK:])
    subs = [s for s in submission_types.load(head).values() if s.is_published]
    if explanations:
        embed_submissions(subs)
    elif subs:
        match_index().embedder.embed([item_text(to_item(s)) for s in subs], "query")
    if alert:
        for sub in subs:
            jobs.enqueue("match_alerts", engine_id(sub))
    if rest:
        jobs.enqueue("embed", rest, explanations, alert)
    return len(subs)


def warm_explanations(ref: str) -> None:
    """Job: embed a published submission's explanation texts (idempotent: cached texts are skipped)."""
    sub = submission_types.load([ref]).get(ref)
    if sub is not None and sub.is_published:
        embed_submissions([sub])


def reindex(missing_only: bool = True, progress=None, key_terms: bool = True) -> int:
    """Embed every published submission (and, with ``key_terms``, its explanation texts: see
    :func:`embed_submissions`; without them every submission is ranked as fully, and a page shows
    "reasons are being prepared" until a job or another reindex embeds them). With
    missing_only=False the current model's stored vectors are dropped first, e.g. after the model
    changed. ``progress`` is called with the number of submissions done in each step. Returns how
    many were embedded."""
    index = match_index()
    if not missing_only:
        DatabaseVectorStore().delete_model(index.embedder.model_id)
    subs = [s for kind in TYPES
            for s in db.session.scalars(sa.select(kind.model).where(kind.model.status == Status.PUBLISHED.value)
                                        .options(*with_facets(kind)))]
    for start in range(0, len(subs), 16):
        embed_submissions(subs[start:start + 16], key_terms=key_terms)
        if progress:
            progress(len(subs[start:start + 16]))
    index.reset()
    return len(subs)


def snapshot_job() -> int | None:
    """Job (bulk queue): bring this process's index up to date and save its snapshot, so that the
    next process to start reads it instead of every row. Returns the file's size in bytes."""
    index = match_index()
    index.refresh()
    return index.save_snapshot()


def reindex_job(missing_only: bool = True) -> int:
    """Job form of reindex(), for the worker: with missing_only=False the current model's stored
    vectors are dropped first; then every published submission is queued for embedding as
    chunked bulk jobs (:func:`embed_job`: texts first, then explanation texts), so e-mail and
    other interactive jobs are not held up. Returns how many submissions were queued."""
    index = match_index()
    if not missing_only:
        DatabaseVectorStore().delete_model(index.embedder.model_id)
    refs = [engine_id(s) for kind in TYPES
            for s in db.session.scalars(sa.select(kind.model).where(kind.model.status == Status.PUBLISHED.value))]
    index.reset()
    jobs.enqueue("embed", refs, False)
    jobs.enqueue("embed", refs, True)
    return len(refs)
