"""Backup and restore of every record, portable between SQLite and PostgreSQL.

A backup is one gzip-compressed JSON document: the schema revision and, per table (in
dependency order), its rows. Restoring needs an empty database at the same schema revision
(`flask db upgrade` first); it runs in one transaction, so it either restores all or nothing.
"""
from __future__ import annotations

import base64
import gzip
import json
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from extensions import db
from services import search
from services.errors import ServiceError

FORMAT = "laocai-match-backup/1"


class BackupError(ServiceError):
    """A backup that cannot be restored. Only operators see it, at the command line and in English,
    so str() is the whole sentence; `code` says which check failed."""

    def __init__(self, code: str, sentence: str):
        super().__init__(code)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


def _encode(value):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value):
    if isinstance(value, dict):
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
        if "$b" in value:
            return base64.b64decode(value["$b"])
    return value


def _revision() -> str | None:
    try:
        return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DatabaseError:
        db.session.rollback()
        return None


def backup(path: Path) -> dict[str, int]:
    """Write every table's rows to `path`; returns the row count per table."""
    tables, counts = {}, {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()
        tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
        counts[table.name] = len(tables[table.name])
    document = {"format": FORMAT, "revision": _revision(), "created_at": datetime.now().isoformat(),
                "tables": tables}
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False)
    tmp.replace(path)
    return counts


def restore(path: Path) -> dict[str, int]:
    """Load a backup into this (empty, migrated) database, all or nothing."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        document = json.load(f)
    if document.get("format") != FORMAT:
        raise BackupError("not_a_backup", f"{path} is not a backup of this application.")
    if document.get("revision") != _revision():
        raise BackupError("revision_differs",
                          f"Schema revision differs (backup {document.get('revision')}, database {_revision()}): "
                          "run `flask --app app db upgrade` to the backup's revision first.")
    for table in db.metadata.sorted_tables:
        if db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar():
            raise BackupError("not_empty",
                              f"The database is not empty (table {table.name} has rows): restore needs an empty one.")
    counts = {}
    try:
        for table in db.metadata.sorted_tables:
            rows = [{k: _decode(v) for k, v in row.items()} for row in document["tables"].get(table.name, [])]
            if rows:
                db.session.execute(table.insert(), rows)
            counts[table.name] = len(rows)
        _reset_sequences()
        # The folded search words are derived data: recomputed with this code, whatever wrote them.
        search.rebuild_documents()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts


def _reset_sequences() -> None:
    """PostgreSQL's id sequences must continue after the restored ids."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.columns and table.columns["id"].primary_key:
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
