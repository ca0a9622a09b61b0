"""Staff decisions on match proposals as a labelled set (shared/eval/SCHEMA.md), to measure the engine.

Grades, from what staff decided and what happened next:
- 2 (strong fit): approved and introduced, in discussion, or an agreement was signed (also when
  the proposal was closed after the agreement);
- 1 (partial fit): introduced but no agreement (also closed that way), or rejected as "not
  feasible" or "stage mismatch" (on topic, not usable as it stands);
- 0 (not relevant, listed explicitly): rejected as "off topic";
- not listed: proposals not decided yet, and rejections for "duplicate", "already contracted",
  "conflict of interest" or "other", which say nothing about whether the two texts fit (so the
  ranker does not learn from them, see services/ranker.py). Beware: the schema reads an
  unlisted pair as not relevant, so such a pair counts as a miss if the engine ranks it high.

The set holds the needs/orders and ideas that appear in at least one listed pair. A confidential
need's company ("org") is left out, since the file may be shared outside the Department.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from extensions import db
from models import Idea, MatchProposal, ProposalState, RejectReason
from services.indicators import Period, agreed
from services.submission_types import IDEA, type_of

S = ProposalState
STRONG = (S.APPROVED.value, S.IN_DISCUSSION.value, S.AGREEMENT_SIGNED.value)
PARTIAL_REASONS = (RejectReason.NOT_FEASIBLE.value, RejectReason.STAGE_MISMATCH.value)


def grade(proposal: MatchProposal, signed: bool) -> int | None:
    """The grade a decided proposal gives its pair (None: not listed). `signed`: an agreement was
    signed at some point (see indicators.agreed())."""
    state = proposal.state
    if state in STRONG or (state == S.CLOSED.value and signed):
        return 2
    if state == S.NO_AGREEMENT.value or (state == S.CLOSED.value and proposal.introduced_at is not None):
        return 1
    if state == S.REJECTED.value:
        if proposal.reject_reason in PARTIAL_REASONS:
            return 1
        if proposal.reject_reason == RejectReason.OFF_TOPIC.value:
            return 0
    return None


def _common(item) -> dict[str, Any]:
    record = {"lang": item.language, "title": item.title, "description": type_of(item).description(item)}
    if item.sectors:
        record["sector"] = item.sectors[0].code
    if item.place:
        record["district"] = item.place.former_district
    return record


def _need_record(target) -> dict[str, Any]:
    kind = type_of(target)
    record = {"id": f"{kind.label_set_prefix}{target.id}", "kind": kind.engine_kind, **_common(target)}
    org = None if target.confidential else target.organisation_name
    if org:
        record["org"] = org
    return record


def _idea_record(idea: Idea) -> dict[str, Any]:
    return {"id": f"{IDEA.label_set_prefix}{idea.id}", "kind": idea.kind, "stage": idea.stage, **_common(idea)}


def graded(period: Period | None = None, after: datetime | None = None) -> list[tuple[MatchProposal, int]]:
    """(proposal, grade) of every decided proposal that gives its pair a grade, in id order:
    decided within ``period`` and/or after ``after`` (naive UTC, as stored) when given."""
    stmt = sa.select(MatchProposal).where(MatchProposal.decided_at.is_not(None)).order_by(MatchProposal.id)
    if period is not None:
        stmt = stmt.where(period.contains(MatchProposal.decided_at))
    if after is not None:
        stmt = stmt.where(MatchProposal.decided_at > after)
    signed = set(db.session.scalars(sa.select(MatchProposal.id).where(agreed())))
    found = ((p, grade(p, p.id in signed)) for p in db.session.scalars(stmt))
    return [(p, g) for p, g in found if g is not None]


def eval_set(period: Period | None = None) -> dict[str, Any]:
    """The decisions (decided within `period`, or all of them) as a SCHEMA.md object."""
    needs: dict[str, dict] = {}
    ideas: dict[str, dict] = {}
    qrels = []
    for proposal, g in graded(period):
        need, idea = _need_record(proposal.target), _idea_record(proposal.idea)
        needs.setdefault(need["id"], need)
        ideas.setdefault(idea["id"], idea)
        qrels.append({"idea": idea["id"], "need": need["id"], "grade": g})
    span = f"{period.start.isoformat()} – {period.end.isoformat()}" if period else "toàn bộ"
    return {"description": f"Quyết định của cán bộ Sở KH&CN Lào Cai về các đề xuất kết nối ({span}); "
                           "thang điểm: xem services/decisions.py.",
            "needs": list(needs.values()), "ideas": list(ideas.values()), "qrels": qrels}
