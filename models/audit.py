"""The append-only audit log: who changed what, when, from what to what."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.people import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)  # None = the system
    action: Mapped[str] = mapped_column(sa.String(60), index=True)      # e.g. "proposal.approve"
    entity_type: Mapped[str] = mapped_column(sa.String(30), index=True)  # "proposal", "idea", "user", ...
    entity_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    after: Mapped[str | None] = mapped_column(sa.Text)   # JSON

    actor = relationship("User")


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise PermissionError("The audit log is append-only.")
