"""The seam between submissions and the matching engine.

Submissions become `matching.ranking.Item`s; their vectors live in the database (so a restart
does not re-embed) and in one in-memory `MatchEngine` per process. The engine follows the
database: before each query it picks up the submissions changed since it last looked, so
several processes (gunicorn workers, CLI commands) stay consistent without talking to each other.
"""
from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from matching.embedders import CachedEmbedder, ModelMissingError, load_embedder
from matching.explain import Explanation, explain, texts_to_embed
from matching.ranking import Item, Match, MatchEngine, item_text
from matching.text import TextRejected, check_text, clean_text
from models import Idea, ResearchOrder, Status, TechnologyNeed, User, Visibility
from models.people import is_staff
from services.submissions import Submission, can_see_details, can_view, kind_of
from services.vector_store import DatabaseVectorStore

log = logging.getLogger(__name__)

PREFIX = {Idea: "idea", TechnologyNeed: "need", ResearchOrder: "order"}
MODELS = {prefix: model for model, prefix in PREFIX.items()}
SHOWN_BANDS = "possible"  # weaker matches are never shown
BATCH = 64


def item_id(sub: Submission) -> str:
    return f"{PREFIX[type(sub)]}:{sub.id}"


def to_item(sub: Submission) -> Item:
    """What the engine knows of a submission: its text and facets, nothing personal."""
    kind = kind_of(sub)
    body = clean_text("\n".join(getattr(sub, f) or "" for f in kind.text_fields if f != "title"))
    stage = None
    if isinstance(sub, Idea):
        side, item_kind, deadline, stage = "idea", sub.kind, None, sub.stage
    elif isinstance(sub, TechnologyNeed):
        side, item_kind, deadline = "need", "business_need", sub.deadline
        stage = sub.required_stage
    else:
        side, item_kind, deadline = "need", "research_order", sub.proposal_deadline
    keywords = tuple(k.strip() for k in (getattr(sub, "keywords", None) or "").split(",") if k.strip())
    return Item(id=item_id(sub), side=side, kind=item_kind, lang=sub.language or "vi",
                text=body, title=clean_text(sub.title or ""),
                sectors=frozenset(s.code for s in sub.sectors),
                place=sub.place.code if sub.place else None,
                place_group=sub.place.former_district if sub.place else None,
                stage=stage, trl=getattr(sub, "trl", None),
                deadline=deadline, keywords=keywords)


def text_problem(text: str) -> str | None:
    """Why a text cannot be matched ("empty", "no_letters", "too_long"), or None if it can."""
    try:
        check_text(clean_text(text))
    except TextRejected as rejected:
        return rejected.code
    return None


@functools.lru_cache(maxsize=2)
def _load_model(backend: str, model: str | None, model_dir: str):
    """A model is loaded once per process (it is immutable; apps made by tests share it)."""
    return load_embedder(backend, model, Path(model_dir))


class MatchingState:
    """One process's embedder and engine. Built lazily: the model loads on first use."""

    def __init__(self, config: dict):
        self.config = config
        self.lock = threading.RLock()
        self._embedder: CachedEmbedder | None = None
        self._engine: MatchEngine | None = None
        self._synced_at: datetime | None = None

    @property
    def embedder(self) -> CachedEmbedder:
        with self.lock:
            if self._embedder is None:
                raw = _load_model(self.config["MATCHING_BACKEND"], self.config["MATCHING_MODEL"],
                                  self.config["MODEL_DIR"])
                self._embedder = CachedEmbedder(raw, DatabaseVectorStore())
            return self._embedder

    def engine(self) -> MatchEngine:
        """The engine, brought up to date with every submission changed since the last call."""
        with self.lock:
            if self._engine is None:
                self._engine = MatchEngine(dim=self.embedder.dim)
            self._sync()
            return self._engine

    def _sync(self) -> None:
        changed: list[Submission] = []
        newest = self._synced_at
        for model in MODELS.values():
            # Sectors and places come along in two queries, not one per submission.
            stmt = sa.select(model).options(selectinload(model.sectors), joinedload(model.place))
            if self._synced_at is not None:
                stmt = stmt.where(model.updated_at >= self._synced_at)
            else:
                stmt = stmt.where(model.status == Status.PUBLISHED.value)
            rows = list(db.session.scalars(stmt))
            changed.extend(rows)
            newest = max([newest, *(r.updated_at for r in rows)], key=lambda t: t or datetime.min)
        self._engine.remove([item_id(s) for s in changed if s.status != Status.PUBLISHED.value])
        items = [to_item(s) for s in changed if s.status == Status.PUBLISHED.value]
        if items:  # one call: the cache looks the vectors up in large chunks, the model embeds only misses
            self._engine.add(items, self.embedder.embed([item_text(i) for i in items], "query"))
        self._synced_at = newest


def state(app: Flask | None = None) -> MatchingState:
    app = app or current_app._get_current_object()
    return app.extensions.get("matching") or app.extensions.setdefault("matching", MatchingState(app.config))


def preload(app: Flask) -> None:
    """Load the model and the index in the background, so the first visitor does not wait."""
    def work():
        with app.app_context():
            try:
                state(app).engine()
            except ModelMissingError as missing:
                log.warning("%s", missing)
    threading.Thread(target=work, name="matching-preload", daemon=True).start()


# --- writing ---------------------------------------------------------------------


def embed_submissions(subs: Iterable[Submission]) -> int:
    """Embed (or find in the cache) the texts of these submissions and of their explanations."""
    embedder = state().embedder
    texts: list[str] = []
    count = 0
    for sub in subs:
        item = to_item(sub)
        texts.append(item_text(item))
        texts.extend(texts_to_embed(item))
        count += 1
    for start in range(0, len(texts), BATCH):
        embedder.embed(texts[start:start + BATCH], "query")
    return count


def submission_changed(sub: Submission) -> None:
    """Called after a submission is saved. A published one is embedded now (one text, tens of
    milliseconds) so the author's next page already shows its matches; the sentences and terms
    that explanations use are embedded by a background job. The submission itself is already
    committed: a failure here loses nothing, and `flask --app app reindex --missing` catches up."""
    if sub.status != Status.PUBLISHED.value:
        return
    from services import jobs
    try:
        state().embedder.embed([item_text(to_item(sub))], "query")
        jobs.enqueue("warm_explanations", item_id(sub))
    except ModelMissingError as missing:
        log.error("Not embedded (%s): %s", item_id(sub), missing)
    except Exception:  # the engine must never cost the author their saved work
        db.session.rollback()
        log.exception("Embedding failed for %s; `flask --app app reindex --missing` will retry", item_id(sub))


def warm_explanations(ref: str) -> None:
    """Job: embed a published submission's explanation texts (idempotent: cached texts are skipped)."""
    sub = _load([ref]).get(ref)
    if sub is not None and sub.status == Status.PUBLISHED.value:
        embed_submissions([sub])


def reindex_job(missing_only: bool = True) -> int:
    """Job form of reindex(), for the worker."""
    return reindex(missing_only=missing_only)


def reindex(missing_only: bool = True, progress=None) -> int:
    """Embed every published submission (and its explanation texts). With missing_only=False the
    current model's stored vectors are dropped first, e.g. after the model changed."""
    st = state()
    if not missing_only:
        DatabaseVectorStore().delete_model(st.embedder.model_id)
    subs = [s for model in MODELS.values()
            for s in db.session.scalars(sa.select(model).where(model.status == Status.PUBLISHED.value)
                                        .options(selectinload(model.sectors), joinedload(model.place)))]
    for start in range(0, len(subs), 16):
        embed_submissions(subs[start:start + 16])
        if progress:
            progress(len(subs[start:start + 16]))
    with st.lock:
        st._engine, st._synced_at = None, None  # rebuilt from the vectors on next use
    return len(subs)


# --- reading ---------------------------------------------------------------------

@dataclass
class MatchView:
    """A ranked match as a page shows it: the other submission, its band and the reasons."""

    submission: Submission
    slug: str
    band: str
    explanation: Explanation


def _hidden_from(viewer: User | None) -> set[str]:
    """Ids the viewer may not be shown as matches: confidential needs (except to staff and their
    author) and members-only ideas (to anonymous visitors)."""
    if is_staff(viewer):
        return set()
    published = Status.PUBLISHED.value
    stmt = sa.select(TechnologyNeed.id).where(TechnologyNeed.confidential.is_(True),
                                              TechnologyNeed.status == published)
    if viewer is not None and viewer.is_authenticated:
        stmt = stmt.where(TechnologyNeed.owner_id != viewer.id)
    hidden = {f"need:{i}" for i in db.session.scalars(stmt)}
    if viewer is None or not viewer.is_authenticated:
        hidden |= {f"idea:{i}" for i in db.session.scalars(
            sa.select(Idea.id).where(Idea.visibility == Visibility.MEMBERS.value, Idea.status == published))}
    return hidden


def _load(ids: list[str]) -> dict[str, Submission]:
    found: dict[str, Submission] = {}
    for prefix, model in MODELS.items():
        wanted = [int(i.split(":")[1]) for i in ids if i.startswith(prefix + ":")]
        if wanted:
            found.update((f"{prefix}:{s.id}", s) for s in db.session.scalars(sa.select(model).where(model.id.in_(wanted))))
    return found


def _views(engine: MatchEngine, query: Item, matches: list[Match], viewer: User | None, explain_top: int,
           quote_query: bool = True) -> list[MatchView]:
    """Page-ready matches. With quote_query=False (a confidential need shown to someone who may not
    read it) explanations keep only the facets: sentence pairs and terms would quote its text."""
    st = state()
    subs = _load([m.item_id for m in matches])
    views = []
    for match in matches:
        sub = subs.get(match.item_id)
        if sub is None or sub.status != Status.PUBLISHED.value or not can_view(viewer, sub):
            continue
        candidate = engine.get(match.item_id) or to_item(sub)
        why = explain(query, candidate, st.embedder) if len(views) < explain_top else Explanation(facets=[])
        if not quote_query:
            why = Explanation(facets=why.facets)
        views.append(MatchView(sub, kind_of(sub).slug, match.band, why))
    return views


def _ask(query: Item, method: str, then=None, no_model=(), **kwargs):
    """Call the engine's `rank` or `similar` for `query` (and `then(engine, matches)`, still holding
    the lock that keeps the model and the engine to one thread). `list(no_model)` when there is no
    model yet."""
    try:
        st = state()
        with st.lock:
            engine = st.engine()
            vec = st.embedder.embed([item_text(query)], "query")[0]
            matches = getattr(engine, method)(query, vec, **kwargs)
            return then(engine, matches) if then else matches
    except ModelMissingError as missing:
        log.warning("%s", missing)
        return list(no_model)


def matches_for(sub: Submission, viewer: User | None, top_k: int = 10, explain_top: int = 10) -> list[MatchView]:
    """The best matches on the other side for a submission, with reasons, that this viewer may see.
    Returns [] when the engine cannot run (no model yet): pages still work."""
    query = to_item(sub)
    quote = can_see_details(viewer, sub)
    return _ask(query, "rank", lambda engine, matches: _views(engine, query, matches, viewer, explain_top, quote),
                top_k=top_k, exclude=_hidden_from(viewer), min_band=SHOWN_BANDS)


def similar_ideas(fields: dict, viewer: User | None, exclude_id: int | None = None, top_k: int = 5) -> list[MatchView]:
    """Existing ideas (any language) close to an idea being written: to avoid duplicates."""
    draft = Idea(id=exclude_id or 0, title=fields.get("title") or "", summary=fields.get("summary") or "",
                 description=fields.get("description") or "", keywords=fields.get("keywords") or "",
                 language=fields.get("language") or "vi", kind=fields.get("kind") or "startup_idea")
    query = to_item(draft)
    if text_problem(item_text(query)):
        return []
    exclude = _hidden_from(viewer) | ({f"idea:{exclude_id}"} if exclude_id else set())
    # A duplicate warning must be sure of itself: "good" or better only.
    return _ask(query, "similar", lambda engine, matches: _views(engine, query, matches, viewer, explain_top=top_k),
                top_k=top_k, exclude=exclude, min_band="good")


def ranked_pairs(sub: Submission, top_k: int = 3, min_band: str = "good") -> list[tuple[Submission, str, float]]:
    """The best published submissions on the other side, as (submission, band, score), best first,
    without explanations and without hiding anything: for proposals that staff review."""
    matches = _ask(to_item(sub), "rank", top_k=top_k, min_band=min_band)
    subs = _load([m.item_id for m in matches])
    return [(subs[m.item_id], m.band, m.score) for m in matches
            if m.item_id in subs and subs[m.item_id].status == Status.PUBLISHED.value]


def explain_pair(idea: Idea, target: Submission) -> tuple[str | None, Explanation | None]:
    """The engine's band and reasons for one given pair (None, None when the engine cannot run)."""
    query, candidate_id = to_item(target), item_id(idea)

    def band_and_reasons(engine, found):
        candidate = engine.get(candidate_id) or to_item(idea)
        return (found[0].band if found else None), explain(query, candidate, state().embedder)
    return tuple(_ask(query, "rank", band_and_reasons, no_model=(None, None), top_k=1, candidate_ids=[candidate_id]))


def pair_scores(targets: list[Submission], ideas: list[Idea]) -> tuple[np.ndarray, np.ndarray]:
    """Every (need/order, idea) pair as the engine sees it from the need's or order's side, for a
    matching round: the calibrated z-score, float (len(targets), len(ideas)), NaN where the engine
    does not hold the idea (not published), and the band, str array of the same shape ("weak" there).
    Raises ModelMissingError when the engine cannot run: a round must not be solved on nothing."""
    z = np.full((len(targets), len(ideas)), np.nan)
    bands = np.full(z.shape, "weak", dtype=object)
    if not targets or not ideas:
        return z, bands
    column = {item_id(idea): j for j, idea in enumerate(ideas)}
    st = state()
    with st.lock:
        engine = st.engine()
        queries = [to_item(t) for t in targets]
        for start in range(0, len(queries), BATCH):
            batch = queries[start:start + BATCH]
            vecs = st.embedder.embed([item_text(q) for q in batch], "query")
            for row, (query, vec) in enumerate(zip(batch, vecs), start):
                for match in engine.rank(query, vec, top_k=len(column), candidate_ids=column):
                    z[row, column[match.item_id]] = match.z
                    bands[row, column[match.item_id]] = match.band
    return z, bands
