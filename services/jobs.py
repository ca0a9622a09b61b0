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


def serve(app: Flask, burst: bool = False) -> None:
    """Serve the queue in this process until stopped (or, with `burst`, until it is empty): the
    `worker` command's app runs every job, so the worker needs no app of its own."""
    from rq import Worker
    q = queue(app)
    # RQ forks a work horse per job; it inherits this context, so each job runs in its own copy.
    with app.app_context():
        Worker([q], connection=q.connection).work(burst=burst, with_scheduler=True)


def run(name: str, *args):
    """The entry point RQ calls for every job, in the app context that serve() pushed."""
    try:
        return _function(name)(*args)
    finally:
        from extensions import db
        db.session.remove()
