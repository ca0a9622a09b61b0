"""Many parallel clients create submissions against gunicorn on PostgreSQL: afterwards each exists
exactly once and is embedded."""
import re
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from extensions import db
from tests.faults.conftest import wait_for

CLIENTS, EACH = 16, 5
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_session(base: str, email: str, ideas: list[str]) -> list[int]:
    s = requests.Session()
    token = CSRF.search(s.get(f"{base}/auth/login", timeout=30).text).group(1)
    assert s.post(f"{base}/auth/login", data={"csrf_token": token, "email": email, "password": "password123"},
                  timeout=30, allow_redirects=False).status_code == 302
    codes = []
    for title in ideas:
        token = CSRF.search(s.get(f"{base}/ideas/new", timeout=30).text).group(1)
        response = s.post(f"{base}/ideas/new", timeout=60, allow_redirects=False, data={
            "csrf_token": token, "kind": "hackathon_project", "title": title,
            "summary": "Ứng dụng theo dõi hàng hóa qua cửa khẩu Kim Thành.",
            "description": f"{title}: xe tải đặt lịch qua cửa khẩu, giảm ùn tắc và thời gian chờ.",
            "sectors": ["logistics_border"], "stage": "prototype", "language": "vi", "visibility": "public",
            "publish": "1"})
        codes.append(response.status_code)
    return codes


def test_parallel_clients_on_gunicorn(app, database_url, make_user, spawn, redis_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL)")
    emails = [make_user("innovator")[1] for _ in range(CLIENTS)]
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    env = {"REDIS_URL": redis_url, "RATELIMIT_ENABLED": "0", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
           "BIND": f"127.0.0.1:{port}"}
    server = spawn(gunicorn, "-c", "gunicorn.conf.py", "app:create_app()", env=env, log_name="gunicorn")
    spawn(str(Path(sys.executable).parent / "flask"), "--app", "app", "worker", env=env, log_name="worker")
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_for(up, timeout=120, what="gunicorn to answer")

    titles = {email: [f"Luồng {c} ý tưởng {i}" for i in range(EACH)] for c, email in enumerate(emails)}
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda e: client_session(base, e, titles[e]), emails))
    assert all(code == 302 for codes in results for code in codes), (results, open(server.log_path).read()[-3000:])

    with app.app_context():
        from matching.embedders import text_key
        from matching.ranking import item_text
        from models import EmbeddingVector, Idea
        from services.submission_types import to_item
        ideas = list(db.session.scalars(sa.select(Idea)))
        assert sorted(i.title for i in ideas) == sorted(t for ts in titles.values() for t in ts)  # each exactly once
        keys = {text_key(item_text(to_item(i))) for i in ideas}
        stored = set(db.session.scalars(sa.select(EmbeddingVector.text_key).where(EmbeddingVector.text_key.in_(keys))))
        assert stored == keys  # every idea is embedded
