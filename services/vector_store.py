"""The engine's VectorStore backed by the database (table embedding_vectors)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import sqlalchemy as sa

from extensions import db
from models import EmbeddingVector

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
