"""A lexical (surface-form) similarity signal: TF-IDF over character n-grams.

Character n-grams within word boundaries work for Vietnamese syllables,
English words and unsegmented Chinese alike, with no tokenizer per language.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class LexicalScorer:
    """``fit(texts)`` learns the vocabulary and IDF; ``transform(texts)`` gives
    an L2-normalised sparse matrix (n, V); ``similarity(text, matrix)`` the
    cosine of one text against each row, float32 (n,)."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 4), max_features: int | None = 200_000):
        self.ngram_range = ngram_range
        self.max_features = max_features
        self._vec = None
        self._fitted = None  # (vocabulary, IDF) read from a pickle: the vectorizer is made on first use

    def fit(self, texts: Sequence[str]) -> LexicalScorer:
        """Fit vocabulary and IDF on ``texts``; returns self."""
        self._vec = self._new_vectorizer()
        self._vec.fit(list(texts) or [""])
        return self

    def _new_vectorizer(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                               sublinear_tf=True, lowercase=True, dtype=np.float32,
                               max_features=self.max_features)

    def fit_transform(self, texts: Sequence[str]):
        """``fit(texts).transform(texts)`` in one pass over the texts (the same
        matrix, bit for bit: indices are sorted as :meth:`transform` gives them)."""
        texts = list(texts)
        self._vec = self._new_vectorizer()
        if not texts:
            self._vec.fit([""])
            return self._vec.transform([])
        out = self._vec.fit_transform(texts).tocsr()
        out.sort_indices()
        return out

    def transform(self, texts: Sequence[str]):
        """Sparse CSR float32 (n, V), rows L2-normalised."""
        if self._vec is None and self._fitted is not None:
            self._vec = self._new_vectorizer()  # as fitted: the same vocabulary and IDF, the same rows
            self._vec.vocabulary_, self._vec.idf_ = self._fitted
            self._fitted = None
        if self._vec is None:
            raise RuntimeError("LexicalScorer is not fitted")
        return self._vec.transform(list(texts))

    def __getstate__(self) -> dict:
        """Pickled as its settings, vocabulary and IDF, not as scikit-learn's object: unpickling
        that imports scikit-learn (and SciPy's statistics), 1.7 s of a process's start from a
        saved index (services/index_snapshot.py), before any text needs transforming."""
        state = {"ngram_range": self.ngram_range, "max_features": self.max_features, "fitted": self._fitted}
        if self._vec is not None:
            state["fitted"] = (self._vec.vocabulary_, self._vec.idf_)
        return state

    def __setstate__(self, state: dict) -> None:
        self.ngram_range, self.max_features = tuple(state["ngram_range"]), state["max_features"]
        self._vec, self._fitted = None, state["fitted"]

    @staticmethod
    def searchable(matrix):
        """The same rows stored by column (CSC), for fast :meth:`similarity`:
        a query then only reads the columns of its own n-grams."""
        return matrix.tocsc()

    def similarity(self, text: str, *matrices, row=None) -> np.ndarray:
        """Cosine of ``text`` with each row of ``matrix`` -> float32 (n,).
        ``row``: the text's own row (CSR (1, V)) when the caller has it (a stored item's), so
        nothing is transformed.
        Several matrices (same vocabulary) are scored as if stacked; a CSC
        matrix (:meth:`searchable`) is read only at the query's columns.
        Either way each row's products are summed in column order, so the
        result does not depend on the storage. A dense ``ndarray`` (k, V)
        (e.g. sums of rows) is scored like a CSR matrix."""
        q = self.transform([text]) if row is None else row
        order = np.argsort(q.indices, kind="stable")
        cols, vals = q.indices[order], q.data[order]
        dense = None
        parts = []
        for m in matrices:
            if getattr(m, "format", None) == "csc":
                # the query's columns only; a CSC product adds each row's terms in column order,
                # as a CSR row does (no conversion: it cost ~16 ms a query at 100k rows)
                parts.append(np.asarray(m[:, cols] @ vals).ravel())
            else:
                if dense is None:
                    dense = q.toarray().ravel()
                parts.append(np.asarray(m @ dense).ravel())
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)).astype(np.float32)
