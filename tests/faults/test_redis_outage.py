"""Redis stops under the app and comes back without its data: sign-in, the API with a token and
pages keep working meanwhile (the throttle counts in the process, jobs run in the process, both
logged), an import confirmed meanwhile is applied, and an import whose queued job Redis lost is
applied once the worker is back, each exactly once.

The Redis here is the test's own (tests/faults/conftest.py OwnRedis), never the shared one.
"""
import requests
import sqlalchemy as sa

from extensions import db
from models import AuditEntry, Idea, ImportJob, User
from services import imports, tokens
from tests.app.test_imports import HEADERS, _csv, _job_id, _row, _upload
from tests.faults.conftest import csrf_of, flask_cmd, gunicorn, signed_in, wait_for

ROWS = 40


def counts(app) -> dict:
    with app.app_context():
        return {"ideas": db.session.scalar(sa.select(sa.func.count(Idea.id))),
                "apply entries": db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "import.apply"))}


def status(app, job_id: int) -> str:
    with app.app_context():
        return db.session.get(ImportJob, job_id).status


def confirm(session: requests.Session, base: str, job_id: int) -> requests.Response:
    page = f"{base}/reports/import/{job_id}"
    return session.post(f"{page}/confirm", data={"csrf_token": csrf_of(session, page)}, allow_redirects=False,
                        timeout=60)


def test_the_app_keeps_working_while_redis_is_down_and_recovers_queued_work(app, client, make_user, auth, spawn,
                                                                              own_redis, tmp_path):
    staff_id, staff_email = make_user("staff")
    auth.login(staff_email)  # uploads the files (the preview is not what is tested here)
    author = make_user("innovator")[1]
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, staff_id), "outage")
    bearer = {"Authorization": f"Bearer {secret}"}
    env = {"REDIS_URL": own_redis.url, "OUTBOX_DIR": str(tmp_path / "outbox")}
    base, web = gunicorn(spawn, env, workers=1, threads=4)
    assert requests.get(f"{base}/api/v1/me", headers=bearer, timeout=30).status_code == 200

    # --- Redis down -------------------------------------------------------------------
    own_redis.stop()
    before = counts(app)
    session = signed_in(base, staff_email)  # sign-in answers (302), throttled in the process
    wrong = requests.post(f"{base}/auth/login", data={"email": staff_email, "password": "wrong password"}, timeout=30)
    assert wrong.status_code in (400, 401)  # a refusal, not a 500 (400: this client sent no CSRF token)
    for path in ("/mine", "/ideas/", "/review/", "/reports/import"):
        assert session.get(f"{base}{path}", timeout=30).status_code == 200, path
    assert requests.get(f"{base}/api/v1/me", headers=bearer, timeout=30).status_code == 200
    assert requests.get(f"{base}/api/v1/proposals", headers=bearer, timeout=30).status_code == 200
    assert requests.get(f"{base}/api/v1/me", headers={"Authorization": "Bearer lcm_wrong"},
                        timeout=30).status_code == 401

    during = _job_id(_upload(client, _csv([_row(n, author) for n in range(ROWS)], HEADERS)))
    assert confirm(session, base, during).status_code == 302  # not a 500 after "queued"
    wait_for(lambda: status(app, during) in ("done", "failed"), timeout=120, what="the import run in the process")
    assert status(app, during) == "done"
    after_outage = counts(app)
    print(f"\n[Redis down, import confirmed] rows before: {before}; after: {after_outage}")
    assert after_outage == {"ideas": before["ideas"] + ROWS, "apply entries": before["apply entries"] + 1}
    log = open(web.log_path).read()
    assert "falling back to in-memory storage" in log and "Job queue unavailable" in log  # both said so

    # --- Redis back, then lost what it held ------------------------------------------------
    own_redis.start()
    lost = _job_id(_upload(client, _csv([_row(1000 + n, author) for n in range(ROWS)], HEADERS)))
    assert confirm(session, base, lost).status_code == 302
    from redis import Redis
    from rq.job import Job
    assert Job.exists(imports.rq_job_id(lost), connection=Redis.from_url(own_redis.url))  # queued; no worker yet
    own_redis.stop()
    own_redis.start()  # restarted without its data: the job is gone, the database still says "queued"
    assert not Job.exists(imports.rq_job_id(lost), connection=Redis.from_url(own_redis.url))
    assert status(app, lost) == "queued"
    before_worker = counts(app)

    spawn(*flask_cmd("worker"), env=env, log_name="worker")  # its maintenance queues the lost import again
    wait_for(lambda: status(app, lost) in ("done", "failed"), timeout=180, what="the lost import to be recovered")
    assert status(app, lost) == "done"
    after = counts(app)
    print(f"[Redis restarted empty, import recovered] rows before: {before_worker}; after: {after}")
    assert after == {"ideas": before_worker["ideas"] + ROWS, "apply entries": before_worker["apply entries"] + 1}

    # Redis is back: the app uses it again.
    assert signed_in(base, staff_email).get(f"{base}/mine", timeout=30).status_code == 200
    assert requests.get(f"{base}/api/v1/me", headers=bearer, timeout=30).status_code == 200
