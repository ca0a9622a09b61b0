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


class ExplanationParts(db.Model):
    """One text's sentences and key-term candidates as :func:`matching.explain.text_parts` finds
    them, JSON (:func:`matching.explain.parts_to_state`), keyed by
    :func:`matching.explain.parts_key` (the text, its language and keywords, the glossary): computed
    once by the job that embeds a published text, read by every process's pages."""

    __tablename__ = "explanation_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    parts_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    parts: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
