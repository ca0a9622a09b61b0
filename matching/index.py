"""Exact in-memory vector index: one float32 matrix, ids beside it."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class VectorIndex:
    """Unit vectors (float32, shape (n, dim)) with string ids; exact search by
    matrix product + ``argpartition``. Upsert semantics: adding an existing id
    replaces its vector. Removal swaps the last row in (O(1) per id)."""

    def __init__(self, dim: int, capacity: int = 1024):
        self.dim = dim
        self._mat = np.zeros((max(capacity, 1), dim), np.float32)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._row

    @property
    def ids(self) -> list[str]:
        """Ids in row order (the order of :attr:`vectors` and of ``mask``)."""
        return list(self._ids)

    @property
    def vectors(self) -> np.ndarray:
        """float32 (n, dim) view of the stored vectors, row order = :attr:`ids`."""
        return self._mat[: len(self._ids)]

    def row_of(self, item_id: str) -> int:
        """Current row of ``item_id`` (KeyError if absent)."""
        return self._row[item_id]

    def add(self, ids: Sequence[str], vecs: np.ndarray) -> None:
        """Insert or replace ``ids`` with ``vecs`` (float32 (len(ids), dim))."""
        vecs = np.asarray(vecs, np.float32).reshape(len(ids), self.dim)
        for item_id, vec in zip(ids, vecs):
            row = self._row.get(item_id)
            if row is None:
                row = len(self._ids)
                if row >= len(self._mat):
                    grown = np.zeros((len(self._mat) * 2, self.dim), np.float32)
                    grown[:row] = self._mat[:row]
                    self._mat = grown
                self._ids.append(item_id)
                self._row[item_id] = row
            self._mat[row] = vec

    def remove(self, ids: Sequence[str]) -> None:
        """Drop ``ids``; unknown ids are ignored."""
        for item_id in ids:
            row = self._row.pop(item_id, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            if row != last:
                moved = self._ids[last]
                self._mat[row] = self._mat[last]
                self._ids[row] = moved
                self._row[moved] = row
            self._ids.pop()

    def search(self, query_vecs: np.ndarray, top_k: int = 10,
               mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``top_k`` rows by dot product for each query.

        ``query_vecs``: float32 (q, dim) or (dim,). ``mask``: optional bool (n,)
        in :attr:`ids` order, False rows are never returned. Returns
        ``(scores float32 (q, k), ids object (q, k))``, best first; k may be
        smaller than ``top_k`` when fewer rows are allowed.
        """
        q = np.asarray(query_vecs, np.float32)
        q = q[None, :] if q.ndim == 1 else q
        scores = self.vectors @ q.T  # (n, q)
        scores = scores.T
        if mask is not None:
            scores = np.where(np.asarray(mask, bool)[None, :], scores, -np.inf)
        allowed = len(self) if mask is None else int(np.count_nonzero(mask))
        k = min(top_k, allowed)
        if k <= 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), object)
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        rows = np.take_along_axis(part, order, axis=1)
        ids = np.asarray(self._ids, dtype=object)[rows]
        return np.take_along_axis(part_scores, order, axis=1).astype(np.float32), ids
