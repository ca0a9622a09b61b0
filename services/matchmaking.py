"""Matches as people see them: ranked by the index, filtered by who may see what, explained.

A request goes one way: ``match_index().refresh()`` then ``rank()`` (under the index's lock,
numbers only), then, outside the lock, the rows behind the matches are loaded in one query per
type, what the viewer may not see is dropped, and the kept matches are explained and worded.
Templates and the API get :class:`MatchView` objects that hold everything they show.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _

from extensions import db
from matching.duplicates import DEFAULT_RULE, concept_overlap, number_overlap, numbers_in
from matching.embedders import ModelMissingError
from matching.explain import Explanation, SentencePair, TermPair
from matching.ranking import Item, Match, item_text
from matching.rerank import NO_STATISTICS, item_concepts
from models import Idea, Sector, Submission, User
from models.people import is_staff
from services import languages, submission_types
from services.formats import day, local_today
from services.glossary import current_glossary
from services.match_index import BATCH, MatchIndex, match_index, text_problem
from services.ranker import current_ranker
from services.submission_types import IDEA, SubmissionType, engine_id, to_item, type_of
from services.submissions import can_see_details, can_view

log = logging.getLogger(__name__)

SHOWN_BAND = "possible"      # weaker matches are never shown
DUPLICATE_CANDIDATES = 20    # the engine's nearest ideas that the duplicate rule looks at
STRONG_DUPLICATE_MARGIN = 0.1
LIVE_EMBED_TIMEOUT = 0.2     # seconds the similar-ideas check while typing waits for a busy model
LIVE_TEXT_CHARS = 600        # while typing, the draft's meaning is read from its title and summary up
                             # to here (~150 tokens): the model's time grows with the text, and a
                             # pause in the description or keywords then needs no new vector


@dataclass(frozen=True)
class Reason:
    """One facet that fits (reason ``code`` of matching.explain.REASON_CODES). ``sentence`` is
    worded when it is shown, in the reader's language (a lazy string: str() it)."""

    code: str
    value: object
    sentence: LazyString


@dataclass
class Reasons:
    """Why a pair matches: the facets that fit, shared key terms and the passages that match best."""

    facets: list[Reason] = field(default_factory=list)
    shared_terms: list[TermPair] = field(default_factory=list)
    sentence_pairs: list[SentencePair] = field(default_factory=list)


@dataclass
class MatchView:
    """A ranked match as a page or the API shows it to one viewer.

    ``organisation`` is None when the viewer may not know who stands behind it (a confidential
    need); ``why`` is None past the number of matches that are explained, and while
    ``reasons_pending``: the other text's explanation material is not embedded yet (a job is
    preparing it; the page does not wait for it)."""

    submission: Submission
    type: SubmissionType
    band: str
    organisation: str | None
    details_hidden: bool
    why: Reasons | None
    reasons_pending: bool = False


# --- wording -------------------------------------------------------------------------

def _sectors() -> dict[str, Sector]:
    return {s.code: s for s in db.session.scalars(sa.select(Sector))}


def facet_sentence(code: str, value, sectors: dict[str, Sector]) -> str:
    """The sentence a reader sees for one facet reason, in the current request's language.
    ``sectors``: the sectors by code, loaded beforehand (wording never queries)."""
    if code == "same_sector":
        locale = str(get_locale())
        return _("Same sector: %(names)s", names=", ".join(sectors[c].name(locale) if c in sectors else c
                                                           for c in value))
    if code == "same_place":
        return _("Same commune or ward")
    if code == "same_place_group":
        return _("Same area (former district %(name)s)", name=value)
    if code == "stage_fits":
        return _("The idea's stage fits the need")
    if code == "stage_early":
        return _("The idea is at an earlier stage than the need asks")
    if code == "deadline_open":
        return _("Still open until %(date)s", date=day(date.fromisoformat(value)))
    return code


def _reasons(why: Explanation, sectors: dict[str, Sector], quote_query: bool) -> Reasons:
    """``quote_query=False`` (a confidential need shown to someone who may not read it) keeps only
    the facets: sentence pairs and terms would quote its text."""
    facets = [Reason(code, value, LazyString(facet_sentence, code, value, sectors)) for code, value in why.facets]
    if not quote_query:
        return Reasons(facets=facets)
    return Reasons(facets, list(why.shared_terms), list(why.sentence_pairs))


# --- who sees what -------------------------------------------------------------------

def hidden_from(viewer: User | None) -> frozenset[str]:
    """Engine ids the viewer may not be shown as matches: confidential needs (except to staff and
    their author) and members-only ideas (to anonymous visitors). Call after the process's index
    was refreshed (every caller ranks with it): both lists are the index's
    (:attr:`MatchIndex.confidential_needs`, :attr:`MatchIndex.members_only`), kept from the rows
    each refresh reads, so a page reads no row for them. An anonymous visitor's set is made once
    per change of either (the same object each time, so a ranking kept by it is found at once)."""
    if is_staff(viewer):
        return frozenset()
    index = match_index()
    confidential = index.confidential_needs
    if viewer is not None and viewer.is_authenticated:
        return frozenset(ref for ref, owner in confidential.items() if owner != viewer.id)
    members_only = index.members_only
    kept = _anonymous_hidden[0]  # one tuple, read and replaced whole (threads share it)
    if kept is not None and kept[0] is confidential and kept[1] is members_only:
        return kept[2]
    hidden = frozenset(confidential) | members_only
    _anonymous_hidden[0] = (confidential, members_only, hidden)
    return hidden


# [(confidential needs, members-only ideas, their union)] as last made for an anonymous visitor
_anonymous_hidden: list[tuple | None] = [None]


def may_see_matches(viewer: User | None, sub: Submission) -> bool:
    """A confidential need's match list is its author's and staff's only: the ideas ranked against its
    hidden text, and their bands, would tell anyone how well a guess matches that text (post an idea,
    see where it lands). Every other submission's matches are for whoever may view it."""
    return can_see_details(viewer, sub)


def _views(query: Item, matches: list[Match], viewer: User | None, explain_top: int,
           quote_query: bool = True, subs: dict[str, Submission] | None = None,
           query_saved: bool = False) -> list[MatchView]:
    """Page-ready matches: rows loaded (unless given), unseen ones dropped, the first ``explain_top``
    explained. ``query_saved``: the query is a published submission, whose explanation texts a job
    embeds once it is saved: until they are stored, every reason is "being prepared" (the page
    does not embed them itself, ~1-2 s on 2 cores for a long text); a draft's are embedded here."""
    subs = submission_types.load(m.item_id for m in matches) if subs is None else subs
    index = match_index()
    glossary = current_glossary() if explain_top else None
    sectors = _sectors() if explain_top else {}
    shown = [subs[m.item_id] for m in matches if m.item_id in subs and subs[m.item_id].is_published
             and can_view(viewer, subs[m.item_id])]
    explained = [to_item(sub) for sub in shown[:explain_top]]
    unprepared = index.unprepared(explained + [query] if query_saved and explained else explained, glossary)
    own_pending = query_saved and query.id in unprepared
    views = []
    for match in matches:
        sub = subs.get(match.item_id)
        if sub is None or not sub.is_published or not can_view(viewer, sub):
            continue
        why, pending = None, False
        if len(views) < explain_top:
            pending = own_pending or match.item_id in unprepared
            if not pending:
                why = _reasons(index.explain(query, to_item(sub), glossary), sectors, quote_query)
        hidden = not can_see_details(viewer, sub)
        views.append(MatchView(sub, type_of(sub), match.band, None if hidden else sub.organisation_name,
                               hidden, why, pending))
    return views


# --- asking --------------------------------------------------------------------------

def _refreshed_index() -> MatchIndex | None:
    """The process's index, up to date with the database; None (and a warning in the log) when the
    model has not been built yet, so that pages still work without matches."""
    try:
        index = match_index()
        index.refresh()
    except ModelMissingError as missing:
        log.warning("%s", missing)
        return None
    return index


def matches_for(sub: Submission, viewer: User | None, top_k: int = 10, explain_top: int = 10,
                prepared_only: bool = False) -> list[MatchView]:
    """The best matches on the other side for a submission, with reasons, that this viewer may see.
    Returns [] when the engine cannot run (no model yet): pages still work; and for a confidential
    need seen by anyone but its author and staff (see :func:`may_see_matches`).
    ``prepared_only`` (a page): [] while the submission itself is not embedded yet (just published:
    a job embeds it, see :func:`matches_being_prepared`) instead of embedding it in the request."""
    if not may_see_matches(viewer, sub):
        return []
    index = _refreshed_index()
    if index is None:
        return []
    if prepared_only and index.is_pending(engine_id(sub)):
        return []
    query = to_item(sub)
    matches = index.rank(query, top_k=top_k, exclude=hidden_from(viewer), min_band=SHOWN_BAND)
    return _views(query, matches, viewer, explain_top, quote_query=can_see_details(viewer, sub), query_saved=True)


def matching_state() -> tuple | None:
    """What an idea's, need's or order's matches follow besides the data (for a page kept for
    visitors, web/page_cache.py): the process's index brought up to date and its version, the
    ranker file and the province's day (deadlines). None when the engine cannot run."""
    index = _refreshed_index()
    if index is None:
        return None
    ranker = current_ranker()
    return (index.version, None if ranker is None else (ranker.version, ranker.meta.get("fitted_at")),
            local_today())


def matches_being_prepared(sub: Submission) -> bool:
    """True while a published submission waits for the job that embeds it (seconds after it was
    published), as of the process's last refresh: its page says so instead of ranking it."""
    if not sub.is_published:
        return False
    try:
        return match_index().is_pending(engine_id(sub))
    except ModelMissingError:
        return False


@dataclass
class SimilarCheck:
    """The answer of "check for similar ideas": ``matches`` best first, or ``problem`` when the
    check could not run ("too_long", "no_letters" or "empty": the texts together, as matched;
    "no_model": the engine is not ready), so a page never says "none found" when it did not look."""

    matches: list[MatchView] = field(default_factory=list)
    problem: str | None = None


def similar_ideas(fields: dict, viewer: User | None, exclude_id: int | None = None, top_k: int = 5,
                  live: bool = False) -> SimilarCheck:
    """Existing ideas (any language) that duplicate an idea being written: a translation, a paraphrase,
    the same project. ``fields``: the idea form's data (title, summary, description, keywords,
    language, kind); a language of "auto" is resolved first, as on save.

    The engine's nearest ideas are candidates; each is kept on its own merits
    (:data:`matching.duplicates.DEFAULT_RULE`: debiased cosine, shared figures and shared glossary
    concepts weighted by the ranker's IDF), never by its z-score within the pool. Shown as "strong"
    when well above the rule's threshold, else "good".

    ``live``: while the author types (the form's script asks after each pause): the draft's vector
    is read from its title and summary alone (:data:`LIVE_TEXT_CHARS`) and stays in memory (never
    in the vector cache), nothing is explained, and the check answers at once with problem
    "no_model" when the engine is not loaded yet (it is loaded in the background) or "busy" when
    other work holds the model."""
    language = languages.resolve(IDEA, fields)
    draft = Idea(id=exclude_id or 0, title=fields.get("title") or "", summary=fields.get("summary") or "",
                 description=fields.get("description") or "", keywords=fields.get("keywords") or "",
                 language=language, kind=fields.get("kind") or "startup_idea")
    query = to_item(draft)
    problem = text_problem(item_text(query))
    if problem:
        return SimilarCheck(problem=problem)
    vec = None
    if live:
        app = current_app._get_current_object()
        index = match_index(app)
        if not index.ready:
            if not app.testing:
                index.load_in_background(app)
            return SimilarCheck(problem="no_model")
        index.refresh()
        gist = "\n".join(t.strip() for t in (draft.title, draft.summary) if t.strip())[:LIVE_TEXT_CHARS] \
            or item_text(query)[:LIVE_TEXT_CHARS]  # a draft with a description only
        vec = index.transient_vector(gist, timeout=LIVE_EMBED_TIMEOUT)
        if vec is None:
            return SimilarCheck(problem="busy")
    else:
        index = _refreshed_index()
        if index is None:
            return SimilarCheck(problem="no_model")
    exclude = hidden_from(viewer) | ({f"{IDEA.code}:{exclude_id}"} if exclude_id else set())
    candidates = index.similar(query, top_k=DUPLICATE_CANDIDATES, exclude=exclude, min_band="weak", query_vec=vec)
    subs = submission_types.load(m.item_id for m in candidates)
    figures = numbers_in(item_text(query))
    glossary = current_glossary()
    ranker = current_ranker()
    weight = (ranker.stats if ranker is not None else NO_STATISTICS).weight
    concepts = item_concepts(query, glossary)
    rule = DEFAULT_RULE
    kept = []
    for match in candidates:
        sub = subs.get(match.item_id)
        if sub is None:
            continue
        other = to_item(sub)
        score = rule.scores([match.semantic], [number_overlap(figures, numbers_in(item_text(other)))],
                            [concept_overlap(concepts, item_concepts(other, glossary), weight)])[0]
        if score >= rule.threshold:
            band = "strong" if score >= rule.threshold + STRONG_DUPLICATE_MARGIN else "good"
            kept.append(replace(match, band=band, score=float(score)))
    kept.sort(key=lambda m: -m.score)
    return SimilarCheck(_views(query, kept[:top_k], viewer, explain_top=0 if live else top_k, subs=subs))


def ranked_pairs(sub: Submission, top_k: int = 3, min_band: str = "good") -> list[tuple[Submission, str, float]]:
    """The best published submissions on the other side, as (submission, band, score), best first,
    without explanations and without hiding anything: for proposals that staff review.
    Returns [] when the engine cannot run."""
    index = _refreshed_index()
    if index is None:
        return []
    matches = index.rank(to_item(sub), top_k=top_k, min_band=min_band)
    subs = submission_types.load(m.item_id for m in matches)
    return [(subs[m.item_id], m.band, m.score) for m in matches
            if m.item_id in subs and subs[m.item_id].is_published]


def best_fit_first(item: Submission, others: list[Submission]) -> list[Submission]:
    """`others` (submissions of the other side of `item`, e.g. an innovator's ideas for a need)
    ordered by the engine's score of their pair with `item`, best first, as the pages rank them;
    those the engine does not rank follow in their given order. Only stored vectors are used: when
    `item` waits for its embedding job, or the engine cannot run, `others` come back as given."""
    index = _refreshed_index()
    if index is None or len(others) < 2 or index.is_pending(engine_id(item)):
        return list(others)
    by_id = {engine_id(other): other for other in others}
    ranked = [by_id[m.item_id] for m in index.rank(to_item(item), top_k=len(by_id), candidate_ids=by_id)]
    return ranked + [other for other in others if other not in ranked]


@dataclass
class PairReasons:
    """The engine's ``band`` and reasons (``why``) for one given pair. ``band`` is None when the
    idea is not in the index; ``why`` is None when the engine cannot run, or while ``pending``:
    one of the two texts' explanation material is being prepared by a job."""

    band: str | None = None
    why: Reasons | None = None
    pending: bool = False


def explain_pair(idea: Idea, target: Submission) -> PairReasons:
    """The engine's band and reasons for one given pair, seen from the need's or order's side (for
    staff reviewing a proposal). Embeds neither text: a text not prepared yet is left to a job."""
    index = _refreshed_index()
    if index is None:
        return PairReasons()
    query, other = to_item(target), to_item(idea)
    found = index.rank(query, top_k=1, candidate_ids=[engine_id(idea)])
    band = found[0].band if found else None
    glossary = current_glossary()
    if index.unprepared([query, other], glossary):
        return PairReasons(band, pending=True)
    why = index.explain(query, other, glossary)
    return PairReasons(band, _reasons(why, _sectors(), quote_query=True))


def pair_scores(targets: list[Submission], ideas: list[Idea]) -> tuple[np.ndarray, np.ndarray]:
    """Every (need/order, idea) pair as the engine scores it, for a matching round: the score,
    float (len(targets), len(ideas)) (the ranker's probability that the pair is relevant; the
    first stage's z-score when no ranker is installed), NaN where the engine does not hold the
    idea (not published), and the band, str array of the same shape ("weak" there). A pair's score
    and band are those its pages show. Raises ModelMissingError when the engine cannot run: a
    round must not be solved on nothing."""
    score = np.full((len(targets), len(ideas)), np.nan)
    bands = np.full(score.shape, "weak", dtype=object)
    if not targets or not ideas:
        return score, bands
    column = {engine_id(idea): j for j, idea in enumerate(ideas)}
    index = match_index()
    index.refresh()
    queries = [to_item(t) for t in targets]
    probabilities = current_ranker() is not None
    for start in range(0, len(queries), BATCH):
        # Embed a batch at once (cached), then rank each query against the chosen ideas only.
        batch = queries[start:start + BATCH]
        for row, (query, vec) in enumerate(zip(batch, index.query_vectors(batch)), start):
            for match in index.rank(query, top_k=len(column), candidate_ids=column, query_vec=vec):
                score[row, column[match.item_id]] = match.score if probabilities else match.z
                bands[row, column[match.item_id]] = match.band
    return score, bands
