"""In-app notifications; e-mail copies go through services.mail."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.people import utcnow


class Notification(db.Model):
    """`kind` selects the translated message; `params` (JSON) fills it; shown in the reader's language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[str] = mapped_column(sa.Text, default="{}")
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]


class OutgoingMail(db.Model):
    """An e-mail to send, kept until it is sent: written in the transaction of the change that
    causes it, sent by a job after the commit, retried with backoff when the server refuses it,
    and listed for staff while it is not sent (services.mail)."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
