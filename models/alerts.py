"""What people follow to hear of new submissions: a sector or a former district (huyện cũ)."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.people import utcnow


class FollowTopic(str, enum.Enum):
    SECTOR = "sector"        # value: a sector's code
    DISTRICT = "district"    # value: a place's former district, as the places name it


class Follow(db.Model):
    """One person following one sector or former district: what is newly published there goes into
    their daily digest (services/alerts.py)."""

    __tablename__ = "follows"
    __table_args__ = (sa.UniqueConstraint("user_id", "topic", "value", name="uq_follows_user_topic_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(sa.String(10))
    value: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
