"""The worker is killed in the middle of a reindex; after a restart the work completes,
with nothing lost and nothing doubled. And e-mail is not held up behind bulk embedding."""
import os
import signal

import sqlalchemy as sa

from extensions import db
from models import EmbeddingVector
from services import jobs
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
    with app.app_context():  # what a reindex stores (a page or a save may store more: their texts stay
        from services.match_index import reindex  # out of this count, which the reindex must reach)
        reindex(missing_only=False)
    full = vector_count(app)
    assert full > IDEAS

    app.config["REDIS_URL"] = redis_url
    app.config["JOBS_SYNC"] = False
    with app.app_context():
        job_id = jobs.enqueue("reindex", False)  # drop this model's vectors and embed everything again

    env = {"REDIS_URL": redis_url}
    worker = spawn(*flask_cmd("worker"), env=env, log_name="worker")
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import StartedJobRegistry
    queue = Queue(jobs.BULK, connection=Redis.from_url(redis_url))
    # Kill it mid-way, inside a chunk of the second chain (explanation texts; the first, the ideas' texts, is
    # done): after the vectors were dropped and some, not all, were embedded again.
    # (texts are embedded by length, so a call may store most of the titles and sentences at once)
    wait_for(lambda: IDEAS + 10 < vector_count(app) < full and StartedJobRegistry(queue=queue).count,
             timeout=120, interval=0.02, what="the reindex to be under way")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    partial = vector_count(app)
    assert partial < full

    # The abandoned chunk is retried once its heartbeat lapses; we do not wait the 90 s here.
    abandoned = StartedJobRegistry(queue=queue).get_job_ids()
    StartedJobRegistry(queue=queue).cleanup(timestamp=10**12)
    assert Job.fetch(job_id, connection=queue.connection).get_status() == "finished"  # it only queued chunks
    # the chunk cut off mid-way is re-queued for a retry, not lost
    assert abandoned and all(Job.fetch(j, connection=queue.connection).get_status() == "scheduled" for j in abandoned)
    # maintenance every 10 s (default 60): the killed scheduler's lock lapses after 61 s, then the next
    # maintenance starts this worker's scheduler, which queues the retry
    restarted = spawn(*flask_cmd("worker"), env={**env, "JOBS_MAINTENANCE_INTERVAL": "10"}, log_name="worker-again")
    try:
        wait_for(lambda: vector_count(app) == full and not queue.count and not StartedJobRegistry(queue=queue).count,
                 timeout=300, what="the retried chunk and the rest of the reindex to finish")
    except AssertionError as timed_out:
        from rq.registry import ScheduledJobRegistry
        raise AssertionError(
            f"{timed_out}: vectors {vector_count(app)} of {full}, queued {queue.count}, started "
            f"{StartedJobRegistry(queue=queue).count}, scheduled {ScheduledJobRegistry(queue=queue).count}\n"
            + open(restarted.log_path).read()[-3000:]) from None
    assert restarted.poll() is None, open(restarted.log_path).read()[-3000:]
    assert vector_count(app) == full  # every text embedded again, each exactly once


def test_an_email_is_sent_between_chunks_of_bulk_embedding(app, make_user, submit, spawn, redis_url, tmp_path):
    owner, _ = make_user("innovator")
    for i in range(IDEAS * 4):
        submit("ideas", owner, title=f"Ý tưởng số {i}: máy sấy quế dùng năng lượng mặt trời",
               summary=f"Tóm tắt {i} về sấy quế.", description=f"Mô tả {i}: buồng sấy và cảm biến độ ẩm.")
    full = vector_count(app)
    app.config.update(REDIS_URL=redis_url, JOBS_SYNC=False)
    with app.app_context():
        jobs.enqueue("reindex", False)
    outbox = tmp_path / "outbox"
    env = {"REDIS_URL": redis_url, "OUTBOX_DIR": str(outbox)}
    spawn(*flask_cmd("worker"), env=env, log_name="worker")
    wait_for(lambda: 0 < vector_count(app) < full * 0.5, timeout=120, interval=0.05,
             what="the bulk embedding to be under way")
    with app.app_context():
        jobs.enqueue("send_mail", "someone@example.vn", "Giới thiệu", "Nội dung")
    wait_for(lambda: outbox.is_dir() and any(outbox.iterdir()), timeout=60, interval=0.05, what="the e-mail")
    assert vector_count(app) < full  # sent while the bulk embedding still had chunks to do
    wait_for(lambda: vector_count(app) == full, timeout=300, what="the bulk embedding to finish")


def test_an_idle_worker_runs_its_maintenance_every_interval(app, redis_url):
    """RQ runs maintenance (starting the scheduler that retries a killed worker's jobs, and our
    recovery of work Redis lost) only between waits for a job; an idle worker's wait is capped by
    the maintenance interval, not RQ's 405 s."""
    from redis import Redis
    app.config["REDIS_URL"] = redis_url
    with app.app_context():
        queues = [jobs.queue(app, name) for name in jobs.QUEUES]
        for interval in (60, 7):
            worker = jobs._worker_class(app)(queues, connection=Redis.from_url(redis_url),
                                             maintenance_interval=interval)
            assert worker.dequeue_timeout == interval
        assert worker.worker_ttl - 15 > 60  # what RQ would wait otherwise
