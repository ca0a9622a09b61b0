"""Creating, editing, publishing, withdrawing and finding submissions; who may do what."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from extensions import db
from models import Idea, Place, ResearchOrder, Role, Sector, Status, TechnologyNeed, User, Visibility
from models.people import is_staff, utcnow
from services import audit

Submission = Idea | TechnologyNeed | ResearchOrder


@dataclass(frozen=True)
class Kind:
    """One kind of submission: its URL slug, model, who may create it and its searchable text."""

    slug: str
    model: type
    creator_roles: tuple[str, ...]
    text_fields: tuple[str, ...]
    # Fields anyone may search even when the submission is confidential.
    public_text_fields: tuple[str, ...] = ("title",)


KINDS: dict[str, Kind] = {
    "ideas": Kind("ideas", Idea, (Role.INNOVATOR.value,),
                  ("title", "summary", "description", "keywords")),
    "needs": Kind("needs", TechnologyNeed, (Role.BUSINESS.value,),
                  ("title", "problem", "desired_outcome")),
    "orders": Kind("orders", ResearchOrder, (Role.STAFF.value, Role.ADMIN.value),
                   ("title", "objectives", "main_content", "expected_products")),
}


def kind_of(item: Submission) -> Kind:
    return next(k for k in KINDS.values() if isinstance(item, k.model))


def matching_text(item: Submission) -> str:
    """The text the engine embeds: the title and every descriptive field, one paragraph each."""
    kind = kind_of(item)
    return "\n".join(getattr(item, f) or "" for f in kind.text_fields if getattr(item, f, None))


# --- permissions -----------------------------------------------------------------

def _is_owner(user: User | None, item: Submission) -> bool:
    return bool(user and user.is_authenticated and item.owner_id == user.id)


def can_create(user: User | None, kind: Kind) -> bool:
    return bool(user and user.is_authenticated and user.role in kind.creator_roles)


def can_edit(user: User | None, item: Submission) -> bool:
    """Only the author edits, publishes or withdraws a submission; staff see but do not edit."""
    return _is_owner(user, item)


def can_view(user: User | None, item: Submission) -> bool:
    if _is_owner(user, item) or is_staff(user):
        return True
    if item.status not in (Status.PUBLISHED.value, Status.CLOSED.value):
        return False
    if isinstance(item, Idea) and item.visibility == Visibility.MEMBERS.value:
        return bool(user and user.is_authenticated)
    return True


def can_see_details(user: User | None, item: Submission) -> bool:
    """A confidential need shows its company and details only to staff and its author."""
    if isinstance(item, TechnologyNeed) and item.confidential:
        return _is_owner(user, item) or is_staff(user)
    return True


# --- life cycle ------------------------------------------------------------------

def _resolve(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    from matching.text import clean_text, detect_language  # the engine owns text cleanup and languages
    data = dict(data)
    for field in kind.text_fields:
        if data.get(field):
            data[field] = clean_text(data[field])  # pasted HTML, NFD, stray control characters
    codes = data.pop("sector_codes", None)
    if codes is not None:
        data["sectors"] = list(db.session.scalars(sa.select(Sector).where(Sector.code.in_(codes)))) if codes else []
    if "place_code" in data:
        code = data.pop("place_code")
        data["place"] = db.session.scalar(sa.select(Place).where(Place.code == code)) if code else None
    if data.get("language") in (None, "", "auto"):
        text = "\n".join(str(data.get(f) or "") for f in kind.text_fields)
        data["language"] = detect_language(text)
    return data


def build(kind: Kind, owner: User, data: dict[str, Any], publish: bool) -> Submission:
    """A new submission added to the session, neither flushed nor committed: a bulk import saves
    many in one transaction (and records and embeds them itself)."""
    item = kind.model(owner=owner, **_resolve(kind, data))
    item.status = Status.DRAFT.value
    db.session.add(item)
    if publish:
        _publish(item)
    return item


def create(kind: Kind, owner: User, data: dict[str, Any], publish: bool) -> Submission:
    item = build(kind, owner, data, publish)
    db.session.flush()
    _record_status(item, "create", None)
    db.session.commit()
    _after_change(item)
    return item


def update(item: Submission, data: dict[str, Any], publish: bool) -> Submission:
    for key, value in _resolve(kind_of(item), data).items():
        setattr(item, key, value)
    if publish and item.status != Status.PUBLISHED.value:
        before = item.status
        _publish(item)
        _record_status(item, "publish", before)
    db.session.commit()
    _after_change(item)
    return item


def _publish(item: Submission) -> None:
    item.status = Status.PUBLISHED.value
    item.published_at = item.published_at or utcnow()


def publish(item: Submission) -> None:
    before = item.status
    _publish(item)
    _record_status(item, "publish", before)
    db.session.commit()
    _after_change(item)


def withdraw(item: Submission) -> None:
    before = item.status
    item.status = Status.WITHDRAWN.value
    _record_status(item, "withdraw", before)
    db.session.commit()
    _after_change(item)


def _record_status(item: Submission, action: str, before: str | None) -> None:
    """Audit a status change; only the author changes a submission's status, so they are the actor."""
    entity = kind_of(item).slug[:-1]  # "idea", "need", "order"
    audit.record(item.owner, f"{entity}.{action}", entity, item.id,
                 None if before is None else {"status": before}, {"status": item.status})


def _after_change(item: Submission) -> None:
    """Keep the matching index in step with what is published."""
    from services import matching
    matching.submission_changed(item)


# --- finding ---------------------------------------------------------------------

@dataclass
class BrowseFilters:
    q: str = ""
    kind: str = ""          # idea kind, only for ideas
    sector: str = ""        # sector code
    district: str = ""      # former district
    place: str = ""         # place code
    language: str = ""


def browse_query(kind: Kind, user: User | None, filters: BrowseFilters) -> sa.Select:
    """Published submissions the user may see, newest first, narrowed by the filters."""
    model = kind.model
    stmt = sa.select(model).where(model.status == Status.PUBLISHED.value)
    if model is Idea and not (user and user.is_authenticated):
        stmt = stmt.where(Idea.visibility == Visibility.PUBLIC.value)
    if filters.kind and model is Idea:
        stmt = stmt.where(Idea.kind == filters.kind)
    if filters.sector:
        stmt = stmt.where(model.sectors.any(Sector.code == filters.sector))
    if filters.place:
        stmt = stmt.where(model.place.has(Place.code == filters.place))
    elif filters.district:
        stmt = stmt.where(model.place.has(Place.former_district == filters.district))
    if filters.language:
        stmt = stmt.where(model.language == filters.language)
    if filters.q:
        stmt = stmt.where(_text_match(kind, user, filters.q.strip()))
    return stmt.order_by(model.published_at.desc(), model.id.desc())


def _text_match(kind: Kind, user: User | None, q: str) -> sa.ColumnElement[bool]:
    model = kind.model
    pattern = f"%{q}%"
    everything = sa.or_(*(getattr(model, f).ilike(pattern) for f in kind.text_fields))
    if model is not TechnologyNeed or is_staff(user):
        return everything
    # Confidential needs are searchable by title only, so a search never reveals hidden details.
    public = sa.or_(*(getattr(model, f).ilike(pattern) for f in kind.public_text_fields))
    own = model.owner_id == user.id if user and user.is_authenticated else sa.false()
    return sa.or_(sa.and_(model.confidential.is_(False), everything), public, sa.and_(own, everything))


def mine(kind: Kind, user: User) -> list[Submission]:
    model = kind.model
    return list(db.session.scalars(
        sa.select(model).where(model.owner_id == user.id).order_by(model.updated_at.desc())))


MAX_ID = 2**31 - 1  # ids are 32-bit integers in every database we support


def get(kind: Kind, item_id: int) -> Submission | None:
    if not 0 < item_id <= MAX_ID:
        return None
    return db.session.get(kind.model, item_id)


def latest(user: User | None, n: int) -> dict[str, list[Submission]]:
    """The newest published submissions of each kind that the user may see."""
    return {slug: list(db.session.scalars(browse_query(kind, user, BrowseFilters()).limit(n)))
            for slug, kind in KINDS.items()}


def counts() -> dict[str, int]:
    def n(stmt):
        return db.session.scalar(stmt) or 0
    published = Status.PUBLISHED.value
    return {
        "ideas": n(sa.select(sa.func.count(Idea.id)).where(Idea.status == published)),
        "needs": n(sa.select(sa.func.count(TechnologyNeed.id)).where(TechnologyNeed.status == published)),
        "orders": n(sa.select(sa.func.count(ResearchOrder.id)).where(ResearchOrder.status == published)),
        "innovators": n(sa.select(sa.func.count(User.id)).where(User.role == Role.INNOVATOR.value)),
    }


def districts() -> list[str]:
    return list(db.session.scalars(sa.select(Place.former_district).distinct().order_by(Place.former_district)))
