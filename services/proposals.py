"""The life of a match proposal: who may propose it, move it, see it and the contacts behind it.

    proposed -> under_review -> approved (introduction) -> in_discussion -> agreement_signed | no_agreement -> closed
    proposed | under_review -> rejected (with a reason)

Every change is recorded in the audit log in the same transaction, and the people concerned are notified.
Two reviewers moving one proposal at once: the versioned row lets one commit, the other's whole
transaction (its audit entry and notifications included) is refused (docs/architecture.md, "Two
people at once").
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from extensions import db
from models import (
    AuditEntry,
    Idea,
    MatchingRound,
    MatchProposal,
    ProposalSource,
    ProposalState,
    RejectReason,
    Role,
    Status,
    Submission,
    User,
)
from models.people import STAFF_ROLES, is_staff, utcnow
from services import audit, collation, matchmaking, notifications
from services.accounts import PROFILE_ACTION
from services.errors import ConflictError, ServiceError
from services.formats import local_today
from services.submission_types import IDEA, NEED, TARGETS, type_of
from services.submissions import MAX_ID
from services.submissions import can_view as can_view_submission

S = ProposalState
STAFF, PARTY = "staff", "party"

# (from, to) -> who may make the move. Nothing else is possible.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    (S.PROPOSED.value, S.UNDER_REVIEW.value): (STAFF,),
    (S.PROPOSED.value, S.REJECTED.value): (STAFF,),
    (S.UNDER_REVIEW.value, S.APPROVED.value): (STAFF,),
    (S.UNDER_REVIEW.value, S.REJECTED.value): (STAFF,),
    (S.APPROVED.value, S.IN_DISCUSSION.value): (STAFF, PARTY),
    (S.IN_DISCUSSION.value, S.AGREEMENT_SIGNED.value): (STAFF, PARTY),
    (S.IN_DISCUSSION.value, S.NO_AGREEMENT.value): (STAFF, PARTY),
    (S.AGREEMENT_SIGNED.value, S.CLOSED.value): (STAFF,),
    (S.NO_AGREEMENT.value, S.CLOSED.value): (STAFF,),
}
DECISIONS = (S.APPROVED.value, S.REJECTED.value)
# From approval on, the two sides see each other's contacts.
INTRODUCED = (S.APPROVED.value, S.IN_DISCUSSION.value, S.AGREEMENT_SIGNED.value, S.NO_AGREEMENT.value,
              S.CLOSED.value)
OPEN = (S.PROPOSED.value, S.UNDER_REVIEW.value)
REJECT_REASONS = tuple(r.value for r in RejectReason)

Target = Submission  # a technology need or a research order: submission_types.TARGETS


class ProposalError(ServiceError):
    """A refused proposal action: "not_allowed", "conflict_of_interest", "exists", "own_item_invalid"
    or "reason_required"."""


# --- who is who --------------------------------------------------------------------

def organisation_key(value: str | None) -> str:
    """An organisation's name as the conflict rule compares it: NFC, invisible format characters
    (zero-width spaces and joiners) dropped, punctuation (dashes of every kind, dots, commas,
    quotes, "&") read as a space, case folded, spaces collapsed; "" for none. "Sở KH&CN – Phòng
    QLKH" and "sở kh&cn - phòng qlkh." are one organisation."""
    text = unicodedata.normalize("NFC", value or "")
    text = "".join("" if unicodedata.category(ch) == "Cf" else " " if unicodedata.category(ch)[0] in "PS"
                   else ch for ch in text)
    return unicodedata.normalize("NFC", " ".join(text.casefold().split()))


def _current_organisations(idea: Idea, target: Target) -> set[str]:
    return {k for k in map(organisation_key, [*idea.organisations, *target.organisations]) if k}


def organisations(proposal: MatchProposal) -> set[str]:
    """The organisations a proposal involves, normalised (organisation_key): those of its parties
    when it was made, and their current ones (a party who later names or drops an organisation
    neither clears a conflict nor hides one)."""
    # stored keys are read again with today's rule (one made by an older rule then still compares)
    stored = {organisation_key(k) for k in json.loads(proposal.party_organisations or "[]")} - {""}
    return stored | _current_organisations(proposal.idea, proposal.target)


def organisations_since(user: User, since: datetime | None) -> set[str]:
    """Every organisation `user` has belonged to from `since` until now, normalised: their current
    one and each one their audited profile changes since then left or named. A staff member who
    clears or changes their organisation is still the one they were when the proposal was made."""
    names = {user.organisation}
    if since is not None:
        changes = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id,
            AuditEntry.action == PROFILE_ACTION, AuditEntry.created_at >= since))
        for entry in changes:
            for side in audit.values(entry):
                names.add(side.get("organisation"))
    return {k for k in map(organisation_key, names) if k}


def has_conflict(proposal: MatchProposal, user: User) -> bool:
    """A staff member may not decide on a proposal that involves an organisation they belonged to
    at any time since it was made."""
    return bool(organisations_since(user, proposal.created_at) & organisations(proposal))


def parties(proposal: MatchProposal) -> list[User]:
    """The idea's author and the need's or order's author (once each)."""
    people = [proposal.idea.owner, proposal.target.owner]
    return [p for i, p in enumerate(people) if p.id not in {q.id for q in people[:i]}]


def is_party(proposal: MatchProposal, user: User | None) -> bool:
    return bool(user and user.is_authenticated and any(p.id == user.id for p in parties(proposal)))


def can_view(proposal: MatchProposal, user: User | None) -> bool:
    if is_staff(user):
        return True
    return is_party(proposal, user) and (proposal.state in INTRODUCED or proposal.created_by_id == user.id)


def _with_sides() -> tuple:
    """Loader options: the idea, the need or order and their authors, and the reviewer come along
    with each proposal (a list shows them and checks conflicts of interest without more queries)."""
    return (joinedload(MatchProposal.idea).joinedload(Idea.owner), joinedload(MatchProposal.reviewer),
            joinedload(MatchProposal.created_by),
            *(joinedload(getattr(MatchProposal, kind.code)).joinedload(kind.model.owner) for kind in TARGETS))


def visible_proposals(user: User) -> sa.Select:
    """Proposals the user may see, newest change first: staff see all; an innovator or a business
    sees those on their own submissions from approval on, and the ones their own interest created."""
    stmt = sa.select(MatchProposal).options(*_with_sides()).order_by(MatchProposal.updated_at.desc(),
                                                                   MatchProposal.id.desc())
    if is_staff(user):
        return stmt
    if not (user and user.is_authenticated):
        return stmt.where(sa.false())
    idea = aliased(Idea)
    mine = sa.or_(
        MatchProposal.idea_id.in_(sa.select(idea.id).where(idea.owner_id == user.id)),
        *(kind.proposal_column.in_(sa.select(target.id).where(target.owner_id == user.id))
          for kind in TARGETS for target in (aliased(kind.model),)),
    )
    return stmt.where(mine, sa.or_(MatchProposal.state.in_(INTRODUCED), MatchProposal.created_by_id == user.id))


def get(proposal_id: int) -> MatchProposal | None:
    """The proposal with both sides and their authors (check can_view), or None."""
    if not 0 < proposal_id <= MAX_ID:
        return None
    return db.session.get(MatchProposal, proposal_id, options=_with_sides())


# --- privacy -----------------------------------------------------------------------

@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str | None
    organisation: str | None


def contacts_visible(proposal: MatchProposal, user: User | None) -> bool:
    """Staff always; the two sides only once staff approved the introduction."""
    return is_staff(user) or (proposal.state in INTRODUCED and is_party(proposal, user))


def contact(proposal: MatchProposal, side: str) -> Contact:
    """The contact of one side ("idea" or "target"). Check contacts_visible() before showing it."""
    item = proposal.idea if side == "idea" else proposal.target
    person = item.owner
    if side == "idea" and item.held_for_author:  # reached through the staff member who holds it
        return Contact(_("%(author)s, through %(staff)s (the Department)", author=item.author, staff=person.full_name),
                       person.email, person.phone, item.organisation_name)
    return Contact(person.full_name, person.email, person.phone, item.organisation_name or person.organisation)


@dataclass(frozen=True)
class PartyView:
    """A proposal as one of its parties sees it on "my matches": whether the need's company may be
    named, the other side's contact once introduced (else None), and the moves they may make."""

    proposal: MatchProposal
    target_named: bool
    other_contact: Contact | None
    allowed: list[str]


def as_seen_by(proposal: MatchProposal, user: User) -> PartyView:
    """What `user` (a party of the proposal) may see of it and do with it."""
    other = None
    if contacts_visible(proposal, user):
        other = contact(proposal, "target" if proposal.idea.owner_id == user.id else "idea")
    return PartyView(proposal, target_named(proposal, user), other, allowed_transitions(proposal, user))


def target_named(proposal: MatchProposal, user: User | None) -> bool:
    """May this user see who is behind the need or order? A confidential need stays anonymous to
    everyone but staff and its author until the introduction."""
    target = proposal.target
    if not target.confidential:
        return True
    return is_staff(user) or (user is not None and user.is_authenticated and target.owner_id == user.id) \
        or contacts_visible(proposal, user)


# --- creating ----------------------------------------------------------------------

def existing(idea: Idea, target: Target) -> MatchProposal | None:
    column = type_of(target).proposal_column
    return db.session.scalar(sa.select(MatchProposal).where(MatchProposal.idea_id == idea.id, column == target.id))


def _params(proposal: MatchProposal) -> dict:
    return {"idea": proposal.idea.title, "target": proposal.target.title, "proposal": proposal.id}


def _snapshot(proposal: MatchProposal) -> dict:
    return {"state": proposal.state, "reviewer_id": proposal.reviewer_id, "reject_reason": proposal.reject_reason,
            "note": proposal.note, "decision_note": proposal.decision_note}


def propose(idea: Idea, target: Target, source: str, actor: User | None = None, band: str | None = None,
            score: float | None = None, note: str | None = None, round: MatchingRound | None = None, *,
            notify_staff: bool = True, commit: bool = True) -> MatchProposal | None:
    """A new proposal for the pair, or None if the pair was ever proposed (in any state): a rejected
    pair is never proposed again. Staff are notified (unless notify_staff=False, e.g. for a batch
    that sends one summary). commit=False leaves the commit to the caller (e.g. a whole round)."""
    if source not in {s.value for s in ProposalSource}:
        raise ValueError(f"Unknown proposal source: {source}")
    if type_of(idea) is not IDEA or type_of(target) not in TARGETS:
        raise ValueError("A proposal pairs an idea with a technology need or a research order.")
    if existing(idea, target) is not None:
        return None
    proposal = MatchProposal(idea=idea, source=source, band=band, score=score, note=note or None,
                             created_by_id=actor.id if actor is not None else None,
                             round_id=round.id if round is not None else None,
                             state=S.PROPOSED.value, party_organisations=json.dumps(
                                 sorted(_current_organisations(idea, target)), ensure_ascii=False))
    setattr(proposal, type_of(target).code, target)  # MatchProposal.need or .order
    try:
        # A savepoint: when a concurrent twin wins the unique constraint, only this proposal is
        # undone, not the rest of the caller's transaction (e.g. a round's other proposals).
        with db.session.begin_nested():
            db.session.add(proposal)
    except IntegrityError:  # a concurrent twin won: no second proposal
        return None
    audit.record(actor, "proposal.create", "proposal", proposal.id, None,
                 {"state": proposal.state, "source": source, "idea_id": idea.id, "need_id": proposal.need_id,
                  "order_id": proposal.order_id, "band": band, "note": proposal.note})
    if notify_staff:
        if source == ProposalSource.INTEREST.value:
            notifications.notify_staff("interest_new", {**_params(proposal), "name": actor.full_name})
        else:
            notifications.notify_staff("proposal_new", _params(proposal), except_user=actor)
    if commit:
        db.session.commit()
    return proposal


def _open_targets(today: date) -> list[Target]:
    """Published needs and orders not past their deadline on ``today``, needs first."""
    return [target for kind in TARGETS for target in db.session.scalars(
        sa.select(kind.model).where(kind.model.is_open(today)).order_by(kind.model.id))]


def propose_from_engine(top_k: int = 3) -> int:
    """Turn the engine's best matches ("good" or better) of every open need and order and of every
    published idea into proposals; pairs proposed before (even rejected ones) are skipped.
    Staff get one summary notification. Returns how many proposals were created."""
    today = local_today()
    ideas = list(db.session.scalars(sa.select(Idea).where(Idea.status == Status.PUBLISHED.value).order_by(Idea.id)))
    created = 0
    for item in [*_open_targets(today), *ideas]:
        for other, band, score in matchmaking.ranked_pairs(item, top_k=top_k, min_band="good"):
            idea, target = (item, other) if type_of(item) is IDEA else (other, item)
            if type_of(idea) is not IDEA or not target.is_open(today):
                continue
            if propose(idea, target, ProposalSource.ENGINE.value, band=band, score=score,
                       notify_staff=False, commit=False):
                created += 1
    if created:
        notifications.notify_staff("proposals_new_batch", {"count": created})
    db.session.commit()
    return created


def _own_model(user: User | None, item) -> type | None:
    """What the user pairs with `item` when interested in it: a business its needs with an idea,
    an innovator their ideas with a need or an order; nobody else expresses interest."""
    if not (user and user.is_authenticated):
        return None
    if type_of(item) is IDEA:
        return NEED.model if user.role == Role.BUSINESS.value else None
    return IDEA.model if user.role == Role.INNOVATOR.value else None


def own_items_for_interest(user: User | None, item) -> list:
    """The user's own published submissions that could be paired with `item` (the other side)."""
    model = _own_model(user, item)
    if model is None:
        return []
    return collation.by_name(db.session.scalars(sa.select(model).where(
        model.owner_id == user.id, model.status == Status.PUBLISHED.value)), lambda own: own.title)


def interest_options(user: User | None, item) -> list:
    """What a submission page offers this user to pair with `item` through "express interest"
    (their own published submissions of the other side), the one that fits `item` best first, so
    that it is the one the form proposes; [] when they may not express interest."""
    if not can_express_interest(user, item):
        return []
    return matchmaking.best_fit_first(item, own_items_for_interest(user, item))


def can_express_interest(user: User | None, item) -> bool:
    return _own_model(user, item) is not None and item.status == Status.PUBLISHED.value \
        and can_view_submission(user, item)


def express_interest(user: User, item, note: str | None = None, own=None) -> MatchProposal:
    """A business is interested in an idea (`own` = one of its published needs), or an innovator in a
    need or order (`own` = one of their published ideas; may be left out when they have only one).
    Staff are notified; the proposal then goes through review like any other. Raises ProposalError:
    "not_allowed" (wrong role, or the item is not published), "own_item_invalid" (not theirs, not
    published, or not chosen), "exists" (the pair was proposed before)."""
    if not can_express_interest(user, item):
        raise ProposalError("not_allowed")
    mine = own_items_for_interest(user, item)
    if own is None and len(mine) == 1:
        own = mine[0]
    if own is None or not any(type(m) is type(own) and m.id == own.id for m in mine):
        raise ProposalError("own_item_invalid")
    idea, target = (item, own) if type_of(item) is IDEA else (own, item)
    proposal = propose(idea, target, ProposalSource.INTEREST.value, actor=user, note=(note or "").strip() or None)
    if proposal is None:
        raise ProposalError("exists")
    return proposal


# --- moving ------------------------------------------------------------------------

def _roles_of(proposal: MatchProposal, user: User | None) -> set[str]:
    roles = set()
    if is_staff(user):
        roles.add(STAFF)
    if is_party(proposal, user):
        roles.add(PARTY)
    return roles


def allowed_transitions(proposal: MatchProposal, user: User | None) -> list[str]:
    """The states this user may move the proposal to now (decisions excluded when they have a conflict)."""
    return [to for source, to in TRANSITIONS if source == proposal.state and refusal(proposal, to, user) is None]


def _least_loaded_reviewer(proposal: MatchProposal, exclude: User) -> User | None:
    load = sa.select(sa.func.count(MatchProposal.id)).where(
        MatchProposal.reviewer_id == User.id, MatchProposal.state == S.UNDER_REVIEW.value).scalar_subquery()
    candidates = db.session.execute(sa.select(User, load).where(
        User.role.in_(STAFF_ROLES), User.active.is_(True), User.id != exclude.id)
        .order_by(load, User.id)).all()
    return next((person for person, _ in candidates if not has_conflict(proposal, person)), None)


def refusal(proposal: MatchProposal, to_state: str, user: User | None) -> str | None:
    """Why this user may not make this move now, or None: "not_allowed" (not for their role),
    "wrong_state" (a move they could make, but not from the proposal's current state: someone
    else has moved it meanwhile), "conflict_of_interest"."""
    roles = _roles_of(proposal, user)
    who = TRANSITIONS.get((proposal.state, to_state))
    if who is None:
        possible = any(to == to_state and roles & set(allowed) for (_, to), allowed in TRANSITIONS.items())
        return "wrong_state" if possible else "not_allowed"
    if not roles & set(who):
        return "not_allowed"
    if to_state in DECISIONS and has_conflict(proposal, user):
        return "conflict_of_interest"
    return None


def check_move(proposal: MatchProposal, to_state: str, user: User | None) -> None:
    """Raise unless this user may make this move now: ConflictError "wrong_state" (param `state`:
    where the proposal is now), or ProposalError "not_allowed" or "conflict_of_interest"."""
    refused = refusal(proposal, to_state, user)
    if refused == "wrong_state":
        raise ConflictError("wrong_state", state=proposal.state)
    if refused:
        raise ProposalError(refused)


def transition(proposal: MatchProposal, to_state: str, actor: User, reason: str | None = None,
               note: str | None = None) -> MatchProposal:
    """Move the proposal, or raise what check_move() raises, or ProposalError "reason_required" (a
    rejection needs a reason code; "other" also needs a note).

    The UPDATE checks the version the proposal was read at: when another reviewer moved it in the
    meantime, the commit raises StaleDataError and nothing is written (no second audit entry, no
    second notification or e-mail); the web layer answers "changed_meanwhile"."""
    check_move(proposal, to_state, actor)
    note = (note or "").strip() or None
    if to_state == S.REJECTED.value and (reason not in REJECT_REASONS
                                         or (reason == RejectReason.OTHER.value and not note)):
        raise ProposalError("reason_required")

    before = _snapshot(proposal)
    now = utcnow()
    proposal.state = to_state
    assigned = None
    if to_state == S.UNDER_REVIEW.value:
        if has_conflict(proposal, actor):
            assigned = _least_loaded_reviewer(proposal, exclude=actor)
            proposal.reviewer_id = assigned.id if assigned else None
        else:
            proposal.reviewer_id = actor.id
    if to_state in DECISIONS:
        proposal.decided_at = now
        proposal.reviewer_id = actor.id
        if to_state == S.REJECTED.value:
            proposal.reject_reason = reason
        if note:  # beside the proposer's own note, never over it
            proposal.decision_note = note
    if to_state == S.APPROVED.value:
        proposal.introduced_at = now
    if to_state == S.CLOSED.value:
        proposal.closed_at = now
    proposal.updated_at = now
    audit.record(actor, f"proposal.{to_state}", "proposal", proposal.id, before, _snapshot(proposal))
    _notify_transition(proposal, to_state, actor, assigned)
    db.session.commit()
    return proposal


def _notify_transition(proposal: MatchProposal, to_state: str, actor: User, assigned: User | None) -> None:
    params = _params(proposal)
    if assigned is not None:
        notifications.notify(assigned, "proposal_assigned", params)
    told: set[int] = set()
    if to_state == S.APPROVED.value:
        for person in parties(proposal):
            held = person.id == proposal.idea.owner_id and proposal.idea.held_for_author
            notifications.notify(person, "introduction_held" if held else "introduction", params)
            told.add(person.id)
    if to_state in DECISIONS and proposal.created_by is not None:
        author = proposal.created_by
        if author.id != actor.id and author.id not in told:
            kind = "proposal_approved" if to_state == S.APPROVED.value else "proposal_rejected"
            notifications.notify(author, kind, params)


def history(proposal: MatchProposal) -> list[tuple]:
    """The proposal's audit entries, oldest first, as (entry, before, after)."""
    found = db.session.scalars(sa.select(AuditEntry).options(joinedload(AuditEntry.actor)).where(
        AuditEntry.entity_type == "proposal", AuditEntry.entity_id == proposal.id)
        .order_by(AuditEntry.created_at, AuditEntry.id))
    return [(entry, *audit.values(entry)) for entry in found]


# --- the review queue --------------------------------------------------------------

def queue(states: tuple[str, ...] | None = OPEN, reviewer: User | None = None) -> sa.Select:
    """Proposals for staff, best engine score first within the newest: filtered by state and reviewer."""
    stmt = sa.select(MatchProposal).options(*_with_sides())
    if states:
        stmt = stmt.where(MatchProposal.state.in_(states))
    if reviewer is not None:
        stmt = stmt.where(MatchProposal.reviewer_id == reviewer.id)
    return stmt.order_by(MatchProposal.created_at.desc(), MatchProposal.id.desc())


def publishable_pairs() -> tuple[list[Idea], list[Target]]:
    """What staff may pair by hand: published ideas and open needs and orders."""
    ideas = list(db.session.scalars(sa.select(Idea).where(Idea.status == Status.PUBLISHED.value)
                                    .order_by(Idea.id.desc())))
    return ideas, _open_targets(local_today())


def propose_by_hand(actor: User, idea: Idea, target: Target, note: str | None = None) -> MatchProposal:
    """Staff pair an idea with a need or order themselves. Raises ProposalError "not_allowed" or "exists"."""
    if not is_staff(actor):
        raise ProposalError("not_allowed")
    if idea.status != Status.PUBLISHED.value or target.status != Status.PUBLISHED.value:
        raise ProposalError("not_allowed")
    proposal = propose(idea, target, ProposalSource.STAFF.value, actor=actor, note=note)
    if proposal is None:
        raise ProposalError("exists")
    return proposal
