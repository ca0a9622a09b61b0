"""The language a submission is written in: vi, en or zh, never "auto".

Forms and the API offer "auto" (detect it), imports accept "Tự động", demo data may leave the
language out. Every one of them is resolved here, before the row is stored and before a text
reaches the engine: the engine removes the mean vector of an item's language, so a language it
does not know ("auto") would be debiased with the global mean instead, and an English
translation of a Vietnamese idea would no longer look like one.

Detection (``matching.text.detect_language``) is told the province's proper names so that a
place never decides the language: the places and former districts in the database, the place
names of the province glossary and ``seed_data/proper_names.txt``.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from extensions import db
from matching.glossary import read_glossary_csv
from matching.text import SUPPORTED, detect_language
from models import Place
from services.submission_types import SubmissionType

AUTO = "auto"
SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"


@functools.lru_cache(maxsize=4)
def _file_names(seed_dir: Path) -> frozenset[str]:
    """Names from the seed files (read once per process: they change with a release)."""
    names: set[str] = set()
    glossary = seed_dir / "glossary.csv"
    if glossary.exists():
        names.update(name for entry in read_glossary_csv(glossary) if entry.kind == "place"
                     for lang, name in entry.names() if lang != "zh")
    listed = seed_dir / "proper_names.txt"
    if listed.exists():
        names.update(line.strip() for line in listed.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))
    return frozenset(names)


def proper_names(seed_dir: Path = SEED_DIR) -> frozenset[str]:
    """The province's proper names that language detection blanks out: the places and former
    districts in the database (admins may add some) and the names of the seed files."""
    places = db.session.execute(sa.select(Place.name, Place.former_district)).all()
    return _file_names(seed_dir) | {n for row in places for n in row if n}


def resolve(submission_type: SubmissionType, data: Mapping, declared: str | None = None) -> str:
    """vi, en or zh for a submission's ``data`` (its form's fields): ``declared`` (or
    ``data["language"]``) when it is one of them, else detected from its text fields."""
    declared = declared if declared is not None else data.get("language")
    if declared in SUPPORTED:
        return declared
    text = "\n".join(str(data.get(f) or "") for f in submission_type.text_fields)
    return detect_language(text, names=proper_names())
