"""Match proposals and their life: proposed -> under review -> approved/rejected -> ... -> closed."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.people import utcnow


class ProposalState(str, enum.Enum):
    PROPOSED = "proposed"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"            # the two parties are introduced
    REJECTED = "rejected"
    IN_DISCUSSION = "in_discussion"
    AGREEMENT_SIGNED = "agreement_signed"
    NO_AGREEMENT = "no_agreement"
    CLOSED = "closed"


class ProposalSource(str, enum.Enum):
    ENGINE = "engine"        # the matching engine's best matches
    STAFF = "staff"          # proposed by hand by department staff
    INTEREST = "interest"    # a business or an innovator expressed interest
    ROUND = "round"          # a published batch matching round


class RejectReason(str, enum.Enum):
    OFF_TOPIC = "off_topic"
    NOT_FEASIBLE = "not_feasible"
    STAGE_MISMATCH = "stage_mismatch"
    DUPLICATE = "duplicate"
    ALREADY_CONTRACTED = "already_contracted"   # the need was met elsewhere: says nothing about the fit
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    OTHER = "other"


class MatchProposal(db.Model):
    """A proposed pair of an idea and a technology need or a research order (exactly one of the two)."""

    __tablename__ = "match_proposals"
    __table_args__ = (
        sa.CheckConstraint("(need_id IS NULL) <> (order_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("idea_id", "need_id", name="uq_match_proposals_idea_need"),
        sa.UniqueConstraint("idea_id", "order_id", name="uq_match_proposals_idea_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=ProposalState.PROPOSED.value, index=True)
    source: Mapped[str] = mapped_column(sa.String(20), default=ProposalSource.ENGINE.value)
    band: Mapped[str | None] = mapped_column(sa.String(10))     # the engine's band when proposed
    score: Mapped[float | None]                                  # for ordering queues only, never shown
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(30))
    note: Mapped[str | None] = mapped_column(sa.Text)            # the proposer's note (staff, or an interest)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)   # the reviewer's note on the decision
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("matching_rounds.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None]
    introduced_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The parties' organisations when the proposal was made, normalised (services.proposals.
    # organisation_key), as a JSON list: a conflict of interest is judged on what was true then.
    party_organisations: Mapped[str] = mapped_column(sa.Text, default="[]", server_default="[]")
    # Checked and bumped by every UPDATE: of two staff deciding at once, one wins (StaleDataError).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    idea = relationship("Idea")
    need = relationship("TechnologyNeed")
    order = relationship("ResearchOrder")
    created_by = relationship("User", foreign_keys=[created_by_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    round = relationship("MatchingRound", back_populates="proposals")

    @property
    def target(self):
        return self.need if self.need_id else self.order


class RoundState(str, enum.Enum):
    DRAFT = "draft"            # solved, shown to staff only
    PUBLISHED = "published"    # its pairs became proposals
    DISCARDED = "discarded"


class MatchingRound(db.Model):
    """A batch matching over chosen needs/orders and ideas, with quotas, solved exactly."""

    __tablename__ = "matching_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(20), default=RoundState.DRAFT.value)
    max_per_need: Mapped[int] = mapped_column(default=5)
    max_per_idea: Mapped[int] = mapped_column(default=3)
    min_per_need: Mapped[int] = mapped_column(default=0)
    total_score: Mapped[float | None]
    greedy_score: Mapped[float | None]
    pairs_json: Mapped[str] = mapped_column(sa.Text, default="[]")  # the draft's pairs, until published
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    # Checked and bumped by every UPDATE: a round published and discarded at once ends one way only.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User")
    proposals = relationship("MatchProposal", back_populates="round")
