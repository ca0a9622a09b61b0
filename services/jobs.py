"""Work done outside the request: embedding, reindexing, imports, e-mail.

With REDIS_URL set, jobs go to an RQ queue that `flask --app app worker` serves (retried if a
worker dies mid-job, so every task must be idempotent). Without Redis, the embedded default
runs them in a thread of the app process; with JOBS_SYNC (tests), right away.
"""
from __future__ import annotations

import importlib
import logging
import threading

from flask import Flask, current_app

log = logging.getLogger(__name__)

QUEUE = "laocai-match"
# name -> "module:function"; a task takes plain arguments (ids, strings), never objects.
TASKS = {
    "warm_explanations": "services.match_index:warm_explanations",
    "reindex": "services.match_index:reindex_job",
    "apply_import": "services.imports:apply_import",
    "send_mail": "services.mail:send",
}
_worker_app: Flask | None = None


def register(name: str, target: str) -> None:
    """Add a task, e.g. register("apply_import", "services.imports:apply_import")."""
    TASKS[name] = target


def _function(name: str):
    module, attr = TASKS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def queue(app: Flask | None = None):
    from redis import Redis
    from rq import Queue
    app = app or current_app
    return Queue(QUEUE, connection=Redis.from_url(app.config["REDIS_URL"]))


def enqueue(name: str, *args, timeout: int = 3600) -> str | None:
    """Run task `name` with `args` soon; returns the RQ job id when queued in Redis."""
    app = current_app._get_current_object()
    if name not in TASKS:
        raise KeyError(name)
    if app.config.get("JOBS_SYNC"):
        _function(name)(*args)
        return None
    if app.config.get("REDIS_URL"):
        from rq import Retry
        job = queue(app).enqueue(run, name, *args, job_timeout=timeout, retry=Retry(max=3, interval=[5, 30, 120]))
        return job.id
    threading.Thread(target=_run_in_app, args=(app, name, args), name=f"job-{name}", daemon=True).start()
    return None


def _run_in_app(app: Flask, name: str, args: tuple) -> None:
    with app.app_context():
        try:
            _function(name)(*args)
        except Exception:
            log.exception("Background task %s%r failed", name, args)
        finally:
            from extensions import db
            db.session.remove()


def run(name: str, *args):
    """The entry point RQ calls in the worker: one app per worker process, a context per job."""
    global _worker_app
    if _worker_app is None:
        from app import create_app
        _worker_app = create_app()
    with _worker_app.app_context():
        try:
            return _function(name)(*args)
        finally:
            from extensions import db
            db.session.remove()
