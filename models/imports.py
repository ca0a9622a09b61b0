"""Bulk imports (e.g. a hackathon's entries): previewed first, then applied all or nothing."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.people import utcnow


class ImportJob(db.Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="ideas")
    filename: Mapped[str] = mapped_column(sa.String(255))
    # preview -> queued -> running -> done | failed  (nothing is written before "running" ends well)
    status: Mapped[str] = mapped_column(sa.String(20), default="preview", index=True)
    total_rows: Mapped[int] = mapped_column(default=0)
    done_rows: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    rows_json: Mapped[str] = mapped_column(sa.Text, default="[]")     # validated rows, ready to apply
    errors_json: Mapped[str] = mapped_column(sa.Text, default="[]")   # [{row, column, message}]
    # What the preview says without refusing the file: [{row (None: the whole file), column, message}]
    notes_json: Mapped[str] = mapped_column(sa.Text, default="[]", server_default="[]")
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Touched by every change and by the progress of a run: a "running" job untouched for long is
    # stalled (its process died) and the worker's maintenance runs it again (imports.recover()).
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    # Checked and bumped by every UPDATE: two runs of one job (a retry beside a slow first run)
    # cannot both commit its rows.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User")
