"""Submissions: ideas from innovators, technology needs from businesses, research orders from staff."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from extensions import db
from models.people import utcnow


class Status(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class IdeaKind(str, enum.Enum):
    STARTUP_IDEA = "startup_idea"
    STEM_PROJECT = "stem_project"
    HACKATHON_PROJECT = "hackathon_project"
    RESEARCH_PROPOSAL = "research_proposal"


class Stage(str, enum.Enum):
    IDEA = "idea"
    PROTOTYPE = "prototype"
    PILOT = "pilot"
    MARKET = "market"


class Visibility(str, enum.Enum):
    PUBLIC = "public"      # anyone, signed in or not
    MEMBERS = "members"    # signed-in users only


class Urgency(str, enum.Enum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


def _sector_table(name: str, fk: str) -> sa.Table:
    return sa.Table(
        name, db.metadata,
        sa.Column(f"{fk.split('.')[0][:-1]}_id", sa.ForeignKey(fk, ondelete="CASCADE"), primary_key=True),
        sa.Column("sector_id", sa.ForeignKey("sectors.id", ondelete="CASCADE"), primary_key=True),
    )


idea_sectors = _sector_table("idea_sectors", "ideas.id")
need_sectors = _sector_table("need_sectors", "needs.id")
order_sectors = _sector_table("order_sectors", "orders.id")


class Submission:
    """What every submission has: an owner, a life cycle, a place, sectors and a language.

    The three kinds (``Idea``, ``TechnologyNeed``, ``ResearchOrder``) share this base; what the
    app knows about each kind as a whole (slug, text fields, engine side, names) is in
    ``services/submission_types.py``. What belongs to one row is here.
    """

    sectors_table: sa.Table
    # Only a technology need can be confidential (a column there); the others never are.
    confidential = False
    # Only an idea can be shown to signed-in members only (its visibility); the others never are.
    members_only = False

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default=Status.DRAFT.value, index=True)
    language: Mapped[str] = mapped_column(sa.String(5), default="vi", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Indexed: every matching query asks what changed since it last looked.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    published_at: Mapped[datetime | None]  # indexed with the id: see __table_args__
    # The folded words that search finds (matching/search.py), kept current on every flush by
    # services/search.py: ``search_public`` what anyone may find (the title, the place),
    # ``search_full`` every searchable field. Indexed by the database's full-text machinery
    # (a migration: FTS5 tables on SQLite, GIN indexes on PostgreSQL). Not loaded with a row.
    search_public: Mapped[str] = mapped_column(sa.Text, default="", server_default="", deferred=True)
    search_full: Mapped[str] = mapped_column(sa.Text, default="", server_default="", deferred=True)
    # Bumped by every UPDATE, which also checks it: two people acting on one row at once cannot
    # both win (see docs/architecture.md, "Two people at once").
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        # Lists and the home page show the newest first, ties (an import publishes many rows at one
        # moment) by id: with both in one index a page is read off it in order, never sorted.
        return (sa.Index(f"ix_{cls.__tablename__}_published_at_id", "published_at", "id"),)

    @declared_attr
    def owner_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("users.id"), index=True)

    @declared_attr
    def place_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("places.id"), index=True)

    @declared_attr
    def owner(cls):
        return relationship("User")

    @declared_attr
    def place(cls):
        return relationship("Place")

    @declared_attr
    def sectors(cls):
        return relationship("Sector", secondary=cls.sectors_table, order_by="Sector.id")

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED.value

    @property
    def organisation_name(self) -> str | None:
        """The organisation that stands behind the submission, as lists and matches show it."""
        return self.organisation

    @property
    def organisations(self) -> list[str]:
        """Every organisation named on it or on its author (for conflicts of interest)."""
        return [name for name in (self.organisation, self.owner.organisation) if name]

    @hybrid_property
    def open_until(self) -> date | None:
        """The last day it takes proposals (None: no deadline). Ideas have none."""
        return None

    @hybrid_method
    def is_open(self, today: date) -> bool:
        """Published and not past its deadline on ``today``; on the class, the same rule as a SQL
        condition (for needs and orders: ``select(TechnologyNeed).where(TechnologyNeed.is_open(d))``)."""
        return self.is_published and (self.open_until is None or self.open_until >= today)

    @is_open.inplace.expression
    @classmethod
    def _is_open_condition(cls, today: date) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status == Status.PUBLISHED.value, sa.or_(cls.open_until.is_(None), cls.open_until >= today))


class Idea(Submission, db.Model):
    __tablename__ = "ideas"
    sectors_table = idea_sectors

    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    summary: Mapped[str] = mapped_column(sa.String(1000))
    description: Mapped[str] = mapped_column(sa.Text)
    keywords: Mapped[str | None] = mapped_column(sa.String(500))
    stage: Mapped[str] = mapped_column(sa.String(20), default=Stage.IDEA.value)
    trl: Mapped[int | None]
    team: Mapped[str | None] = mapped_column(sa.String(1000))
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    event: Mapped[str | None] = mapped_column(sa.String(200))
    visibility: Mapped[str] = mapped_column(sa.String(20), default=Visibility.PUBLIC.value)
    # The author as an imported file names them (a student entered by their teacher's account, say);
    # None: the account's own name.
    author_name: Mapped[str | None] = mapped_column(sa.String(200))

    @property
    def members_only(self) -> bool:
        return self.visibility == Visibility.MEMBERS.value

    @property
    def author(self) -> str:
        """Who the idea's page and the exports name as its author."""
        return self.author_name or self.owner.full_name

    @property
    def held_for_author(self) -> bool:
        """Imported for an author without an account: the staff member who imported it owns it (edits
        it, is introduced for its author), and it is not theirs (their e-mail and organisation are
        not the author's)."""
        return self.owner.is_staff

    @property
    def organisations(self) -> list[str]:
        """Every organisation named on it or on its author's account; for an idea held for its author,
        only its own (the Department holding it is no conflict of interest)."""
        if self.held_for_author:
            return [self.organisation] if self.organisation else []
        return super().organisations


class TechnologyNeed(Submission, db.Model):
    __tablename__ = "needs"
    sectors_table = need_sectors

    problem: Mapped[str] = mapped_column(sa.Text)
    desired_outcome: Mapped[str] = mapped_column(sa.Text)
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    budget_min: Mapped[int | None] = mapped_column(sa.BigInteger)
    budget_max: Mapped[int | None] = mapped_column(sa.BigInteger)
    deadline: Mapped[date | None]
    # The least mature solution the business can use (e.g. "pilot"); None = any stage.
    required_stage: Mapped[str | None] = mapped_column(sa.String(20))
    confidential: Mapped[bool] = mapped_column(default=False)

    @property
    def organisation_name(self) -> str | None:
        """The company or cooperative given on the need, else the author's organisation."""
        return self.organisation or self.owner.organisation

    @hybrid_property
    def open_until(self) -> date | None:
        return self.deadline


class ResearchOrder(Submission, db.Model):
    """Đặt hàng nhiệm vụ KH&CN: the fields of the province's order form."""

    __tablename__ = "orders"
    sectors_table = order_sectors

    ordering_body: Mapped[str] = mapped_column(sa.String(200))
    urgency: Mapped[str] = mapped_column(sa.String(20), default=Urgency.NORMAL.value)
    objectives: Mapped[str] = mapped_column(sa.Text)
    main_content: Mapped[str] = mapped_column(sa.Text)
    expected_products: Mapped[str] = mapped_column(sa.Text)
    application_place: Mapped[str | None] = mapped_column(sa.String(500))
    duration_months: Mapped[int | None]
    budget_state: Mapped[int | None] = mapped_column(sa.BigInteger)
    budget_other: Mapped[int | None] = mapped_column(sa.BigInteger)
    proposal_deadline: Mapped[date | None]

    @property
    def organisation_name(self) -> str | None:
        return self.ordering_body

    @property
    def organisations(self) -> list[str]:
        # The staff member who posts an order does so for the ordering body, not their own office.
        return [self.ordering_body] if self.ordering_body else []

    @hybrid_property
    def open_until(self) -> date | None:
        return self.proposal_deadline
