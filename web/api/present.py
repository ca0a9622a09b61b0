"""Submissions, matches, proposals and figures as the API shows them to one caller.

What a caller may see is decided by the services (can_see_details, contacts_visible, target_named);
this module only leaves out what they say to hide.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timezone

from flask_babel import format_date, gettext as _

from models import Idea, ResearchOrder, TechnologyNeed
from services import proposals, submissions
from services.matching import MatchView
from web.labels import MATCH_BANDS, PROPOSAL_STATES
from services.reference import sector_name

TYPE = {Idea: "idea", TechnologyNeed: "need", ResearchOrder: "order"}
FIELDS = {
    Idea: ("kind", "summary", "description", "keywords", "stage", "trl", "team", "organisation", "event",
           "visibility"),
    TechnologyNeed: ("problem", "desired_outcome", "organisation", "budget_min", "budget_max", "deadline",
                     "required_stage", "confidential"),
    ResearchOrder: ("ordering_body", "urgency", "objectives", "main_content", "expected_products",
                    "application_place", "duration_months", "budget_state", "budget_other", "proposal_deadline"),
}
# What a confidential need hides from everyone but staff and its author.
CONFIDENTIAL = ("problem", "desired_outcome", "organisation")


def utc(value: datetime | None) -> datetime | None:
    """Times are stored as naive UTC; the API says so (RFC 3339 needs the offset)."""
    return value.replace(tzinfo=timezone.utc) if value is not None else None


def _is_mine(user, item) -> bool:
    return bool(user.is_authenticated and item.owner_id == user.id)


def submission(item, user) -> dict:
    out = {
        "id": item.id, "type": TYPE[type(item)], "title": item.title, "status": item.status,
        "language": item.language, "sectors": [s.code for s in item.sectors],
        "place": item.place.code if item.place else None,
        "place_name": item.place.label if item.place else None,
        "created_at": utc(item.created_at), "updated_at": utc(item.updated_at), "published_at": utc(item.published_at),
        "mine": _is_mine(user, item),
    }
    out.update({name: getattr(item, name) for name in FIELDS[type(item)]})
    if isinstance(item, TechnologyNeed):
        hidden = not submissions.can_see_details(user, item)
        out["details_hidden"] = hidden
        if hidden:
            out.update(dict.fromkeys(CONFIDENTIAL))
        elif not item.organisation and item.owner.organisation:
            out["organisation"] = item.owner.organisation
    return out


def organisation(item, user) -> str | None:
    """The organisation a list or a match shows for an item (None for a hidden confidential need)."""
    if isinstance(item, Idea):
        return item.organisation
    if isinstance(item, ResearchOrder):
        return item.ordering_body
    if not submissions.can_see_details(user, item):
        return None
    return item.organisation or item.owner.organisation


def facet_label(code: str, value) -> str:
    """The same sentences as templates/submissions/_why.html."""
    if code == "same_sector":
        return _("Same sector: %(names)s", names=", ".join(sector_name(c) for c in value))
    if code == "same_place":
        return _("Same commune or ward")
    if code == "same_place_group":
        return _("Same area (former district %(name)s)", name=value)
    if code == "stage_fits":
        return _("The idea's stage fits the need")
    if code == "stage_early":
        return _("The idea is at an earlier stage than the need asks")
    if code == "deadline_open":
        return _("Still open until %(date)s", date=format_date(date.fromisoformat(value)))
    return code


def match(view: MatchView, user, quote_query: bool) -> dict:
    """One match. quote_query=False leaves out the terms and sentences quoted from the item asked
    about (a confidential need the caller may not read)."""
    other, why = view.submission, view.explanation
    facets = [{"code": code, "value": list(value) if isinstance(value, (list, tuple, set, frozenset)) else value,
               "label": facet_label(code, value)} for code, value in why.facets]
    terms = [{"query_term": t.query_term, "candidate_term": t.candidate_term} for t in why.shared_terms]
    pairs = [{"query_sentence": p.query_sentence, "candidate_sentence": p.candidate_sentence,
              "strength": p.strength, "strength_label": str(MATCH_BANDS.get(p.strength, p.strength))}
             for p in why.sentence_pairs]
    if not quote_query:
        terms, pairs = [], []
    return {"type": TYPE[type(other)], "id": other.id, "title": other.title, "band": view.band,
            "band_label": str(MATCH_BANDS.get(view.band, view.band)), "organisation": organisation(other, user),
            "explanation": {"facets": facets, "shared_terms": terms, "sentence_pairs": pairs}}


def proposal(p, user) -> dict:
    target = p.target
    named = proposals.target_named(p, user)
    out = {
        "id": p.id, "state": p.state, "state_label": str(PROPOSAL_STATES.get(p.state, p.state)), "source": p.source,
        "band": p.band,
        "idea": {"type": "idea", "id": p.idea.id, "title": p.idea.title, "organisation": p.idea.organisation},
        "target": {"type": TYPE[type(target)], "id": target.id, "title": target.title,
                   "organisation": organisation(target, user) if named else None},
        "reject_reason": p.reject_reason, "note": p.note if user.is_staff or p.created_by_id == user.id else None,
        "created_at": utc(p.created_at), "updated_at": utc(p.updated_at),
        "allowed_transitions": proposals.allowed_transitions(p, user),
        "contacts": None,
    }
    if named and isinstance(target, TechnologyNeed) and target.confidential and not submissions.can_see_details(user, target):
        # Introduced: the other side now knows the company, as on the "my matches" page.
        out["target"]["organisation"] = proposals.contact(p, "target").organisation
    if proposals.contacts_visible(p, user):
        out["contacts"] = {side: asdict(proposals.contact(p, side)) for side in ("idea", "target")}
    return out
