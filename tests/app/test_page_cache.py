"""Public pages kept for visitors (web/page_cache.py): served again without rendering while the data
is unchanged, a change shown at once, and never one visitor's page to someone else."""
import json
import re

import pytest
import sqlalchemy as sa

from extensions import db
from models import Idea, Sector
from services import reference, submissions
from tests.conftest import statements
from web import page_cache


@pytest.fixture(autouse=True)
def nothing_kept():
    page_cache._kept.clear()
    yield
    page_cache._kept.clear()


def queried(app):
    """The SELECTs the database answers meanwhile."""
    return statements(app, lambda statement: statement.lstrip().upper().startswith("SELECT"))


PAGES = ["/", "/ideas/", "/api/v1/ideas"]


@pytest.mark.parametrize("path", PAGES)
def test_a_second_visit_renders_nothing_and_a_publish_shows_at_once(app, client, make_user, submit, path):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    first = client.get(path)
    with queried(app) as seen:
        again = client.get(path)
    assert again.data == first.data and again.status_code == 200
    assert len(seen) == 1  # the data's version, nothing else: the page was kept

    submit("ideas", owner, title="Cảm biến sương muối cho vườn mận")
    assert "Cảm biến sương muối cho vườn mận" in shown(client.get(path))


def shown(response) -> str:
    """A page's text, or an API answer's JSON with its letters as written."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def test_a_search_is_not_kept(app, client, make_user, submit):
    """A search's answer also follows the engine (ready or not, the spelling dictionary)."""
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    for path in ("/ideas/?q=quế", "/api/v1/ideas?q=quế"):
        client.get(path)
        with queried(app) as seen:
            assert "Máy sấy quế" in shown(client.get(path))
        assert len(seen) > 1


def test_an_edit_and_a_withdrawal_show_at_once(app, client, make_user, submit):
    owner, _ = make_user("innovator")
    idea = submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    assert "Máy sấy quế năng lượng mặt trời" in client.get("/ideas/").get_data(as_text=True)
    with app.app_context():
        item = db.session.get(Idea, idea)
        item.title = "Máy sấy hồi năng lượng mặt trời"
        db.session.commit()
    assert "Máy sấy hồi năng lượng mặt trời" in client.get("/ideas/").get_data(as_text=True)
    with app.app_context():
        submissions.withdraw(db.session.get(Idea, idea))
    assert "Máy sấy hồi" not in client.get("/ideas/").get_data(as_text=True)


def test_a_sector_renamed_by_an_admin_shows_at_once(app, client, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")  # in agriculture_highland
    with app.app_context():
        sector = db.session.scalar(sa.select(Sector).where(Sector.code == "agriculture_highland"))
        before = sector.name_vi
    assert before in client.get("/").get_data(as_text=True)
    with app.app_context():
        sector = db.session.scalar(sa.select(Sector).where(Sector.code == "agriculture_highland"))
        reference.save_sector(sector, "Nông lâm nghiệp vùng cao", sector.name_en)
    assert "Nông lâm nghiệp vùng cao" in client.get("/").get_data(as_text=True)


def test_a_signed_in_user_never_gets_a_visitors_page_nor_leaves_theirs(app, client, login_as, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    visitor_page = client.get("/").get_data(as_text=True)
    assert "Đăng xuất" not in visitor_page  # "Sign out"

    login_as("business")
    signed_in = client.get("/").get_data(as_text=True)
    assert "Business Test" in signed_in and "Đăng xuất" in signed_in
    assert re.search(r'name="csrf_token" value="[^"]+"', signed_in)

    other = app.test_client()  # another visitor, after the signed-in user's visit
    for path in PAGES[:2]:
        page = other.get(path).get_data(as_text=True)
        assert "Business Test" not in page and "csrf_token" not in page


def test_each_language_is_kept_apart(client, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời")
    vietnamese = client.get("/").get_data(as_text=True)
    assert "Đăng nhập" in vietnamese  # "Sign in"

    english = app_client_in(client, "en").get("/").get_data(as_text=True)
    assert "Sign in" in english and "Đăng nhập" not in english
    assert "Đăng nhập" in client.application.test_client().get("/").get_data(as_text=True)

    api_english = client.get("/api/v1/ideas?sort=nonsense", headers={"Accept-Language": "en"})
    api_vietnamese = client.get("/api/v1/ideas?sort=nonsense", headers={"Accept-Language": "vi"})
    assert api_english.status_code == api_vietnamese.status_code == 422
    assert api_english.data != api_vietnamese.data


def app_client_in(client, code):
    other = client.application.test_client()
    other.get(f"/lang/{code}")
    return other


def test_a_message_for_one_visitor_is_shown_to_them_only(app, client):
    client.get("/")  # kept
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Tin nhắn chỉ cho một người")]
    assert "Tin nhắn chỉ cho một người" in client.get("/").get_data(as_text=True)
    assert "Tin nhắn chỉ cho một người" not in client.get("/").get_data(as_text=True)
    assert "Tin nhắn chỉ cho một người" not in app.test_client().get("/").get_data(as_text=True)


def test_an_api_caller_with_a_token_is_answered_as_themselves(app, client, make_user, submit):
    from models import User
    from services import tokens
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Ý tưởng chỉ thành viên thấy", visibility="members")
    assert client.get("/api/v1/ideas").get_json()["total"] == 0  # kept for visitors
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, owner), "test")
    mine = client.get("/api/v1/ideas", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert mine["total"] == 1 and mine["items"][0]["mine"] is True


def test_visitors_at_once_cost_one_rendering_per_process(app, monkeypatch):
    """While one thread renders a page that is not kept, the others asking for it wait for it."""
    import threading
    import time

    from flask import Flask
    small = Flask(__name__)
    small.secret_key = "test"
    small.config["LANGUAGES"] = ["vi", "en"]
    from extensions import babel, login_manager
    arrived, rendered = [], []

    @small.before_request
    def count_arrivals():
        arrived.append(1)

    @small.route("/")
    @page_cache.for_visitors
    def page():
        rendered.append(1)
        while len(arrived) < 5:  # the others are on their way to the kept page
            time.sleep(0.01)
        time.sleep(0.2)
        return "trang"

    with app.app_context():
        version = page_cache.counts.version()
    babel.init_app(small)
    login_manager.init_app(small)
    answers = []

    def visit():
        with small.test_client() as visitor:
            answers.append(visitor.get("/").get_data(as_text=True))
    monkeypatch.setattr(page_cache.counts, "version", lambda: version)  # the small app has no database
    visitors = [threading.Thread(target=visit) for _ in range(5)]
    for v in visitors:
        v.start()
    for v in visitors:
        v.join(30)
    assert answers == ["trang"] * 5 and len(rendered) == 1


def test_a_matches_page_is_kept_and_follows_the_engine_not_only_the_rows(app, client, make_user, submit,
                                                                        monkeypatch):
    """An idea's, need's or order's page is kept for visitors too, under the matching engine's state
    as well as the data's version: an idea whose vector a job stores later (no row changes then)
    joins the need's matches at the next visit; a page whose reasons are still being prepared (it
    reloads itself) is not kept."""
    from services import jobs, match_index
    from services.submission_types import engine_id
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED
    business, _ = make_user("business")
    need = submit("needs", business, **DRYER_NEED)
    path = f"/needs/{need}"
    first = client.get(path)
    with queried(app) as seen:
        assert client.get(path).data == first.data
    assert len(seen) <= 3  # the data's version, the glossary's and the index's look for changed rows

    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: None)  # no job runs unless called here
    innovator, _ = make_user("innovator")
    idea = submit("ideas", innovator, **DRYER_IDEA)  # published; its vector is not stored yet
    assert DRYER_IDEA["title"] not in shown(client.get(path))
    with app.app_context():
        ref = engine_id(db.session.get(Idea, idea))
        match_index.embed_job([ref], False)  # an import's first job: its whole text only, no row changes
    page = shown(client.get(path))
    assert DRYER_IDEA["title"] in page and "reasons-pending" in page  # ranked, its reasons being prepared
    with queried(app) as seen:
        client.get(path)
    assert len(seen) > 3  # rendered again: a page still being prepared is not kept
    with app.app_context():
        match_index.warm_explanations(ref)
    page = shown(client.get(path))
    assert DRYER_IDEA["title"] in page and "reasons-pending" not in page
