"""The worker is killed in the middle of a reindex; after a restart the work completes,
with nothing lost and nothing doubled."""
import os
import signal

import sqlalchemy as sa

from extensions import db
from models import EmbeddingVector
from tests.faults.conftest import flask_cmd, wait_for

IDEAS = 25


def vector_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(EmbeddingVector.id)))


def test_reindex_survives_a_killed_worker(app, make_user, submit, spawn, redis_url):
    owner, _ = make_user("innovator")
    for i in range(IDEAS):
        submit("ideas", owner, title=f"Ý tưởng số {i}: cảm biến độ ẩm đất cho vườn chè",
               summary=f"Tóm tắt {i} về cảm biến và tưới tiết kiệm.",
               description=f"Mô tả {i}: hệ thống đo độ ẩm đất, gửi cảnh báo cho hộ trồng chè Shan tuyết.")
    full = vector_count(app)
    assert full > IDEAS

    app.config["REDIS_URL"] = redis_url
    app.config["JOBS_SYNC"] = False
    with app.app_context():
        from services import jobs
        job_id = jobs.enqueue("reindex", False)  # drop this model's vectors and embed everything again

    env = {"REDIS_URL": redis_url}
    worker = spawn(*flask_cmd("worker"), env=env, log_name="worker")
    # Kill it mid-way: after the vectors were dropped and some, not all, were embedded again.
    wait_for(lambda: 0 < vector_count(app) < full * 0.8 and vector_count(app) > 10, timeout=120,
             interval=0.05, what="the reindex to be under way")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    partial = vector_count(app)
    assert partial < full

    # The abandoned job is retried once its heartbeat lapses; we do not wait the 90 s here.
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry
    queue = Queue("laocai-match", connection=Redis.from_url(redis_url))
    StartedJobRegistry(queue=queue).cleanup(timestamp=10**12)
    from rq.job import Job
    job = Job.fetch(job_id, connection=queue.connection)
    assert job.get_status() == "scheduled"  # re-queued for a retry, not lost
    restarted = spawn(*flask_cmd("worker"), env=env, log_name="worker-again")
    wait_for(lambda: job.get_status(refresh=True) == "finished", timeout=300,
             what="the retried reindex to finish")
    assert restarted.poll() is None, open(restarted.log_path).read()[-3000:]
    assert vector_count(app) == full  # every text embedded again, each exactly once
