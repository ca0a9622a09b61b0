"""The worker is killed in the middle of an import; nothing is half-imported, and after a restart
the import completes with every row exactly once."""
import os
import signal

import sqlalchemy as sa

from extensions import db
from models import Idea, ImportJob
from services import jobs
from tests.app.test_imports import HEADERS, _csv, _job_id, _row, _upload
from tests.faults.conftest import flask_cmd, wait_for

ROWS = 3000


def state(app, job_id):
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        return job.status, db.session.scalar(sa.select(sa.func.count(Idea.id)))


def test_import_survives_a_killed_worker(app, client, login_as, make_user, spawn, redis_url):
    login_as("staff")
    author = make_user("innovator")[1]
    job_id = _job_id(_upload(client, _csv([_row(n, author) for n in range(ROWS)], HEADERS)))

    app.config.update(REDIS_URL=redis_url, JOBS_SYNC=False)
    client.post(f"/reports/import/{job_id}/confirm")
    env = {"REDIS_URL": redis_url}
    worker = spawn(*flask_cmd("worker"), env=env, log_name="worker")
    wait_for(lambda: state(app, job_id)[0] == "running", timeout=120, interval=0.05, what="the import to start")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert state(app, job_id) == ("running", 0)  # cut off before its single commit: nothing written

    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry
    StartedJobRegistry(queue=Queue(jobs.BULK, connection=Redis.from_url(redis_url))).cleanup(timestamp=10**12)
    spawn(*flask_cmd("worker"), env=env, log_name="worker-again")
    wait_for(lambda: state(app, job_id)[0] == "done", timeout=300, what="the retried import to finish")
    assert state(app, job_id) == ("done", ROWS)  # every row, once
