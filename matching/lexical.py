"""A lexical (surface-form) similarity signal: TF-IDF over character n-grams.

Character n-grams within word boundaries work for Vietnamese syllables,
English words and unsegmented Chinese alike, with no tokenizer per language.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


class LexicalScorer:
    """``fit(texts)`` learns the vocabulary and IDF; ``transform(texts)`` gives
    an L2-normalised sparse matrix (n, V); ``similarity(text, matrix)`` the
    cosine of one text against each row, float32 (n,)."""

    def __init__(self, ngram_range: tuple[int, int] = (2, 4), max_features: int | None = 200_000):
        self.ngram_range = ngram_range
        self.max_features = max_features
        self._vec = None

    def fit(self, texts: Sequence[str]) -> "LexicalScorer":
        """Fit vocabulary and IDF on ``texts``; returns self."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vec = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                    sublinear_tf=True, lowercase=True, dtype=np.float32,
                                    max_features=self.max_features)
        self._vec.fit(list(texts) or [""])
        return self

    def transform(self, texts: Sequence[str]):
        """Sparse CSR float32 (n, V), rows L2-normalised."""
        if self._vec is None:
            raise RuntimeError("LexicalScorer is not fitted")
        return self._vec.transform(list(texts))

    def similarity(self, text: str, matrix) -> np.ndarray:
        """Cosine of ``text`` with each row of ``matrix`` -> float32 (n,)."""
        q = self.transform([text])
        return np.asarray((matrix @ q.T).toarray()).ravel().astype(np.float32)
