"""Work done outside the request: embedding, reindexing, imports, e-mail.

With REDIS_URL set, jobs go to one of two RQ queues that `flask --app app worker` serves
(retried if a worker dies mid-job, so every task must be idempotent): :data:`INTERACTIVE` for
work a person waits for (e-mail, a saved submission's explanation texts: seconds each) and
:data:`BULK` for imports and embedding many submissions (minutes, cut into jobs of
``EMBED_CHUNK`` submissions). A worker always takes the next interactive job before the next bulk
one, so an e-mail waits at most for one chunk, never for a whole import. Without Redis, the
embedded default runs them in a thread of the app process; with JOBS_SYNC (tests), right away.

When Redis is set but does not answer, a job runs in a thread of the app process too (logged),
so a request never fails because the queue is down. What must not be lost with the queue (an
import, whose ImportJob row says "queued") is kept in the database, and the worker's maintenance
(at start and every JOBS_MAINTENANCE_INTERVAL seconds) queues again what has no live job: see
:func:`recover` and ``imports.recover()``.
"""
from __future__ import annotations

import importlib
import logging
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app

log = logging.getLogger(__name__)

INTERACTIVE = "laocai-match"
# How long a client waits to connect to Redis before the job runs in this process instead.
CONNECT_TIMEOUT = 2
BULK = "laocai-bulk"
QUEUES = (INTERACTIVE, BULK)  # the order a worker looks in
# name -> ("module:function", queue); a task takes plain arguments (ids, strings), never objects.
TASKS = {
    "send_mail": ("services.mail:deliver", INTERACTIVE),
    "warm_explanations": ("services.match_index:warm_explanations", INTERACTIVE),
    "embed": ("services.match_index:embed_job", BULK),
    "reindex": ("services.match_index:reindex_job", BULK),
    "snapshot_index": ("services.match_index:snapshot_job", BULK),
    "apply_import": ("services.imports:apply_import", BULK),
    "match_alerts": ("services.alerts:match_alerts", BULK),
    "send_digests": ("services.alerts:send_digests", BULK),
}


def _function(name: str):
    module, attr = TASKS[name][0].split(":")
    return getattr(importlib.import_module(module), attr)


def queue(app: Flask | None = None, name: str = INTERACTIVE):
    """The RQ queue ``name`` (:data:`INTERACTIVE` or :data:`BULK`) on the app's Redis."""
    from redis import Redis
    from rq import Queue
    app = app or current_app
    return Queue(name, connection=Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=CONNECT_TIMEOUT))


def enqueue(name: str, *args, timeout: int = 3600, job_id: str | None = None) -> str | None:
    """Run task `name` with `args` soon; returns the RQ job id when queued in Redis. `job_id`
    names the RQ job (so that recover() can tell whether it is still there). With Redis down, the
    task runs in a thread of this process instead (logged) and None is returned."""
    app = current_app._get_current_object()
    if name not in TASKS:
        raise KeyError(name)
    if app.config.get("JOBS_SYNC"):
        _function(name)(*args)
        return None
    if app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError
        from rq import Retry
        try:
            job = queue(app, TASKS[name][1]).enqueue(run, name, *args, job_timeout=timeout, job_id=job_id,
                                                     retry=Retry(max=3, interval=[5, 30, 120]))
        except RedisError as error:
            log.warning("Job queue unavailable (%s): running %s in this process", error, name)
        else:
            return job.id
    threading.Thread(target=_run_in_app, args=(app, name, args), name=f"job-{name}", daemon=True).start()
    return None


def enqueue_in(seconds: float, name: str, *args, timeout: int = 3600) -> None:
    """Run task `name` with `args` in `seconds` (a retry with backoff): scheduled in Redis (the
    worker runs RQ's scheduler), else on a timer thread of the app; with JOBS_SYNC (tests), not at
    all: a test runs the task itself when it wants the retry."""
    app = current_app._get_current_object()
    if name not in TASKS:
        raise KeyError(name)
    if app.config.get("JOBS_SYNC"):
        return
    if app.config.get("REDIS_URL"):
        queue(app, TASKS[name][1]).enqueue_in(timedelta(seconds=seconds), run, name, *args, job_timeout=timeout)
        return
    timer = threading.Timer(seconds, _run_in_app, args=(app, name, args))
    timer.name, timer.daemon = f"job-{name}-later", True
    timer.start()


def schedule(when: datetime, name: str, *args, job_id: str, keep: timedelta, timeout: int = 3600) -> bool:
    """Run task `name` with `args` at `when` (naive UTC), once: RQ's ``unique`` job `job_id`
    (letters, digits, ``-``, ``_``) is checked for and made in one step in Redis, so while a job of
    that name is there (scheduled, queued, running, or done within `keep`), no second one is made,
    however many processes ask at once. RQ's scheduler, which the worker runs, queues it when it
    is due (late, if no worker runs then). Returns whether this call made it. Needs Redis (there
    is no scheduler without it); raises redis' RedisError when it does not answer."""
    from rq import Retry
    from rq.exceptions import DuplicateJobError
    app = current_app._get_current_object()
    if name not in TASKS:
        raise KeyError(name)
    try:
        queue(app, TASKS[name][1]).enqueue_at(
            when.replace(tzinfo=UTC), run, name, *args, job_id=job_id, unique=True, job_timeout=timeout,
            result_ttl=int(keep.total_seconds()), retry=Retry(max=3, interval=[5, 30, 120]))
    except DuplicateJobError:
        return False
    return True


def _run_in_app(app: Flask, name: str, args: tuple) -> None:
    with app.app_context():
        try:
            _function(name)(*args)
        except Exception:
            log.exception("Background task %s%r failed", name, args)
        finally:
            from extensions import db
            db.session.remove()


def is_live(app: Flask, job_id: str) -> bool:
    """Whether the RQ job `job_id` is still waiting, scheduled or running."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    try:
        status = Job.fetch(job_id, connection=queue(app).connection).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def recover(app: Flask) -> list[str]:
    """Queue again the work the database says is pending but that has no live job (Redis lost it,
    or the process running it died): the worker's maintenance. Returns the RQ ids queued."""
    from extensions import db
    from services import imports, mail
    with app.app_context():
        try:
            return imports.recover() + mail.recover()
        finally:
            db.session.remove()
            # This runs in the worker's main process, which forks a work horse per job: no pooled
            # connection may be left for a horse to inherit (two processes on one PostgreSQL
            # connection break each other's statements).
            db.engine.dispose()


def schedule_daily(app: Flask) -> list[str]:
    """The daily work the worker schedules itself, in its maintenance: the digest
    (``alerts.schedule_digest``). Returns the RQ ids this call scheduled (none while they are)."""
    from services import alerts
    with app.app_context():
        scheduled = alerts.schedule_digest()
    return [scheduled] if scheduled else []


def _worker_class(app: Flask):
    from rq import Worker

    class RecoveringWorker(Worker):
        """RQ's worker, whose maintenance also recovers pending work from the database and
        schedules the daily digest."""

        @property
        def dequeue_timeout(self) -> int:
            # RQ runs maintenance between waits for a job, and an idle worker waits worker_ttl - 15
            # seconds (405 by default): without this, an idle worker would start its scheduler
            # (retries of a killed worker's jobs) and recover lost work only every ~7 minutes
            return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            warm_index(app)
            try:
                recovered = recover(app)
            except Exception:  # maintenance must not stop the worker; it runs again next time
                log.exception("Recovering pending work failed")
            else:
                if recovered:
                    log.warning("Queued again pending work that had no job: %s", ", ".join(recovered))
            try:
                scheduled = schedule_daily(app)
            except Exception:  # as above: tried again at the next maintenance
                log.exception("Scheduling the daily work failed")
            else:
                if scheduled:
                    log.info("Scheduled %s", ", ".join(scheduled))

    return RecoveringWorker


def warm_index(app: Flask) -> None:
    """Bring the worker's match index up to date in its main process (at start, then at each
    maintenance): RQ forks a work horse per job, and each horse inherits this index, copy-on-write,
    so a job that ranks (``match_alerts``) or embeds (``warm_explanations``) reads only the rows
    changed since, never every row (minutes at 100k items without a snapshot). The model is not
    loaded here: a horse loads it when a job embeds a text. A failure is logged: the jobs then
    build the index themselves, as they would without this."""
    from extensions import db
    from services.match_index import match_index
    with app.app_context():
        try:
            match_index(app).refresh()
        except Exception:
            log.exception("Could not bring the worker's match index up to date")
        finally:
            db.session.remove()
            db.engine.dispose()  # no pooled connection for a horse to inherit (see recover())


def serve(app: Flask, burst: bool = False) -> None:
    """Serve both queues in this process until stopped (or, with `burst`, until they are empty),
    the interactive one first (RQ takes the next job from the first queue that has one): the
    `worker` command's app runs every job, so the worker needs no app of its own."""
    queues = [queue(app, name) for name in QUEUES]
    # RQ forks a work horse per job; it inherits this context, so each job runs in its own copy.
    with app.app_context():
        # maintenance at start and every minute by default: a job a killed worker had taken but not
        # started is retried within about two minutes (RQ's default checks every ten), and pending
        # work that Redis lost is queued again
        worker = _worker_class(app)(queues, connection=queues[0].connection,
                                    maintenance_interval=app.config["JOBS_MAINTENANCE_INTERVAL"])
        worker.work(burst=burst, with_scheduler=True)


def run(name: str, *args):
    """The entry point RQ calls for every job, in the app context that serve() pushed."""
    try:
        return _function(name)(*args)
    finally:
        from extensions import db
        db.session.remove()
