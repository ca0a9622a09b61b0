
import pytest
import sqlalchemy as sa

from app import create_app
from extensions import db
from models import Idea, Place, ResearchOrder, Sector, TechnologyNeed, User


def counts(app):
    with app.app_context():
        return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
                for m in (User, Idea, TechnologyNeed, ResearchOrder, Place, Sector)}


def test_seed_loads_a_living_site_and_twice_changes_nothing(runner, app, client):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    first = counts(app)
    assert first["Idea"] >= 60 and first["TechnologyNeed"] >= 25 and first["ResearchOrder"] >= 10
    assert first["Place"] == 99 and first["Sector"] == 10
    with app.app_context():
        roles = set(db.session.scalars(sa.select(User.role)))
        kinds = set(db.session.scalars(sa.select(Idea.kind)))
        langs = set(db.session.scalars(sa.select(Idea.language)))
    assert roles == {"admin", "staff", "innovator", "business"}
    assert kinds == {"startup_idea", "stem_project", "hackathon_project", "research_proposal"}
    assert {"vi", "en", "zh"} <= langs

    assert runner.invoke(args=["seed"]).exit_code == 0
    assert counts(app) == first

    home = client.get("/").get_data(as_text=True)
    assert home.count('class="card h-100"') >= 12


def test_demo_logins_work(runner, client):
    runner.invoke(args=["seed"])
    output = runner.invoke(args=["demo-logins"]).output
    rows = [line.split() for line in output.splitlines() if "@" in line]
    assert {row[0] for row in rows} == {"admin", "staff", "innovator", "business"}
    for _role, email, password in rows:
        assert client.post("/auth/login", data={"email": email, "password": password}).status_code == 302
        client.post("/auth/logout")


def test_admin_edits_survive_reseeding(runner, app):
    runner.invoke(args=["seed", "--no-demo"])
    with app.app_context():
        place = db.session.scalars(sa.select(Place)).first()
        place.name = "Tên đã sửa"
        db.session.commit()
        code = place.code
    runner.invoke(args=["seed", "--no-demo"])
    with app.app_context():
        assert db.session.scalar(sa.select(Place.name).where(Place.code == code)) == "Tên đã sửa"


def test_healthz_tells_the_public_only_that_the_service_is_up(client, make_user, submit):
    owner, _ = make_user()
    submit("ideas", owner, publish=False)  # a draft: nobody outside should learn it exists
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_healthz_reports_database_and_counts_to_staff(client, make_user, login_as):
    make_user()
    login_as("staff")
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["counts"] == {"ideas": 0, "needs": 0, "orders": 0, "users": 2}
    assert body["version"]


def test_healthz_says_when_the_database_is_down(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error"}


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_database_url_uses_psycopg3():
    from config import database_url
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url(None).startswith("sqlite:///")


def test_demo_rows_without_a_language_get_the_detected_one(app, tmp_path):
    import json
    import shutil

    from services import seeding
    shutil.copy(seeding.SEED_DIR / "demo.json", tmp_path / "demo.json")
    demo = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    english = next(r for r in demo["ideas"] if r["language"] == "en" and "Bắc Hà" in r["title"])
    english["language"] = "auto"
    demo["ideas"] = [english]
    demo["needs"], demo["orders"] = [], []
    (tmp_path / "demo.json").write_text(json.dumps(demo, ensure_ascii=False), encoding="utf-8")
    with app.app_context():
        seeding.load_demo(tmp_path)
        assert db.session.scalar(sa.select(Idea.language)) == "en"
