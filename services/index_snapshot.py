"""The match index saved to a file, so that a process starts ranking in seconds.

Without it every process (each gunicorn worker, the job worker) builds its engine from the rows:
110k submissions read, their vectors fetched, language means and the TF-IDF term fitted (83 s
per worker at 10k needs and 100k ideas, docs/operations.md). With it a process reads the
engine as it was saved, fitted, and then only the rows that changed since (see
:meth:`services.match_index.MatchIndex.refresh`).

A snapshot is one file per database and model (``<MATCH_INDEX_SNAPSHOT_DIR>/<database>-<model>.pickle``),
written whole to a temporary file and renamed over the old one, so a reader sees the old or the
new file, never half of one. It is a pickle whose arrays (vectors, the TF-IDF matrix: most of the
1.2 GB at 110k items) sit beside it, mapped from the file rather than read (see :func:`write`).
The pickle is signed under the app's ``SECRET_KEY`` with keyed BLAKE2b (a MAC, RFC 7693): a file
that was not written by this app with this key (changed, truncated, from another installation)
is never unpickled, it is ignored and the engine is built from the rows.
Anything unreadable (another format, another model) is likewise ignored: a snapshot only ever
saves time.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import mmap
import os
import pickle
import struct
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from matching.ranking import Item, MatchEngine

log = logging.getLogger(__name__)

MAGIC = b"laocai-match-index\n"
FORMAT = 5  # bumped whenever what is pickled changes shape (3: the engine's tables carry an approximate index;
#            4: the engine counts its changes, MatchEngine.version; confidential needs are kept;
#            5: the TF-IDF term as its vocabulary and IDF, not scikit-learn's object)


@dataclass
class Snapshot:
    """What a process needs to rank without reading every row again.

    ``engine``: fitted (derived state up to date); ``versions``: engine id -> ``updated_at`` of
    the row each item (ranked or pending) was read from, so that a reader refreshes exactly the
    rows changed since; ``pending``: published items without a stored vector then;
    ``members_only``: engine ids of ideas shown to signed-in people only; ``confidential``: engine
    id -> owner's user id of the published confidential needs."""

    model_id: str
    engine: MatchEngine
    versions: dict[str, datetime]
    pending: dict[str, Item] = field(default_factory=dict)
    members_only: frozenset[str] = frozenset()
    confidential: dict[str, int | None] = field(default_factory=dict)
    format: int = FORMAT


def path_for(directory: str | None, database_url: str, model_id: str) -> Path | None:
    """The snapshot file of this database and model in ``directory``; None when snapshots are off
    (no directory). The database is named by a hash of its URL (the URL may hold a password)."""
    if not directory:
        return None
    database = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    model = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    return Path(directory) / f"{database}-{model}.pickle"


ALIGN = 64  # arrays start at multiples of this many bytes in the file
STALE_SECONDS = 600  # a temporary file this old was left by a killed writer (a write takes seconds)


def _signature(key: bytes, signed: bytes | memoryview) -> bytes:
    return hashlib.blake2b(signed, key=hashlib.sha256(key).digest(), digest_size=32).digest()


def write(snapshot: Snapshot, path: Path, key: bytes) -> int:
    """Save ``snapshot`` to ``path`` (atomically: a temporary file renamed over it). Returns the
    file's size in bytes. Raises OSError when the directory cannot be written.

    Layout: :data:`MAGIC`, the signature, then what it signs (the number and sizes of the arrays'
    buffers, and the pickle, protocol 5, whose arrays are kept out of band), then each array's
    bytes at an offset aligned to :data:`ALIGN`. The arrays' bytes are not signed: they are numbers
    that unpickling wraps without running anything, and their number and sizes are signed."""
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(snapshot, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    signed = struct.pack(f"<QQ{len(views)}Q", len(stream), len(views), *(v.nbytes for v in views)) + stream
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"{path.name}*.tmp"):  # left by a process killed while writing
        if time.time() - stale.stat().st_mtime > STALE_SECONDS:
            stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC)
            out.write(_signature(key, signed))
            out.write(signed)
            for view in views:
                out.write(b"\0" * (-out.tell() % ALIGN))
                out.write(view)
            size = out.tell()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def read(path: Path, key: bytes, model_id: str) -> Snapshot | None:
    """The snapshot saved at ``path`` for ``model_id``, or None: no file, not signed by ``key``,
    another format or model (each logged, except a missing file). The arrays are not copied: they
    are mapped from the file copy-on-write (pages are read when first used, and shared with other
    processes that map the same file until one writes to them)."""
    try:
        with open(path, "rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:  # ValueError: an empty file cannot be mapped
        log.warning("Match index snapshot %s not read: %s", path, error)
        return None
    view = memoryview(mapped)
    try:
        start = len(MAGIC) + 32
        stream_size, count = struct.unpack_from("<QQ", view, start)
        sizes = struct.unpack_from(f"<{count}Q", view, start + 16)
        head = 16 + 8 * count
        signed = view[start:start + head + stream_size]
        if (bytes(view[:len(MAGIC)]) != MAGIC or len(signed) != head + stream_size
                or not hmac.compare_digest(bytes(view[len(MAGIC):start]), _signature(key, signed))):
            raise ValueError("not signed by this app's SECRET_KEY")
        buffers, offset = [], start + head + stream_size
        for size in sizes:
            offset += -offset % ALIGN
            if offset + size > len(view):
                raise ValueError("truncated")
            buffers.append(view[offset:offset + size])
            offset += size
    except (struct.error, ValueError, OverflowError, MemoryError) as error:
        log.warning("Match index snapshot %s ignored: %s", path, error)
        return None
    try:
        snapshot = pickle.loads(signed[head:], buffers=buffers)  # signed by this app: see the module's docstring
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
