"""PostgreSQL restarted under the app: requests fail cleanly (503) meanwhile and succeed after."""
import subprocess
from pathlib import Path

import pytest

from tests.faults.conftest import wait_for


def pg_cluster():
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    return versions[-1] if versions else None


def pg_ctl(action: str):
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_cluster(), "main", action, *(
        ["-m", "fast"] if action == "stop" else [])], check=True, capture_output=True, timeout=60)


def test_requests_fail_cleanly_while_postgres_restarts(client, database_url, make_user, submit):
    if not database_url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL)")
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Ý tưởng trước khi khởi động lại")
    assert client.get("/ideas/").status_code == 200

    pg_ctl("stop")
    try:
        client.get("/lang/en")
        for path in ("/ideas/", "/needs/", "/"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers.get("Retry-After")
            assert "temporarily unavailable" in response.get_data(as_text=True)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json() == {"status": "error"}
    finally:
        pg_ctl("start")

    wait_for(lambda: client.get("/healthz").status_code == 200, timeout=60, what="PostgreSQL to be back")
    assert "Ý tưởng trước khi khởi động lại" in client.get("/ideas/").get_data(as_text=True)
