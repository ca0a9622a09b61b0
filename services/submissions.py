"""Creating, editing, publishing, withdrawing and finding submissions; who may do what."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from extensions import db
from matching.text import SUPPORTED, clean_text  # the engine owns text cleanup and languages
from models import Idea, Place, Role, Sector, Status, Submission, User, Visibility
from models.people import is_staff, utcnow
from services import audit, collation, jobs, languages, match_index
from services.errors import ConflictError
from services.submission_types import IDEA, TYPES, SubmissionType, engine_id, type_of, with_facets

# --- permissions -----------------------------------------------------------------

def _is_owner(user: User | None, item: Submission) -> bool:
    return bool(user and user.is_authenticated and item.owner_id == user.id)


def can_create(user: User | None, submission_type: SubmissionType) -> bool:
    return bool(user and user.is_authenticated and user.role in submission_type.creator_roles)


def can_edit(user: User | None, item: Submission) -> bool:
    """Only the owner edits, publishes or withdraws a submission: its author, or for an idea imported
    for an author without an account, the staff member who imported it (Idea.held_for_author); other
    staff see but do not edit."""
    return _is_owner(user, item)


def can_view(user: User | None, item: Submission) -> bool:
    if _is_owner(user, item) or is_staff(user):
        return True
    if item.status not in (Status.PUBLISHED.value, Status.CLOSED.value):
        return False
    if item.members_only:
        return bool(user and user.is_authenticated)
    return True


def can_see_details(user: User | None, item: Submission) -> bool:
    """A confidential need shows its company and details only to staff and its author."""
    if item.confidential:
        return _is_owner(user, item) or is_staff(user)
    return True


# --- life cycle ------------------------------------------------------------------

def _resolve(submission_type: SubmissionType, data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for field in submission_type.text_fields:
        if data.get(field):
            data[field] = clean_text(data[field])  # pasted HTML, NFD, stray control characters
    codes = data.pop("sector_codes", None)
    if codes is not None:
        data["sectors"] = list(db.session.scalars(sa.select(Sector).where(Sector.code.in_(codes)))) if codes else []
    if "place_code" in data:
        code = data.pop("place_code")
        data["place"] = db.session.scalar(sa.select(Place).where(Place.code == code)) if code else None
    if data.get("language") not in SUPPORTED:  # "auto", none or unknown: stored rows hold vi, en or zh
        data["language"] = languages.resolve(submission_type, data)
    return data


def build(submission_type: SubmissionType, owner: User, data: dict[str, Any], publish: bool) -> Submission:
    """A new submission added to the session, neither flushed nor committed: a bulk import saves
    many in one transaction (and records and embeds them itself)."""
    item = submission_type.model(owner=owner, **_resolve(submission_type, data))
    item.status = Status.DRAFT.value
    db.session.add(item)
    if publish:
        _publish(item)
    return item


def create(submission_type: SubmissionType, owner: User, data: dict[str, Any], publish: bool) -> Submission:
    item = build(submission_type, owner, data, publish)
    db.session.flush()
    _record_status(item, "create", None)
    db.session.commit()
    _after_change(item, newly_published=publish)
    return item


def update(item: Submission, data: dict[str, Any], publish: bool) -> Submission:
    for key, value in _resolve(type_of(item), data).items():
        setattr(item, key, value)
    newly_published = publish and item.status != Status.PUBLISHED.value
    if newly_published:
        before = item.status
        _publish(item)
        _record_status(item, "publish", before)
    db.session.commit()
    _after_change(item, newly_published)
    return item


def _publish(item: Submission) -> None:
    item.status = Status.PUBLISHED.value
    item.published_at = item.published_at or utcnow()


def publish(item: Submission) -> None:
    """Publish a draft or a withdrawn submission; ConflictError "already_published" otherwise
    (e.g. from a second tab). Two requests at once: one commits, the other's versioned UPDATE
    raises StaleDataError."""
    if item.status == Status.PUBLISHED.value:
        raise ConflictError("already_published")
    before = item.status
    _publish(item)
    _record_status(item, "publish", before)
    db.session.commit()
    _after_change(item, newly_published=True)


def withdraw(item: Submission) -> None:
    """Withdraw a published submission; ConflictError "not_published" otherwise."""
    if item.status != Status.PUBLISHED.value:
        raise ConflictError("not_published")
    before = item.status
    item.status = Status.WITHDRAWN.value
    _record_status(item, "withdraw", before)
    db.session.commit()
    _after_change(item)


def _record_status(item: Submission, action: str, before: str | None) -> None:
    """Audit a status change; only the author changes a submission's status, so they are the actor."""
    entity = type_of(item).code
    audit.record(item.owner, f"{entity}.{action}", entity, item.id,
                 None if before is None else {"status": before}, {"status": item.status})


def _after_change(item: Submission, newly_published: bool = False) -> None:
    """Keep the matching index in step with what is published; a newly published submission's
    alerts are worked out by a job (services/alerts.py)."""
    match_index.submission_changed(item)
    if newly_published:
        jobs.enqueue("match_alerts", engine_id(item))


# --- finding ---------------------------------------------------------------------

@dataclass
class BrowseFilters:
    q: str = ""
    kind: str = ""          # an idea's kind (startup idea, STEM project, ...), only for ideas
    sector: str = ""        # sector code
    district: str = ""      # former district
    place: str = ""         # place code
    language: str = ""
    sort: str = ""          # services/search.py SORTS; "" = relevance when searching, else newest


def browse_conditions(submission_type: SubmissionType, user: User | None,
                      filters: BrowseFilters) -> list[sa.ColumnElement[bool]]:
    """What keeps a submission in a list: published, visible to the user, and passing every filter
    but the words (``q`` is searched by services/search.py)."""
    model = submission_type.model
    conditions = [model.status == Status.PUBLISHED.value]
    if submission_type is IDEA and not (user and user.is_authenticated):
        conditions.append(Idea.visibility == Visibility.PUBLIC.value)
    if filters.kind and submission_type is IDEA:
        conditions.append(Idea.kind == filters.kind)
    if filters.sector:
        conditions.append(model.sectors.any(Sector.code == filters.sector))
    if filters.place:
        conditions.append(model.place.has(Place.code == filters.place))
    elif filters.district:
        conditions.append(model.place.has(Place.former_district == filters.district))
    if filters.language:
        conditions.append(model.language == filters.language)
    return conditions


def browse_query(submission_type: SubmissionType, user: User | None, filters: BrowseFilters) -> sa.Select:
    """Published submissions the user may see, newest first, narrowed by the filters but not by the
    words (see :func:`browse_conditions`); sectors, place and author come along (a list shows them)."""
    model = submission_type.model
    return (sa.select(model).where(*browse_conditions(submission_type, user, filters))
            .options(*with_facets(submission_type)).order_by(model.published_at.desc(), model.id.desc()))


def mine(submission_type: SubmissionType, user: User) -> list[Submission]:
    model = submission_type.model
    return list(db.session.scalars(
        sa.select(model).where(model.owner_id == user.id).order_by(model.updated_at.desc())))


MAX_ID = 2**31 - 1  # ids are 32-bit integers in every database we support


def get(submission_type: SubmissionType, item_id: int) -> Submission | None:
    """The submission (any status; check can_view) with its sectors, place and author, or None."""
    if not 0 < item_id <= MAX_ID:
        return None
    return db.session.get(submission_type.model, item_id, options=with_facets(submission_type))


def latest(user: User | None, n: int) -> dict[str, list[Submission]]:
    """The newest published submissions of each type (by slug) that the user may see."""
    return {t.slug: list(db.session.scalars(browse_query(t, user, BrowseFilters()).limit(n))) for t in TYPES}


def counts() -> dict[str, int]:
    """Published submissions of each type (by slug) and the number of innovators (each count kept
    while the data has not changed: services/counts.py)."""
    from services import counts as kept
    found = {t.slug: kept.count(sa.select(t.model.id).where(t.model.status == Status.PUBLISHED.value))
             for t in TYPES}
    found["innovators"] = kept.count(sa.select(User.id).where(User.role == Role.INNOVATOR.value))
    return found


def districts() -> list[str]:
    """The former districts' names, in alphabetical order (for the place filter)."""
    return collation.by_name(db.session.scalars(sa.select(Place.former_district).distinct()))
