"""Persisted embedding vectors: the engine's cache, so a restart or re-publish does not re-embed."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.people import utcnow


class EmbeddingVector(db.Model):
    """One text's vector under one model and e5 role, keyed by the hash of the text."""

    __tablename__ = "embedding_vectors"
    # The hash first: it alone is selective (every row of a model shares model_id and role).
    __table_args__ = (sa.UniqueConstraint("text_key", "model_id", "role", name="uq_embedding_vectors_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(10))
    text_key: Mapped[str] = mapped_column(sa.String(64))
    vector: Mapped[bytes] = mapped_column(sa.LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
