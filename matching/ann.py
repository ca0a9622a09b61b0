"""An approximate nearest-neighbour index over unit vectors, for the first stage at large sizes.

A thin wrapper over ``usearch`` (Unum Cloud, Apache-2.0, https://github.com/unum-cloud/usearch,
PyPI ``usearch``): a HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2020) with inner-product
distance, items added and removed one by one without a rebuild. Keys are the engine's slots
(ints); it finds candidate slots only, and the caller scores them exactly on its own float32
vectors, so the graph may store its vectors at lower precision (``dtype``).
"""
from __future__ import annotations

import numpy as np
from usearch.index import Index

__all__ = ["ApproximateIndex"]


class ApproximateIndex:
    """Unit vectors keyed by int slot; :meth:`search` gives the slots of (approximately) the
    largest inner products with a query.

    ``dim``: vector length (384 for e5-small); ``connectivity``: graph edges per node (HNSW's M);
    ``expansion_add`` / ``expansion_search``: candidate list length while inserting / searching
    (HNSW's efConstruction / ef; a search uses at least its ``count``); ``dtype``: how the graph
    stores vectors, "f16" (2 bytes a value) or "f32" / "i8". Memory is about
    ``n * (dim * bytes_per_value + 2 * connectivity * 4)`` bytes, see :attr:`memory_bytes`.

    Pickled through usearch's own serialisation (:meth:`__getstate__`): the graph is one uint8
    array, which a protocol-5 pickle keeps out of band (services/index_snapshot.py maps it from
    the file), and is loaded back whole when unpickled (no rebuild).
    """

    def __init__(self, dim: int, connectivity: int = 16, expansion_add: int = 40,
                 expansion_search: int = 64, dtype: str = "f16"):
        self.dim = dim
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.dtype = dtype
        self._index = self._new_index()

    def _new_index(self) -> Index:
        return Index(ndim=self.dim, metric="ip", dtype=self.dtype, connectivity=self.connectivity,
                     expansion_add=self.expansion_add, expansion_search=self.expansion_search)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def memory_bytes(self) -> int:
        """Bytes the graph and its vectors take (usearch's own count)."""
        return int(self._index.memory_usage)

    def add(self, slots: np.ndarray, vecs: np.ndarray, threads: int = 0) -> None:
        """Insert ``vecs`` (float32 (k, dim), unit rows) under ``slots`` (ints (k,), not in the
        index). ``threads``: 0 = all cores (a full build), 1 for a few rows."""
        slots = np.asarray(slots, np.uint64).reshape(-1)
        if not len(slots):
            return
        vecs = np.ascontiguousarray(vecs, np.float32).reshape(len(slots), self.dim)
        self._index.add(slots, vecs, threads=threads)

    def remove(self, slots: np.ndarray) -> None:
        """Forget ``slots`` (marked removed in the graph; their memory is reused by no one until the
        index is built again). Unknown slots are ignored."""
        slots = np.asarray(slots, np.uint64).reshape(-1)
        if len(slots):
            self._index.remove(slots)

    def search(self, vec: np.ndarray, count: int) -> np.ndarray:
        """Slots of the ``count`` vectors nearest ``vec`` (float32 (dim,)) by inner product,
        best first, as int64 (k,), k <= count (fewer when the index holds fewer)."""
        if not len(self._index) or count <= 0:
            return np.zeros(0, np.int64)
        self._index.expansion_search = max(self.expansion_search, count)
        found = self._index.search(np.asarray(vec, np.float32).reshape(self.dim), count, threads=1)
        return np.asarray(found.keys, np.int64)

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k != "_index"}
        state["graph"] = np.frombuffer(self._index.save(), np.uint8)
        return state

    def __setstate__(self, state: dict) -> None:
        graph = state.pop("graph")
        self.__dict__.update(state)
        self._index = self._new_index()
        self._index.load(memoryview(np.ascontiguousarray(graph)))
