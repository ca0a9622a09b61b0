"""Batch matching rounds: staff choose needs/orders and ideas with quotas; the round is solved
exactly (matching.assignment), kept as a draft, then published as proposals or discarded.

A pair's quality is the engine's score of the pair (the second-stage ranker's probability that
the idea is relevant to the need or order), the number behind the band its pages show. Only
pairs of band "possible" or better may be chosen, and never a pair that already has a proposal
in any state: a rejected pair is not proposed again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from matching.assignment import RoundInfeasible, greedy_round, solve_round
from matching.embedders import ModelMissingError
from models import Idea, MatchingRound, MatchProposal, ProposalSource, RoundState, Sector, Status, Submission, User
from models.people import utcnow
from services import audit, collation, matchmaking, notifications, proposals
from services.errors import ConflictError, ServiceError
from services.submission_types import BY_CODE, IDEA, NEED, ORDER, TARGETS, SubmissionType, type_of, with_facets


class RoundError(ServiceError):
    """A round that cannot be made: "minimum_unreachable" (param `targets`: the needs and orders
    that fall short), "engine_unavailable" or "unknown_item". A round that is no longer a draft
    raises ConflictError "not_draft"."""


@dataclass
class RoundPair:
    idea: Idea
    band: str
    score: float
    proposal: MatchProposal | None = None


@dataclass
class RoundGroup:
    """One need or order of a round with its ideas, best first."""

    target: Submission
    type: SubmissionType
    pairs: list[RoundPair] = field(default_factory=list)


# --- choosing -------------------------------------------------------------------

def candidates(sector: str = "", event: str = "") -> dict[str, list[Submission]]:
    """Published needs, orders and ideas that a round may use, narrowed by a sector code (all
    three) and by an event name (ideas only), newest first."""
    def published(kind: SubmissionType, *where):
        model = kind.model
        stmt = sa.select(model).where(model.status == Status.PUBLISHED.value, *where).options(*with_facets(kind))
        if sector:
            stmt = stmt.where(model.sectors.any(Sector.code == sector))
        return list(db.session.scalars(stmt.order_by(model.published_at.desc(), model.id.desc())))
    return {NEED.slug: published(NEED), ORDER.slug: published(ORDER),
            IDEA.slug: published(IDEA, *([Idea.event == event] if event else []))}


def events() -> list[str]:
    """Event names (hackathons, calls) given on published ideas."""
    return collation.by_name(db.session.scalars(
        sa.select(Idea.event).where(Idea.status == Status.PUBLISHED.value, Idea.event.is_not(None), Idea.event != "")
        .distinct()))


def _published(model, ids: list[int]) -> list:
    ids = sorted(set(ids))
    found = list(db.session.scalars(sa.select(model).where(model.id.in_(ids), model.status == Status.PUBLISHED.value)
                                    .order_by(model.id))) if ids else []
    if len(found) != len(ids):
        raise RoundError("unknown_item")
    return found


def _already_proposed(targets: list[Submission], ideas: list[Idea]) -> np.ndarray:
    """bool (len(targets), len(ideas)): pairs that have a proposal in any state."""
    taken = np.zeros((len(targets), len(ideas)), bool)
    if not targets or not ideas:
        return taken
    row = {_target_key(t): r for r, t in enumerate(targets)}
    col = {idea.id: j for j, idea in enumerate(ideas)}
    for kind in TARGETS:
        stmt = sa.select(MatchProposal.idea_id, kind.proposal_column).where(
            MatchProposal.idea_id.in_(list(col)), kind.proposal_column.in_(_ids_of(targets, kind)))
        for idea_id, target_id in db.session.execute(stmt):
            taken[row[(kind.code, target_id)], col[idea_id]] = True
    return taken


def _target_key(target: Submission) -> tuple[str, int]:
    return type_of(target).code, target.id


def _ids_of(targets: list[Submission], kind: SubmissionType) -> list[int]:
    return [t.id for t in targets if type_of(t) is kind]


# --- the life of a round ---------------------------------------------------------

def create_round(actor: User, name: str, need_ids: list[int], order_ids: list[int], idea_ids: list[int],
                 max_per_need: int, max_per_idea: int, min_per_need: int = 0) -> MatchingRound:
    """Score every chosen (need/order, idea) pair, solve the round exactly and with the greedy
    baseline, and save it as a draft (no proposal yet). Raises RoundError: "unknown_item" (an id
    that is not a published submission), "engine_unavailable", "minimum_unreachable" (with the
    targets that cannot get ``min_per_need`` ideas)."""
    targets = _published(NEED.model, need_ids) + _published(ORDER.model, order_ids)
    ideas = _published(Idea, idea_ids)
    try:
        score, bands = matchmaking.pair_scores(targets, ideas)
    except ModelMissingError as missing:
        raise RoundError("engine_unavailable") from missing
    allowed = (bands != "weak") & ~np.isnan(score) & ~_already_proposed(targets, ideas)
    # scores of shown pairs are positive; the clip only guards a recalibration below zero.
    quality = np.where(allowed, np.clip(np.nan_to_num(score), 0.0, None), np.nan)
    try:
        best = solve_round(quality, allowed, max_per_need, max_per_idea, min_per_need)
    except RoundInfeasible as infeasible:
        raise RoundError("minimum_unreachable", targets=[targets[i] for i in infeasible.needs]) from infeasible
    greedy = greedy_round(quality, allowed, max_per_need, max_per_idea, min_per_need)
    pairs = [{"target": _target_key(targets[i])[0], "target_id": targets[i].id, "idea_id": ideas[j].id,
              "band": str(bands[i, j]), "score": round(float(quality[i, j]), 4)}
             for i, j in best.pairs]
    pairs.sort(key=lambda p: (p["target"], p["target_id"], -p["score"], p["idea_id"]))
    rnd = MatchingRound(name=name.strip(), state=RoundState.DRAFT.value, max_per_need=max_per_need,
                        max_per_idea=max_per_idea, min_per_need=min_per_need,
                        total_score=round(best.total, 4), greedy_score=round(greedy.total, 4),
                        pairs_json=json.dumps(pairs), created_by_id=actor.id)
    db.session.add(rnd)
    db.session.flush()
    audit.record(actor, "round.create", "round", rnd.id, None, {
        **_summary(rnd), "need_ids": _ids_of(targets, NEED), "order_ids": _ids_of(targets, ORDER),
        "idea_ids": [i.id for i in ideas]})
    db.session.commit()
    return rnd


def publish_round(rnd: MatchingRound, actor: User) -> int:
    """Turn a draft's pairs into proposals (source "round"); pairs proposed meanwhile, or whose
    idea or need is no longer published, are skipped. Returns the number of proposals made.

    The round's state is written first, checked against the version it was read at: of a publish
    and a discard (or two publishes) at once, the one that writes second raises StaleDataError
    before making any proposal, and nothing of it is kept."""
    if rnd.state != RoundState.DRAFT.value:
        raise ConflictError("not_draft")
    before = _summary(rnd)
    rnd.state, rnd.published_at = RoundState.PUBLISHED.value, utcnow()
    db.session.flush()
    made = 0
    for pair, idea, target in _still_proposable(rnd):
        proposal = proposals.propose(idea, target, source=ProposalSource.ROUND.value, actor=actor,
                                     band=pair["band"], score=pair["score"], round=rnd,
                                     notify_staff=False, commit=False)
        made += proposal is not None
    if made:  # one summary for the whole round, naming who published it, not one notification per pair
        notifications.notify_staff("round_published", {"count": made, "round": rnd.name, "name": actor.full_name},
                                   except_user=actor)
    audit.record(actor, "round.publish", "round", rnd.id, before, {**_summary(rnd), "proposals": made})
    db.session.commit()
    return made


def _still_proposable(rnd: MatchingRound) -> list[tuple[dict, Idea, Submission]]:
    """The round's pairs that publishing makes proposals of now, with their idea and need or order:
    both still published, and the pair not proposed meanwhile."""
    found = []
    for pair in pairs_of(rnd):
        idea = db.session.get(Idea, pair["idea_id"])
        target = db.session.get(BY_CODE[pair["target"]].model, pair["target_id"])
        if idea is not None and target is not None and idea.is_published and target.is_published \
                and proposals.existing(idea, target) is None:
            found.append((pair, idea, target))
    return found


def proposals_to_make(rnd: MatchingRound) -> int:
    """How many proposals publishing the draft would make now (what the confirmation step says)."""
    return len(_still_proposable(rnd)) if rnd.state == RoundState.DRAFT.value else 0


def discard_round(rnd: MatchingRound, actor: User) -> None:
    """Drop a draft: nothing is proposed; the round stays listed as discarded. Raises ConflictError
    "not_draft"; a publish at the same moment makes one of the two fail (see publish_round())."""
    if rnd.state != RoundState.DRAFT.value:
        raise ConflictError("not_draft")
    before = _summary(rnd)
    rnd.state = RoundState.DISCARDED.value
    audit.record(actor, "round.discard", "round", rnd.id, before, _summary(rnd))
    db.session.commit()


def _summary(rnd: MatchingRound) -> dict:
    return {"name": rnd.name, "state": rnd.state, "max_per_need": rnd.max_per_need,
            "max_per_idea": rnd.max_per_idea, "min_per_need": rnd.min_per_need,
            "total_score": rnd.total_score, "greedy_score": rnd.greedy_score, "pairs": len(pairs_of(rnd))}


# --- reading ---------------------------------------------------------------------

def rounds() -> list[MatchingRound]:
    return list(db.session.scalars(sa.select(MatchingRound).options(joinedload(MatchingRound.created_by))
                                   .order_by(MatchingRound.created_at.desc(), MatchingRound.id.desc())))


def get(round_id: int) -> MatchingRound | None:
    return db.session.get(MatchingRound, round_id)


def pairs_of(rnd: MatchingRound) -> list[dict]:
    """The solved pairs: {"target": "need"|"order", "target_id", "idea_id", "band", "score"}."""
    return json.loads(rnd.pairs_json or "[]")


def improvement(rnd: MatchingRound) -> float | None:
    """How much better the exact total is than the greedy one, as a fraction of the greedy total
    (0.042 for 4.2 % better; None without a baseline)."""
    if not rnd.greedy_score or rnd.total_score is None:
        return None
    return (rnd.total_score - rnd.greedy_score) / rnd.greedy_score


def groups(rnd: MatchingRound) -> list[RoundGroup]:
    """The round's pairs grouped by need/order (needs first), each group best pair first; for a
    published round each pair carries its proposal (None if it was skipped)."""
    pairs = pairs_of(rnd)
    loaded = {kind.code: {s.id: s for s in db.session.scalars(sa.select(kind.model).where(
        kind.model.id.in_({p["target_id"] for p in pairs if p["target"] == kind.code})))} for kind in TARGETS}
    ideas = {i.id: i for i in db.session.scalars(sa.select(Idea).where(Idea.id.in_({p["idea_id"] for p in pairs})))}
    made = {(p.idea_id, *_target_key(p.target)): p for p in rnd.proposals}
    out: dict[tuple[str, int], RoundGroup] = {}
    for p in pairs:
        target, idea = loaded[p["target"]].get(p["target_id"]), ideas.get(p["idea_id"])
        if target is None or idea is None:
            continue
        group = out.setdefault((p["target"], p["target_id"]), RoundGroup(target, type_of(target)))
        proposal = made.get((p["idea_id"], p["target"], p["target_id"]))
        group.pairs.append(RoundPair(idea, p["band"], p["score"], proposal))
    return list(out.values())
