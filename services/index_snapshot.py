"""The match index saved to a file, so that a process starts ranking in seconds.

Without it every process (each gunicorn worker, the job worker) builds its engine from the rows:
110k submissions read, their vectors fetched, language means and the TF-IDF term fitted (83 s
per worker at 10k needs and 100k ideas, docs/operations.md). With it a process reads the
engine as it was saved, fitted, and then only the rows that changed since (see
:meth:`services.match_index.MatchIndex.refresh`).

A snapshot is one file per database and model (``<MATCH_INDEX_SNAPSHOT_DIR>/<database>-<model>.pickle``),
written whole to a temporary file and renamed over the old one, so a reader sees the old or the
new file, never half of one. It is a pickle, signed under the app's ``SECRET_KEY`` with keyed
BLAKE2b (a MAC, RFC 7693; twice as fast as HMAC-SHA256 over the 1.2 GB of 110k items): a file
that was not written by this app with this key (changed, truncated, from another installation)
is never unpickled, it is ignored and the engine is built from the rows.
Anything unreadable (another format, another model) is likewise ignored: a snapshot only ever
saves time.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from matching.ranking import Item, MatchEngine

log = logging.getLogger(__name__)

MAGIC = b"laocai-match-index\n"
FORMAT = 1  # bumped whenever what is pickled changes shape


@dataclass
class Snapshot:
    """What a process needs to rank without reading every row again.

    ``engine``: fitted (derived state up to date); ``versions``: engine id -> ``updated_at`` of
    the row each item (ranked or pending) was read from, so that a reader refreshes exactly the
    rows changed since; ``pending``: published items without a stored vector then;
    ``members_only``: engine ids of ideas shown to signed-in people only."""

    model_id: str
    engine: MatchEngine
    versions: dict[str, datetime]
    pending: dict[str, Item] = field(default_factory=dict)
    members_only: frozenset[str] = frozenset()
    format: int = FORMAT


def path_for(directory: str | None, database_url: str, model_id: str) -> Path | None:
    """The snapshot file of this database and model in ``directory``; None when snapshots are off
    (no directory). The database is named by a hash of its URL (the URL may hold a password)."""
    if not directory:
        return None
    database = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    model = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    return Path(directory) / f"{database}-{model}.pickle"


def _signature(key: bytes, payload: bytes | memoryview) -> bytes:
    return hashlib.blake2b(payload, key=hashlib.sha256(key).digest(), digest_size=32).digest()


def write(snapshot: Snapshot, path: Path, key: bytes) -> int:
    """Save ``snapshot`` to ``path`` (atomically: a temporary file renamed over it). Returns the
    file's size in bytes. Raises OSError when the directory cannot be written."""
    payload = pickle.dumps(snapshot, protocol=5)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC)
            out.write(_signature(key, payload))
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(MAGIC) + 32 + len(payload)


def read(path: Path, key: bytes, model_id: str) -> Snapshot | None:
    """The snapshot saved at ``path`` for ``model_id``, or None: no file, not signed by ``key``,
    another format or model (each logged, except a missing file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.warning("Match index snapshot %s not read: %s", path, error)
        return None
    head = len(MAGIC) + 32
    payload = memoryview(data)[head:]  # not a copy: the file is about 10 kB per item
    if not data.startswith(MAGIC) or not hmac.compare_digest(data[len(MAGIC):head], _signature(key, payload)):
        log.warning("Match index snapshot %s ignored: not signed by this app's SECRET_KEY", path)
        return None
    try:
        snapshot = pickle.loads(payload)  # signed by this app: see the module's docstring
    except Exception as error:  # written by another version of the code
        log.warning("Match index snapshot %s ignored: %s", path, error)
        return None
    if not isinstance(snapshot, Snapshot) or snapshot.format != FORMAT or snapshot.model_id != model_id:
        log.info("Match index snapshot %s ignored: another format or model", path)
        return None
    return snapshot


def remove(path: Path | None) -> None:
    """Delete the snapshot (its index was reset: the next process builds from the rows)."""
    if path is not None:
        path.unlink(missing_ok=True)
