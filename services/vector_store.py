"""The engine's VectorStore backed by the database (table embedding_vectors), and the explanation
parts kept beside the vectors (table explanation_parts)."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import sqlalchemy as sa

from extensions import db
from matching.explain import TextParts, parts_from_state, parts_to_state
from models import EmbeddingVector, ExplanationParts

_CHUNK = 500  # keys per IN (...) query, well under every database's parameter limit


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
        # Another process may have stored the same text meanwhile: skip keys that exist now.
        for _attempt in range(2):
            existing = set(self.get_many(model_id, role, list(vectors)))
            db.session.add_all(
                EmbeddingVector(model_id=model_id, role=role, text_key=key,
                                vector=np.asarray(vec, dtype="<f4").tobytes())
                for key, vec in vectors.items() if key not in existing)
            try:
                db.session.commit()
                return
            except sa.exc.IntegrityError:
                db.session.rollback()  # a concurrent writer stored some keys first; add the rest

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
        for _attempt in range(2):
            existing = set(self.get_many(list(parts)))
            db.session.add_all(ExplanationParts(parts_key=key, parts=json.dumps(parts_to_state(value),
                                                                                ensure_ascii=False))
                               for key, value in parts.items() if key not in existing)
            try:
                db.session.commit()
                return
            except sa.exc.IntegrityError:
                db.session.rollback()
