"""The province glossary as the app keeps it: rows that admins edit (models.GlossaryTerm), and the
engine's `matching.glossary.Glossary` built from them.

`current_glossary()` is what the engine is given. Each process keeps the glossary it built with
the key it was built for, (number of rows, newest updated_at), and asks the database for that key
on every call (one indexed aggregate); an add, an edit, a delete (a deleted row keeps its row and
moves updated_at) or an import changes the key, so every gunicorn worker, the job worker and the
CLI see a change at their next call, without a restart and without being told.

Rows are checked by the engine's own rules (`GlossaryEntry.make`): what the page, the import and
`seed_data/glossary.csv` accept is exactly what the engine reads. Every change is audited
("glossary.create", "glossary.update", "glossary.delete"; an import adds "glossary.import").
"""
from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context

from extensions import db
from matching.glossary import KINDS, LANGS, Glossary, GlossaryEntry, GlossaryError
from models import GlossaryTerm, User
from models.glossary import NAME_SEPARATOR
from models.people import utcnow
from services import audit, tables
from services.errors import ServiceError
from services.labels import GLOSSARY_KINDS, in_locale

# The file's columns: those of seed_data/glossary.csv, so an export can replace that file as it is.
COLUMNS = ("concept", "kind") + LANGS
MAX_ROWS = 20_000
# However an edit is missed (a transaction stamped before another that committed first), a process
# rebuilds its glossary at least this often.
REBUILD_EVERY_SECONDS = 300


class GlossaryInputError(ServiceError):
    """A concept the glossary refuses: "glossary_concept_missing", "glossary_concept" (param
    `value`), "glossary_kind" (`value`, `kinds`), "glossary_no_names", "glossary_duplicate" (`value`,
    `first`: the row it first appears in), "glossary_exists" (`value`). In a file, `row` is its row
    number as a spreadsheet shows it."""

    def __init__(self, code: str, row: int | None = None, **params: Any):
        super().__init__(code, **params)
        self.row = row


class GlossaryFileError(ServiceError):
    """A file that cannot be imported as a whole: a tables.TableError code, "columns" (params
    `missing`, `unknown`), "too_many_rows" (`n`) or "no_rows"."""


class GlossaryRowsError(ServiceError):
    """Rows of a file were refused (nothing was saved): `errors`, a GlossaryInputError per problem."""

    def __init__(self, errors: list[GlossaryInputError]):
        super().__init__("glossary_rows", n=len(errors))
        self.errors = errors


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)     # concept ids
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


# --- the engine's glossary ------------------------------------------------------------------

def entry_of(term: GlossaryTerm) -> GlossaryEntry:
    """A stored row as the engine's entry (rows were checked on the way in)."""
    return GlossaryEntry(term.concept, term.kind, *(tuple(term.names(lang)) for lang in LANGS))


def _version() -> tuple:
    count, newest = db.session.execute(
        sa.select(sa.func.count(GlossaryTerm.id), sa.func.max(GlossaryTerm.updated_at))).one()
    return count, newest, int(time.monotonic() // REBUILD_EVERY_SECONDS)


def current_glossary() -> Glossary:
    """The glossary as the database holds it now (deleted concepts left out), rebuilt only when
    the rows have changed since this process last built it. A request looks at the rows once and
    keeps the answer (a matches page asks for every ranking and explanation); a change this request
    makes (:func:`save_entry`, :func:`delete_entry`, :func:`import_rows`) drops it."""
    if has_request_context() and "glossary" in g:
        return g.glossary
    key = _version()
    cached = current_app.extensions.get("glossary")
    if cached is None or cached[0] != key:
        # The key is read before the rows: a change between the two is built in now and rebuilt
        # once more at the next call, never missed.
        rows = db.session.scalars(sa.select(GlossaryTerm).where(GlossaryTerm.deleted_at.is_(None))
                                  .order_by(GlossaryTerm.id))  # where two concepts share a name, the older wins
        cached = (key, Glossary(entry_of(t) for t in rows))
        current_app.extensions["glossary"] = cached
    if has_request_context():
        g.glossary = cached[1]
    return cached[1]


def _changed() -> None:
    """This request changed the glossary: its next :func:`current_glossary` reads the rows again."""
    if has_request_context():
        g.pop("glossary", None)


# --- reading and listing --------------------------------------------------------------------

def terms(search: str = "", kind: str = "") -> sa.Select:
    """The concepts (not deleted), by kind and id, narrowed by a kind and by a text found in the id
    or in any name (case-insensitive as the database compares; PostgreSQL folds every letter)."""
    stmt = (sa.select(GlossaryTerm).where(GlossaryTerm.deleted_at.is_(None))
            .order_by(GlossaryTerm.kind, GlossaryTerm.concept))
    if kind:
        stmt = stmt.where(GlossaryTerm.kind == kind)
    search = unicodedata.normalize("NFC", search).strip()
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in (
            GlossaryTerm.concept, GlossaryTerm.vi, GlossaryTerm.en, GlossaryTerm.zh))))
    return stmt


def shared_names() -> list[tuple[str, list[str]]]:
    """Names that more than one concept gives (compared as the engine compares them: NFC, case
    ignored), each with its concepts, oldest first: the engine reads the name as the first one."""
    concepts: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    rows = db.session.scalars(sa.select(GlossaryTerm).where(GlossaryTerm.deleted_at.is_(None))
                              .order_by(GlossaryTerm.id))
    for term in rows:
        for lang in LANGS:
            for name in term.names(lang):
                key = unicodedata.normalize("NFC", name).casefold()
                spelling.setdefault(key, name)
                if term.concept not in concepts.setdefault(key, []):
                    concepts[key].append(term.concept)
    return sorted((spelling[key], ids) for key, ids in concepts.items() if len(ids) > 1)


def get(term_id: int) -> GlossaryTerm | None:
    term = db.session.get(GlossaryTerm, term_id)
    return term if term is not None and term.deleted_at is None else None


def stored_values(entry: GlossaryEntry) -> dict[str, str]:
    return {"concept": entry.concept, "kind": entry.kind,
            **{lang: NAME_SEPARATOR.join(getattr(entry, lang)) for lang in LANGS}}


def _stored(term: GlossaryTerm) -> dict[str, str]:
    return {"concept": term.concept, "kind": term.kind, **{lang: getattr(term, lang) for lang in LANGS}}


# --- checking -------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())


def _kind_codes() -> dict[str, str]:
    """{folded name: code}: each kind's code and its label in Vietnamese and in English."""
    names = {}
    for locale in ("en", "vi"):
        names.update({_fold(words): code for code, words in in_locale(GLOSSARY_KINDS, locale).items()})
    names.update({code: code for code in KINDS})
    return names


def check(concept: str, kind: str, vi: str = "", en: str = "", zh: str = "", row: int | None = None,
          kind_codes: dict[str, str] | None = None) -> GlossaryEntry:
    """The entry, checked by the engine's rules; the kind may be given by its code or its label.
    Raises GlossaryInputError."""
    if not (concept or "").strip():
        raise GlossaryInputError("glossary_concept_missing", row=row)
    kind_codes = kind_codes if kind_codes is not None else _kind_codes()
    kind = kind_codes.get(_fold(kind), kind)
    try:
        return GlossaryEntry.make(concept, kind, vi, en, zh, row=row)
    except GlossaryError as error:
        value = {"concept": (concept or "").strip(), "kind": (kind or "").strip()}.get(error.code, "")
        raise GlossaryInputError(f"glossary_{error.code}", row=row, value=value,
                                 kinds=", ".join(KINDS)) from error


# --- changing -------------------------------------------------------------------------------

def _find(concept: str) -> GlossaryTerm | None:
    """The row of a concept id, deleted or not."""
    return db.session.scalar(sa.select(GlossaryTerm).where(GlossaryTerm.concept == concept))


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None and getattr(actor, "is_authenticated", True) else None


def _apply(term: GlossaryTerm | None, entry: GlossaryEntry, actor: User | None) -> tuple[GlossaryTerm, str | None]:
    """Write `entry` into `term` (a new row when None, a deleted row is restored); audited.
    Returns the row and the action recorded (None when nothing changed)."""
    after = stored_values(entry)
    if term is not None and term.deleted_at is None and _stored(term) == after:
        return term, None
    before = _stored(term) if term is not None and term.deleted_at is None else None
    term = term or GlossaryTerm()
    for key, value in after.items():
        setattr(term, key, value)
    term.deleted_at, term.updated_at = None, utcnow()
    term.updated_by_id = _actor_id(actor)
    db.session.add(term)
    db.session.flush()
    _changed()
    action = "glossary.update" if before else "glossary.create"
    audit.record(actor, action, "glossary", term.id, before, after)
    return term, action


def save_entry(term: GlossaryTerm | None, actor: User | None, concept: str, kind: str,
               vi: str = "", en: str = "", zh: str = "") -> GlossaryTerm:
    """Add a concept (term=None) or change one; an existing concept's id stays as it is. Raises
    GlossaryInputError ("glossary_exists" for a new concept whose id is taken)."""
    entry = check(term.concept if term is not None else concept, kind, vi, en, zh)
    if term is None:
        term = _find(entry.concept)
        if term is not None and term.deleted_at is None:
            raise GlossaryInputError("glossary_exists", value=entry.concept)
    term, _action = _apply(term, entry, actor)
    db.session.commit()
    return term


def delete_entry(term: GlossaryTerm, actor: User | None) -> None:
    """Remove a concept from the glossary; audited. Its row stays (see models.glossary)."""
    if term.deleted_at is not None:
        return
    before = _stored(term)
    term.deleted_at = term.updated_at = utcnow()
    term.updated_by_id = _actor_id(actor)
    audit.record(actor, "glossary.delete", "glossary", term.id, before, None)
    db.session.commit()
    _changed()


# --- files ----------------------------------------------------------------------------------

def read_entries(filename: str, content: bytes) -> list[GlossaryEntry]:
    """Every row of an .xlsx or .csv glossary file, checked. Raises GlossaryFileError for a file
    that cannot be read, GlossaryRowsError listing every bad row (not only the first)."""
    try:
        rows = tables.read_records(filename, content, lambda h: _fold(h) if _fold(h) in COLUMNS else None,
                                   {c: c for c in COLUMNS}, MAX_ROWS).rows
    except tables.TableError as error:
        raise GlossaryFileError(error.code, **error.params) from error
    kind_codes = _kind_codes()
    entries: list[GlossaryEntry] = []
    errors: list[GlossaryInputError] = []
    first_row: dict[str, int] = {}
    for number, values in rows:
        try:
            entry = check(values["concept"], values["kind"], values["vi"], values["en"], values["zh"],
                          row=number, kind_codes=kind_codes)
        except GlossaryInputError as error:
            errors.append(error)
            continue
        if entry.concept in first_row:
            errors.append(GlossaryInputError("glossary_duplicate", row=number, value=entry.concept,
                                             first=first_row[entry.concept]))
            continue
        first_row[entry.concept] = number
        entries.append(entry)
    if errors:
        raise GlossaryRowsError(errors)
    return entries


def import_rows(filename: str, content: bytes, actor: User | None) -> ImportResult:
    """Add the file's new concepts and change those that differ, all in one transaction: a file
    with any bad row saves nothing (GlossaryFileError, GlossaryRowsError). Concepts the file does
    not name are left as they are (delete them on their page)."""
    entries = read_entries(filename, content)
    existing = {t.concept: t for t in db.session.scalars(
        sa.select(GlossaryTerm).where(GlossaryTerm.concept.in_([e.concept for e in entries])))}
    result = ImportResult()
    try:
        for entry in entries:
            _term, action = _apply(existing.get(entry.concept), entry, actor)
            if action == "glossary.create":
                result.added.append(entry.concept)
            elif action == "glossary.update":
                result.changed.append(entry.concept)
            else:
                result.unchanged += 1
        audit.record(actor, "glossary.import", "glossary", None, None,
                     {"file": filename[:255], "added": len(result.added), "changed": len(result.changed),
                      "unchanged": result.unchanged})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def export() -> tuple[list[str], list[list[str]]]:
    """Every concept as the table the import reads back (and seed_data/glossary.csv holds):
    headers concept, kind, vi, en, zh; names separated by "|"."""
    rows = [[t.concept, t.kind, t.vi, t.en, t.zh] for t in db.session.scalars(terms())]
    return list(COLUMNS), rows
