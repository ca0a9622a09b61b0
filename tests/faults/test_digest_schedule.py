"""The daily digest runs without cron: real workers schedule it themselves, one job a day however
many ask, and a worker runs it when it is due; a second run that day sends nobody a second."""
from datetime import UTC, datetime, timedelta

from extensions import db
from models import User
from models.people import utcnow
from services import alerts, jobs
from tests.app.test_notifications import mails_to
from tests.faults.conftest import flask_cmd


def _scheduled(redis_url) -> dict[str, datetime]:
    """The bulk queue's scheduled jobs: id -> when due (naive UTC)."""
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry
    registry = ScheduledJobRegistry(queue=Queue(jobs.BULK, connection=Redis.from_url(redis_url)))
    return {job_id: registry.get_scheduled_time(job_id).astimezone(UTC).replace(tzinfo=None)
            for job_id in registry.get_job_ids()}


def test_workers_schedule_the_digest_once_a_day_and_run_it_when_due(app, make_user, submit, spawn, redis_url):
    follower, email = make_user("innovator")
    with app.app_context():
        alerts.follow(db.session.get(User, follower), "sector", "energy")
    business, _ = make_user("business")
    submit("needs", business, title="Lò đốt trấu", sector_codes=["energy"])
    app.config.update(REDIS_URL=redis_url, JOBS_SYNC=False)
    env = {"REDIS_URL": redis_url, "OUTBOX_DIR": app.config["OUTBOX_DIR"], "PUBLIC_URL": "https://ketnoi.example.vn"}

    # a day's job left in Redis while no worker ran at 07:00 (due an hour ago or more)
    with app.app_context():
        missed_id = alerts.schedule_digest(utcnow() - timedelta(days=1, hours=1))
        assert alerts.schedule_digest(utcnow() - timedelta(days=1, hours=1)) is None  # asked again: no second
    assert list(_scheduled(redis_url)) == [missed_id]

    # two workers at once: RQ's scheduler queues the due job, one runs it (and the e-mail it queues);
    # both workers' maintenance ask for the next day's job
    before = utcnow()
    workers = [spawn(*flask_cmd("worker", "--burst"), env=env, log_name=f"worker-{i}") for i in range(2)]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, open(worker.log_path).read()
    after = utcnow()
    assert len(mails_to(app, email)) == 1
    scheduled = _scheduled(redis_url)
    with app.app_context():
        expected = {alerts.next_digest(before), alerts.next_digest(after)}  # the same, unless 07:00 fell between
    assert len(scheduled) == 1 and scheduled.items() <= expected
    with app.app_context():
        assert jobs.schedule_daily(app) == []   # a third worker's maintenance: the day has its job

    # the same day's run again (a job scheduled by hand, or the command): nobody gets a second
    with app.app_context():
        assert alerts.send_digests() == 0
    assert len(mails_to(app, email)) == 1
