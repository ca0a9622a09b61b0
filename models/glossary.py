"""The province glossary (reference data that admins edit): one row per concept, its names in
Vietnamese, English and Chinese. The engine reads it as a matching.glossary.Glossary, built by
services/glossary.py."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.people import utcnow

# Several names of one language are kept in one column, separated by "|": the glossary file's own
# notation (seed_data/glossary.csv, exports, imports), which a name never contains; it reads the same
# in a database console, and a plain text column behaves alike on SQLite and PostgreSQL.
NAME_SEPARATOR = "|"


class GlossaryTerm(db.Model):
    __tablename__ = "glossary_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    concept: Mapped[str] = mapped_column(sa.String(80), unique=True)  # a stable id, e.g. "cinnamon"
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)      # matching.glossary.KINDS
    vi: Mapped[str] = mapped_column(sa.Text, default="")
    en: Mapped[str] = mapped_column(sa.Text, default="")
    zh: Mapped[str] = mapped_column(sa.Text, default="")
    # Every change moves updated_at: with the row count it tells each process that its glossary is stale.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None = the seeding
    # A deleted concept keeps its row, so that `flask seed` (which adds the concepts it does not find)
    # does not bring back what an admin removed; adding the concept again restores the row.
    deleted_at: Mapped[datetime | None]

    updated_by = relationship("User")

    def names(self, lang: str) -> list[str]:
        """The names in `lang` ("vi", "en", "zh"), in their order."""
        return [n for n in (getattr(self, lang) or "").split(NAME_SEPARATOR) if n]
