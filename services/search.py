"""Search and sorting of the lists of ideas, technology needs and research orders.

Two parts answer the same box, fused into one order:

- **lexical**: the folded words of each submission (``search_public``, ``search_full``;
  :mod:`matching.search`) kept current on every flush by a session hook here, and searched with
  the database's own full-text index (SQLite FTS5, PostgreSQL ``tsvector`` with GIN; both made by
  migration ``954ab1933c32``). Every word of the query must be found; a text that holds the
  query as a phrase is an *exact* hit. The same words are indexed on both databases, so they give
  the same hits and the same tiers.
- **semantic**: the engine's nearest items to the query's meaning, in any language
  (:meth:`services.match_index.MatchIndex.search`), when the engine is ready and not busy;
  otherwise lists answer with the lexical hits alone and say so (``Found.cross_language``).
- **corrected**: when one letter typed wrong makes the query much rarer in the texts anyone may
  search than a query one edit away (:mod:`matching.spelling`, against the process's vocabulary:
  :mod:`services.spelling`), the corrected query's lexical hits are hits too, below every hit of
  the typed words (as a glossary translation's are), and the list says which words it also
  looked for (``Found.corrected``).

Relevance order: exact lexical hits first (title before text, then newest), then the other
lexical hits and the semantic hits by reciprocal rank fusion. Other orders (newest, deadline,
budget) sort the union of both parts.

Confidential needs: for anyone but staff and the need's author, only ``search_public`` (title and
place) is searched, and the engine's hits leave confidential needs out altogether
(:func:`services.matchmaking.hidden_from`): their vectors were made from the hidden text.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy.pagination import Pagination

from extensions import db
from matching.embedders import ModelMissingError
from matching.search import (
    Phrase,
    Query,
    document,
    expand,
    parse_query,
    reciprocal_rank_fusion,
    semantic_text,
    spelled,
    with_alternative,
)
from matching.spelling import correct_query
from matching.text import detect_language
from models import Submission, TechnologyNeed, User
from models.people import is_staff
from services import counts, submissions
from services.errors import ServiceError
from services.formats import local_today
from services.glossary import current_glossary
from services.match_index import match_index
from services.spelling import search_vocabulary
from services.submission_types import NEED, TYPES, SubmissionType, type_of, with_facets
from services.submissions import BrowseFilters

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest", "deadline", "budget")
EXACT_TIER = 3            # lexical tiers: 4 phrase in the title or place, 3 phrase in the text,
                          # 2 every typed word in the title or place, 1 every typed word somewhere,
                          # 0 found through a glossary translation or a correction only
SEMANTIC_POOL = 60        # the engine's nearest items looked at ...
SEMANTIC_TOP = 20         # ... of which at most this many of the list's type take part
SEMANTIC_MIN_Z = 2.3      # and only those this far above the pool (the engine's z-score; docs/search.md)
RRF_K = 60                # reciprocal rank fusion's constant (the usual value)
MAX_OFFSET = 2**31        # a page asked for beyond this offset is past the end of any list
EMBED_TIMEOUT = 0.3       # seconds a search waits for the model when other work holds it
SPELLING_CHARS = 600      # of each listed item's first description field read for a correction's spelling


@dataclass
class Found:
    """One page of a list. ``page``: Flask-SQLAlchemy pagination (items, page, pages, total,
    iter_pages); ``sort``: the order used; ``searched``: the query had words; ``cross_language``:
    "used" (the engine's hits are in), "not_ready" (lexical hits only: the engine is loading or
    busy) or "off" (no search); ``corrected``: the corrected query whose hits are also listed (below
    the typed words' hits), spelled as the listed items write it (:func:`_as_written`; folded
    words where they do not hold it), None when the query was not corrected."""

    page: Pagination
    sort: str
    searched: bool
    cross_language: str
    corrected: str | None = None


class RankedPagination(Pagination):
    """A page of an id list ranked in Python (relevance): ``ids`` best first (at least up to the
    page's end), ``total`` the list's length, ``model`` and ``options`` to load the page's rows."""

    def _query_items(self) -> list:
        ids = self._query_args["ids"][self._query_offset:self._query_offset + self.per_page]
        model = self._query_args["model"]
        rows = {r.id: r for r in db.session.scalars(
            sa.select(model).where(model.id.in_(ids)).options(*self._query_args["options"]))} if ids else {}
        return [rows[i] for i in ids if i in rows]

    def _query_count(self) -> int:
        return self._query_args["total"]


# --- the documents -------------------------------------------------------------------

def documents(sub: Submission) -> tuple[str, str]:
    """(public, full) folded words of a submission: public = title and place (name and former
    district), what anyone may find; full = title, text fields, the type's extra fields
    (organisation, team, ...) and place."""
    submission_type = type_of(sub)
    place = (sub.place.name, sub.place.former_district) if sub.place else ()
    fields = [getattr(sub, f, None) for f in (*submission_type.description_fields,
                                              *submission_type.search_extra_fields)]
    return document([sub.title, *place]), document([sub.title, *fields, *place])


def _searched_attributes(submission_type: SubmissionType) -> tuple[str, ...]:
    extra = tuple(f for f in submission_type.search_extra_fields if f != "organisation_name")
    return (*submission_type.text_fields, *extra, "organisation", "place", "place_id", "owner")


@sa.event.listens_for(db.session, "before_flush")
def _keep_documents(session, flush_context, instances) -> None:
    """Every new submission, and every changed one whose searched fields changed, gets its words
    before it is written (pages, the API, imports, seeding: everything that goes through the ORM;
    a restore calls :func:`rebuild_documents`)."""
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty):
            if not isinstance(obj, Submission):
                continue
            if obj not in session.new:
                state = sa.inspect(obj)
                names = [n for n in _searched_attributes(type_of(obj)) if n in state.attrs]
                if not any(state.attrs[n].history.has_changes() for n in names):
                    continue
            obj.search_public, obj.search_full = documents(obj)


def rebuild_documents(place_id: int | None = None, batch: int = 500) -> int:
    """Recompute the words of every submission (or of those at ``place_id``, after a place was
    renamed), for rows written outside the ORM (a restore, a bulk load). Leaves ``updated_at``
    alone (the match index need not look again). Returns how many rows were written; the caller
    commits."""
    written = 0
    for submission_type in TYPES:
        model = submission_type.model
        table = model.__table__
        update = (table.update().where(table.c.id == sa.bindparam("row_id"))
                  .values(search_public=sa.bindparam("public"), search_full=sa.bindparam("full"),
                          updated_at=table.c.updated_at))
        stmt = sa.select(model.id).order_by(model.id)
        if place_id is not None:
            stmt = stmt.where(model.place_id == place_id)
        ids = list(db.session.scalars(stmt))
        for start in range(0, len(ids), batch):
            rows = db.session.scalars(sa.select(model).where(model.id.in_(ids[start:start + batch]))
                                      .options(*with_facets(submission_type))).all()
            values = [dict(zip(("public", "full"), documents(r)), row_id=r.id) for r in rows]
            if values:
                db.session.execute(update, values)
            written += len(values)
    return written


# --- the lexical part ----------------------------------------------------------------

def _pg_tsquery(query: Query) -> str:
    """The words of every phrase, without their order: a GIN index keeps no word positions, so a
    ``<->`` phrase would make PostgreSQL parse every candidate's words again (``to_tsvector``,
    seconds at 10k candidates); phrases are checked by a substring search instead (:func:`_matches`)."""
    def phrase(p: Phrase) -> str:
        quoted = [f"'{w}'" for w in p.words]
        if p.prefix:
            quoted[-1] += ":*"
        return "(" + " & ".join(quoted) + ")"
    return " & ".join("(" + " | ".join(phrase(p) for p in group) + ")" for group in query.groups)


def _fts5_query(query: Query, column: str) -> str:
    def phrase(p: Phrase) -> str:
        return f'"{" ".join(p.words)}"' + ("*" if p.prefix else "")
    return f"{{{column}}} : (" + " AND ".join("(" + " OR ".join(phrase(p) for p in group) + ")"
                                               for group in query.groups) + ")"


def _holds(words: sa.ColumnElement[str], phrase: Phrase) -> sa.ColumnElement[bool]:
    """PostgreSQL: the folded words ``words`` hold ``phrase`` (a substring search for
    :meth:`Phrase.needle`; ``strpos`` took half the time of the equivalent ``LIKE '% ... %'`` on
    7.9k hits at 100k ideas)."""
    return sa.func.strpos(words, phrase.needle()) > 0


def _flat(query: Query) -> list[Query]:
    """``query`` without its alternatives, then each alternative (made by
    :func:`matching.search.with_alternative`, which gives them none of their own)."""
    return [replace(query, alternatives=()), *query.alternatives]


def _matches(submission_type: SubmissionType, column: str, query: Query) -> sa.ColumnElement[bool]:
    """The rows whose ``column`` ("search_public" or "search_full") holds every group of the query,
    through the database's full-text index, or every group of one of its alternatives."""
    model = submission_type.model
    if db.engine.dialect.name == "postgresql":
        simple = sa.literal_column("'simple'::regconfig")
        words = getattr(model, column)
        queries = _flat(query)
        vector = sa.func.to_tsvector(simple, words)  # the GIN indexes' expression
        # one index condition for the query and its alternatives: an OR of several would let
        # PostgreSQL parse every row's words (a sequential scan: ~1 s at 100k ideas)
        tsquery = " | ".join(f"({_pg_tsquery(q)})" for q in queries)
        found = vector.op("@@")(sa.func.to_tsquery(simple, sa.bindparam(None, tsquery, unique=True)))

        def held(group: tuple[Phrase, ...]) -> sa.ColumnElement[bool]:
            return sa.or_(*(_holds(words, p) for p in group))
        def ordered(group: tuple[Phrase, ...]) -> bool:
            return any(len(p.words) > 1 for p in group)
        if len(queries) == 1:
            # a group with a phrase of several words: the words in that order (a phrase's needle
            # holds its words, so the index narrows and the substring search decides, on the rows
            # the index found); a group of single words is the index's answer already
            return sa.and_(found, *(held(group) for group in query.groups if ordered(group)))
        if not any(ordered(group) for q in queries for group in q.groups):
            return found  # single words only: the index's answer is every group of one of them
        # which of them a row found by the index holds: every group of one of them
        return sa.and_(found, sa.or_(*(sa.and_(*(held(group) for group in q.groups)) for q in queries)))
    if query.alternatives:
        return sa.or_(*(_matches(submission_type, column, q) for q in _flat(query)))
    fts = f"{model.__tablename__}_search"
    hits = (sa.select(sa.literal_column("rowid")).select_from(sa.text(fts))
            .where(sa.literal_column(fts).op("MATCH")(sa.bindparam(None, _fts5_query(query, column), unique=True))))
    return model.id.in_(hits)


def _hides_details(submission_type: SubmissionType, user: User | None) -> bool:
    return submission_type is NEED and not is_staff(user)


def _own(submission_type: SubmissionType, user: User | None) -> sa.ColumnElement[bool]:
    model = submission_type.model
    return model.owner_id == user.id if user and user.is_authenticated else sa.false()


def _lexical(submission_type: SubmissionType, user: User | None, query: Query) -> sa.ColumnElement[bool]:
    """Rows where the user's searchable text holds the query: a confidential need's full text only
    for staff and its author, its title and place for everyone."""
    full = _matches(submission_type, "search_full", query)
    if not _hides_details(submission_type, user):
        return full
    public = _matches(submission_type, "search_public", query)
    return sa.or_(sa.and_(TechnologyNeed.confidential.is_(False), full), public,
                  sa.and_(_own(submission_type, user), full))


def _holding(submission_type: SubmissionType, column: str, query: Query) -> sa.ColumnElement[bool]:
    """The rows whose ``column`` holds every phrase of ``query`` (one phrase per group). SQLite:
    an uncorrelated ``id IN (...)`` answered once from the FTS5 index, which keeps word positions,
    so a hit's words are never read. PostgreSQL: a substring search of the words (:func:`_holds`),
    since a GIN index keeps no positions and a phrase would make it parse every candidate's words
    again (``to_tsvector``): seconds at 17k hits, where the substring search takes milliseconds."""
    if db.engine.dialect.name == "postgresql":
        words = getattr(submission_type.model, column)
        return sa.and_(*(_holds(words, group[0]) for group in query.groups))
    return _matches(submission_type, column, query)


def _tier(submission_type: SubmissionType, user: User | None, query: Query, expanded: Query) -> sa.ColumnElement[int]:
    """How exactly a lexical hit of ``expanded`` (``query`` with its glossary names) holds the
    query (see EXACT_TIER), from the text the user may search. On SQLite every rung is asked of the
    full-text index (at 100k ideas, a LIKE over each of 17k hits' words took most of a search; see
    :func:`_holding` for PostgreSQL), and a rung that every hit reaches is not asked."""
    phrase = Query(query.text, ((query.phrase,),))
    typed = Query(query.text, tuple((p,) for p in query.typed))
    hidden = _hides_details(submission_type, user)
    # a confidential need's text is its title and place for others: what the public rungs ask
    shown = sa.not_(sa.and_(TechnologyNeed.confidential.is_(True), sa.not_(_own(submission_type, user))))
    ladder = [("search_public", phrase, 4), ("search_full", phrase, 3)]
    if typed.groups != phrase.groups:  # one word (or one phrase) typed: tiers 2 and 1 are tiers 4 and 3
        ladder += [("search_public", typed, 2), ("search_full", typed, 1)]
    floor = 0
    if expanded.groups == typed.groups and not expanded.alternatives:  # every hit holds what was typed
        floor = ladder.pop()[2]
    whens = []
    for column, held, tier in ladder:
        holding = _holding(submission_type, column, held)
        whens.append((sa.and_(shown, holding) if hidden and column == "search_full" else holding, tier))
    return sa.case(*whens, else_=floor)


# --- the semantic part ---------------------------------------------------------------

def _semantic(submission_type: SubmissionType, user: User | None, query: Query) -> list[int] | None:
    """Ids of the list's type nearest to the query's meaning, best first, that the user may be
    shown (confidential needs left out for all but staff and their authors); None when the engine
    is not ready or busy (it is then loaded in the background, outside tests)."""
    from services.matchmaking import hidden_from  # matchmaking imports submissions, as this module does

    app = current_app._get_current_object()
    index = match_index(app)
    if not index.ready:
        if not app.testing:
            index.load_in_background(app)
        return None
    try:
        index.refresh()
        text = semantic_text(query, current_glossary())
        found = index.search(text, detect_language(text), submission_type.side,
                             top_k=SEMANTIC_POOL, exclude=hidden_from(user), timeout=EMBED_TIMEOUT)
    except ModelMissingError:
        return None
    if found is None:
        return None
    prefix = f"{submission_type.code}:"
    ids = [int(m.item_id[len(prefix):]) for m in found if m.item_id.startswith(prefix) and m.z >= SEMANTIC_MIN_Z]
    return ids[:SEMANTIC_TOP]


# --- lists ---------------------------------------------------------------------------

def check_sort(submission_type: SubmissionType, sort: str, searching: bool) -> str:
    """The order a list uses: ``sort`` if the type offers it ("" = relevance when searching, newest
    otherwise; relevance without words = newest). Raises ServiceError("unknown_sort")."""
    if not sort:
        return "relevance" if searching else "newest"
    if sort not in submission_type.sorts:
        raise ServiceError("unknown_sort", choices=", ".join(submission_type.sorts))
    return sort if searching or sort != "relevance" else "newest"


def _order(submission_type: SubmissionType, sort: str) -> tuple:
    model = submission_type.model
    newest = (model.published_at.desc(), model.id.desc())
    if sort == "deadline":
        deadline = model.open_until
        return (sa.case((deadline < local_today(), 1), else_=0), sa.nulls_last(deadline.asc()), *newest)
    if sort == "budget":
        budget = sa.func.coalesce(TechnologyNeed.budget_max, TechnologyNeed.budget_min)
        return (sa.nulls_last(budget.desc()), *newest)
    return newest


@dataclass
class _Plan:
    """What a list will show: a statement to page through, or ids ranked in Python."""

    sort: str
    searched: bool
    cross_language: str
    corrected: str | None = None
    stmt: sa.Select | None = None
    ids: list[int] | None = None   # the first ``limit`` ids (see :func:`_plan`) ...
    total: int = 0                 # ... of a list this long


def _plan(submission_type: SubmissionType, user: User | None, filters: BrowseFilters,
          semantic: bool = True, limit: int | None = None) -> _Plan:
    """What a list shows; when ranked by relevance, the ids of its first ``limit`` items (every
    item when None) and its length."""
    query = parse_query(filters.q)
    typed = bool(query.text)
    sort = check_sort(submission_type, filters.sort, typed)
    model = submission_type.model
    conditions = submissions.browse_conditions(submission_type, user, replace(filters, q=""))
    listed = sa.select(model).where(*conditions).options(*with_facets(submission_type))
    if not typed:
        return _Plan(sort, False, "off", stmt=listed.order_by(*_order(submission_type, sort)))
    if not query:  # typed, but no letter or digit ("%", "_", a NUL): nothing is found
        return _Plan(sort, True, "off", stmt=listed.where(sa.false()))
    semantic = _semantic(submission_type, user, query) if semantic else None
    status = "not_ready" if semantic is None else "used"
    semantic = semantic or []
    glossary = current_glossary()
    corrected = _correction(query)
    expanded = with_alternative(expand(query, glossary), expand(corrected, glossary) if corrected else None)
    said = corrected.text if expanded.alternatives else None
    lexical = _lexical(submission_type, user, expanded)
    if sort != "relevance":
        found = sa.or_(lexical, model.id.in_(semantic)) if semantic else lexical
        return _Plan(sort, True, status, said, stmt=listed.where(found).order_by(*_order(submission_type, sort)))
    ids, total = _relevance(submission_type, user, query, expanded, conditions, semantic, limit)
    return _Plan(sort, True, status, said, ids=ids, total=total)


def _correction(query: Query) -> Query | None:
    """``query`` with a misspelled word corrected against the words anyone may search
    (:mod:`services.spelling`), or None: no word to correct, or no vocabulary counted yet (it is
    then counted in the background, outside tests)."""
    app = current_app._get_current_object()
    vocabulary = search_vocabulary(app)
    if not app.testing:
        vocabulary.refresh_in_background(app)
    counted = vocabulary.current
    return correct_query(query, counted) if counted is not None else None


def _relevance(submission_type: SubmissionType, user: User | None, query: Query, expanded: Query,
               conditions: list, semantic: list[int],
               limit: int | None) -> tuple[list[int], int]:
    """(ids, total): the first ``limit`` ids of the relevance order (all of them when None) and the
    list's length. Exact lexical hits first (tier, then newest), then the other lexical hits and
    the semantic ids (best first) fused by reciprocal rank.

    The database ranks the hits (tier, newest) with a window function and returns only the first
    ``limit`` of them and the semantic ids' own ranks: a lexical hit ranked beyond ``limit`` has
    at least ``limit`` items before it in the fused order too, so the page is the same as when
    every hit is fused, without reading 17k rows into Python."""
    model = submission_type.model
    tier = _tier(submission_type, user, query, expanded).label("tier")
    # MATERIALIZED: PostgreSQL would otherwise fold this into the window query and carry each hit's
    # words (both columns, ~1 kB) through the sort and the windows, which then spill to disk at 10k
    # hits; computed first, the rows sorted are (id, date, tier)
    hits = sa.select(model.id, model.published_at, tier) \
        .where(*conditions, _lexical(submission_type, user, expanded)) \
        .cte("hits").prefix_with("MATERIALIZED", dialect="postgresql")
    ranked = sa.select(
        hits.c.id, hits.c.tier,
        sa.func.row_number().over(order_by=(hits.c.tier.desc(), hits.c.published_at.desc(), hits.c.id.desc()))
        .label("rank"),
        sa.func.count().over().label("hits"),
        sa.func.sum(sa.case((hits.c.tier >= EXACT_TIER, 1), else_=0)).over().label("exact")).subquery()
    stmt = sa.select(ranked).order_by(ranked.c.rank)
    if limit is not None:
        stmt = stmt.where(sa.or_(ranked.c.rank <= limit, ranked.c.id.in_(semantic)) if semantic
                          else ranked.c.rank <= limit)
    rows = db.session.execute(stmt).all()
    n_hits, n_exact = (int(rows[0].hits), int(rows[0].exact or 0)) if rows else (0, 0)
    shown = limit if limit is not None else n_hits
    exact = [r.id for r in rows if r.tier >= EXACT_TIER and r.rank <= shown]
    found = {r.id: r for r in rows}  # the first ``limit`` hits and the semantic ids that are hits
    allowed = set(db.session.scalars(sa.select(model.id).where(*conditions, model.id.in_(semantic)))) \
        if semantic else set()
    others = [i for i in semantic if i in allowed and not (i in found and found[i].tier >= EXACT_TIER)]
    lexical_ranks = {r.id: r.rank - n_exact for r in rows if r.tier < EXACT_TIER}
    fused = reciprocal_rank_fusion([lexical_ranks, {i: rank for rank, i in enumerate(others, start=1)}], k=RRF_K)
    total = n_hits + sum(1 for i in others if i not in found)
    return (exact + fused)[:shown if limit is not None else None], total


def find(submission_type: SubmissionType, user: User | None, filters: BrowseFilters, page: int = 1,
         per_page: int = 20, semantic: bool = True) -> Found:
    """One page of the list of ``submission_type`` that ``user`` may see, narrowed by ``filters``
    (words in ``filters.q``, order in ``filters.sort``). A page past the end is empty.
    ``semantic=False``: the lexical part alone (evaluation). Raises ServiceError("unknown_sort")
    for an order the type does not offer."""
    page = min(page, MAX_OFFSET // per_page + 1)  # past the end either way; offsets stay 64-bit for the database
    shown = min(per_page, 100) if per_page >= 1 else 20  # as Pagination reads it
    plan = _plan(submission_type, user, filters, semantic, limit=max(page, 1) * shown)
    if plan.stmt is not None:
        pagination = counts.paginate(plan.stmt, page=page, per_page=per_page)  # its total kept (services/counts.py)
    else:
        pagination = RankedPagination(page=page, per_page=per_page, max_per_page=100, error_out=False,
                                      ids=plan.ids, total=plan.total, model=submission_type.model,
                                      options=with_facets(submission_type))
    corrected = _as_written(plan.corrected, pagination.items, user) if plan.corrected else None
    return Found(pagination, plan.sort, plan.searched, plan.cross_language, corrected)


def _as_written(corrected: str, items: list[Submission], user: User | None) -> str:
    """The folded words of a corrected query as the listed items write them ("sat lo" -> "sạt lở"),
    read from what the user sees of them: titles, and the first description field (cut at
    SPELLING_CHARS) of those whose details the user may see."""
    texts = []
    for sub in items:
        texts.append(sub.title)
        if submissions.can_see_details(user, sub):
            texts.append((getattr(sub, type_of(sub).description_fields[0]) or "")[:SPELLING_CHARS])
    return spelled(corrected.split(), texts)


def find_all(submission_type: SubmissionType, user: User | None, filters: BrowseFilters) -> list[Submission]:
    """Every item of the list, in the list's order (for exports)."""
    plan = _plan(submission_type, user, filters)
    if plan.stmt is not None:
        return list(db.session.scalars(plan.stmt).unique())
    model = submission_type.model
    rows: dict[int, Submission] = {}
    for start in range(0, len(plan.ids), 500):
        chunk = plan.ids[start:start + 500]
        rows.update((r.id, r) for r in db.session.scalars(
            sa.select(model).where(model.id.in_(chunk)).options(*with_facets(submission_type))))
    return [rows[i] for i in plan.ids if i in rows]


# --- evaluation ----------------------------------------------------------------------

def evaluate(queries: list[dict], k: int = 10, semantic: bool = True) -> dict:
    """Recall@k and MRR of the lists' search on a labelled set (``seed_data/eval/search-demo.json``:
    queries with ``text``, ``variant``, ``list`` (a slug), ``relevant`` item titles), as an
    anonymous visitor sees it. Returns {"overall", "by_variant", "accent_case", "cross_language",
    "identical_to_accented", "missing", "cross_language_used", "queries"}; each figure group is
    {"recall@10", "mrr", "queries"}. ``identical_to_accented``: the share of no-diacritics and
    capitals queries whose first ``k`` results equal their accented query's. Relevant titles not
    in the database are listed under "missing" (load the demo data first)."""
    from matching.evaluation import recall_at_k, reciprocal_rank
    from models.people import Visitor
    from services.submission_types import BY_SLUG

    rows, missing, used = [], set(), set()
    for q in queries:
        submission_type = BY_SLUG[q["list"]]
        model = submission_type.model
        titles = dict(db.session.execute(sa.select(model.title, model.id).where(model.title.in_(q["relevant"]))).all())
        missing.update(t for t in q["relevant"] if t not in titles)
        found = find(submission_type, Visitor(), BrowseFilters(q=q["text"]), per_page=k, semantic=semantic)
        used.add(found.cross_language)
        ranked = [str(item.id) for item in found.page.items]
        relevant = {str(titles[t]) for t in q["relevant"] if t in titles}
        rows.append({"id": q["id"], "text": q["text"], "variant": q["variant"], "concept": q.get("concept"),
                     "recall@10": recall_at_k(ranked, relevant, k), "mrr": reciprocal_rank(ranked, relevant),
                     "top": ranked})

    def summary(selected: list[dict]) -> dict:
        n = len(selected)
        return {"recall@10": round(sum(r["recall@10"] for r in selected) / n, 3) if n else None,
                "mrr": round(sum(r["mrr"] for r in selected) / n, 3) if n else None, "queries": n}

    variants = sorted({r["variant"] for r in rows})
    accented = {r["concept"]: r["top"] for r in rows if r["variant"] == "accented"}
    same = [r["top"] == accented.get(r["concept"]) for r in rows if r["variant"] in ("no_diacritics", "capitals")]
    return {
        "overall": summary(rows),
        "by_variant": {v: summary([r for r in rows if r["variant"] == v]) for v in variants},
        "accent_case": summary([r for r in rows if r["variant"] in ("accented", "no_diacritics", "capitals")]),
        "cross_language": summary([r for r in rows if r["variant"] in ("english", "chinese")]),
        "identical_to_accented": round(sum(same) / len(same), 3) if same else None,
        "cross_language_used": sorted(used),
        "missing": sorted(missing),
        "queries": [{key: r[key] for key in ("id", "text", "variant", "recall@10", "mrr")} for r in rows],
    }
