"""The engine's VectorStore backed by the database (table embedding_vectors), and the explanation
parts kept beside the vectors (table explanation_parts)."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sqlalchemy as sa

from extensions import db
from matching.explain import TextParts, parts_from_state, parts_to_state
from models import EmbeddingVector, ExplanationParts

_CHUNK = 500  # keys per IN (...) query, well under every database's parameter limit


def _stored_keys(column, keys: Sequence[str], *where) -> set[str]:
    """The keys among ``keys`` that ``column`` (a unique key column) holds, rows narrowed by
    ``where``; the key column alone is read."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        found.update(db.session.scalars(sa.select(column).where(column.in_(keys[start:start + _CHUNK]), *where)))
    return found


def _add_new(column, keys: Sequence[str], row: Callable[[str], object], *where) -> None:
    """Add ``row(key)`` for each key that ``column`` does not hold yet and commit. Another process
    may store some of the same keys meanwhile: after a unique-key conflict the keys are looked up
    again and the rest added, once."""
    for _attempt in range(2):
        existing = _stored_keys(column, keys, *where)
        db.session.add_all(row(key) for key in keys if key not in existing)
        try:
            db.session.commit()
            return
        except sa.exc.IntegrityError:
            db.session.rollback()  # a concurrent writer stored some keys first; add the rest


class DatabaseVectorStore:
    def get_many(self, model_id: str, role: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), _CHUNK):
            rows = db.session.execute(sa.select(EmbeddingVector.text_key, EmbeddingVector.vector).where(
                EmbeddingVector.model_id == model_id, EmbeddingVector.role == role,
                EmbeddingVector.text_key.in_(keys[start:start + _CHUNK])))
            found.update((key, np.frombuffer(blob, dtype="<f4")) for key, blob in rows)
        return found

    def put_many(self, model_id: str, role: str, vectors: Mapping[str, np.ndarray]) -> None:
        _add_new(EmbeddingVector.text_key, list(vectors),
                 lambda key: EmbeddingVector(model_id=model_id, role=role, text_key=key,
                                             vector=np.asarray(vectors[key], dtype="<f4").tobytes()),
                 EmbeddingVector.model_id == model_id, EmbeddingVector.role == role)

    def delete_model(self, model_id: str) -> int:
        result = db.session.execute(sa.delete(EmbeddingVector).where(EmbeddingVector.model_id == model_id))
        db.session.commit()
        return result.rowcount


class DatabasePartsStore:
    """Explanation parts (:func:`matching.explain.text_parts`) by :func:`matching.explain.parts_key`,
    in the table explanation_parts: written by the job that embeds a published text, read by pages."""

    def get_many(self, keys: Sequence[str]) -> dict[str, TextParts]:
        """The stored parts of ``keys`` (unknown keys left out; a row this code cannot read is
        treated as absent, so its text is prepared again)."""
        found: dict[str, TextParts] = {}
        for start in range(0, len(keys), _CHUNK):
            rows = db.session.execute(sa.select(ExplanationParts.parts_key, ExplanationParts.parts).where(
                ExplanationParts.parts_key.in_(keys[start:start + _CHUNK])))
            for key, blob in rows:
                try:
                    found[key] = parts_from_state(json.loads(blob))
                except (KeyError, ValueError, TypeError):
                    continue
        return found

    def put_many(self, parts: Mapping[str, TextParts]) -> None:
        """Store ``parts`` by key; keys stored meanwhile by another process are skipped."""
        _add_new(ExplanationParts.parts_key, list(parts),
                 lambda key: ExplanationParts(parts_key=key,
                                              parts=json.dumps(parts_to_state(parts[key]), ensure_ascii=False)))
