"""Submissions, matches, proposals and figures as the API shows them to one caller.

What a caller may see is decided by the services (can_see_details, contacts_visible, target_named);
this module only leaves out what they say to hide.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from services import proposals, submissions
from services.labels import MATCH_BANDS, PROPOSAL_STATES
from services.matchmaking import MatchView
from services.submission_types import IDEA, NEED, ORDER, type_of

# The fields each type shows beyond the common ones (the API's schemas in web/api/schemas.py).
FIELDS = {
    IDEA: ("kind", "summary", "description", "keywords", "stage", "trl", "team", "organisation", "event",
           "visibility"),
    NEED: ("problem", "desired_outcome", "organisation", "budget_min", "budget_max", "deadline",
           "required_stage", "confidential"),
    ORDER: ("ordering_body", "urgency", "objectives", "main_content", "expected_products",
            "application_place", "duration_months", "budget_state", "budget_other", "proposal_deadline"),
}
# What a confidential need hides from everyone but staff and its author.
CONFIDENTIAL = ("problem", "desired_outcome", "organisation")


def utc(value: datetime | None) -> datetime | None:
    """Times are stored as naive UTC; the API says so (RFC 3339 needs the offset)."""
    return value.replace(tzinfo=UTC) if value is not None else None


def _is_mine(user, item) -> bool:
    return bool(user.is_authenticated and item.owner_id == user.id)


def submission(item, user) -> dict:
    kind = type_of(item)
    out = {
        "id": item.id, "type": kind.code, "title": item.title, "status": item.status,
        "language": item.language, "sectors": [s.code for s in item.sectors],
        "place": item.place.code if item.place else None,
        "place_name": item.place.label if item.place else None,
        "created_at": utc(item.created_at), "updated_at": utc(item.updated_at), "published_at": utc(item.published_at),
        "mine": _is_mine(user, item),
    }
    out.update({name: getattr(item, name) for name in FIELDS[kind]})
    if kind is NEED:
        hidden = not submissions.can_see_details(user, item)
        out["details_hidden"] = hidden
        if hidden:
            out.update(dict.fromkeys(CONFIDENTIAL))
        else:
            out["organisation"] = item.organisation_name
    return out


def organisation(item, user) -> str | None:
    """The organisation a list or a match shows for an item (None for a hidden confidential need)."""
    return item.organisation_name if submissions.can_see_details(user, item) else None


def match(view: MatchView) -> dict:
    """One match, as the viewer it was made for may see it (services.matchmaking.matches_for)."""
    other, why = view.submission, view.why
    facets = [{"code": f.code, "label": str(f.sentence),
               "value": list(f.value) if isinstance(f.value, (list, tuple, set, frozenset)) else f.value}
              for f in why.facets] if why else []
    terms = [{"query_term": t.query_term, "candidate_term": t.candidate_term} for t in why.shared_terms] if why else []
    pairs = [{"query_sentence": p.query_sentence, "candidate_sentence": p.candidate_sentence,
              "strength": p.strength, "strength_label": str(MATCH_BANDS.get(p.strength, p.strength))}
             for p in why.sentence_pairs] if why else []
    return {"type": view.type.code, "id": other.id, "title": other.title, "band": view.band,
            "band_label": str(MATCH_BANDS.get(view.band, view.band)), "organisation": view.organisation,
            "explanation": {"facets": facets, "shared_terms": terms, "sentence_pairs": pairs},
            # true while the other text's explanation is prepared by a job: ask again in a minute
            "reasons_pending": view.reasons_pending}


def proposal(p, user) -> dict:
    target = p.target
    named = proposals.target_named(p, user)
    out = {
        "id": p.id, "state": p.state, "state_label": str(PROPOSAL_STATES.get(p.state, p.state)), "source": p.source,
        # The engine's band of a pair with a confidential need says how well the idea matches its hidden text.
        "band": p.band if submissions.can_see_details(user, target) else None,
        "idea": {"type": IDEA.code, "id": p.idea.id, "title": p.idea.title, "organisation": p.idea.organisation},
        "target": {"type": type_of(target).code, "id": target.id, "title": target.title,
                   "organisation": organisation(target, user) if named else None},
        "reject_reason": p.reject_reason, "note": p.note if user.is_staff or p.created_by_id == user.id else None,
        "decision_note": p.decision_note if user.is_staff or p.created_by_id == user.id else None,
        "created_at": utc(p.created_at), "updated_at": utc(p.updated_at),
        "allowed_transitions": proposals.allowed_transitions(p, user),
        "contacts": None,
    }
    if named and not submissions.can_see_details(user, target):
        # Introduced: the other side now knows the company, as on the "my matches" page.
        out["target"]["organisation"] = proposals.contact(p, "target").organisation
    if proposals.contacts_visible(p, user):
        out["contacts"] = {side: asdict(proposals.contact(p, side)) for side in ("idea", "target")}
    return out
