"""The API's views are module-level functions: each can be imported and called alone, and the
blueprints that serve them are made once, however many apps a process creates."""
from __future__ import annotations

import inspect

import pytest
from flask_login import login_user
from werkzeug.exceptions import HTTPException

from extensions import db
from models import User
from services.submission_types import BY_SLUG
from tests.conftest import MATCHING_TEST_CONFIG
from web.api import auth, proposals, submissions, system

SUBMISSION_VIEWS = ("list_items", "create_item", "read_item", "update_item", "withdraw_item", "publish_item",
                    "item_matches")


def test_every_route_serves_an_importable_view(app):
    served = {endpoint: inspect.unwrap(view) for endpoint, view in app.view_functions.items()}
    for slug in BY_SLUG:
        for name in SUBMISSION_VIEWS:
            assert served[f"api_{slug}.{name}"] is getattr(submissions, name)
    for name in ("list_proposals", "read_proposal", "create_proposal", "transition_proposal"):
        assert served[f"api_proposals.{name}"] is inspect.unwrap(getattr(proposals, name))
    for name in ("me", "indicators_view"):
        assert served[f"api_system.{name}"] is inspect.unwrap(getattr(system, name))


def test_the_token_is_read_once_per_request_however_many_apps_exist(app):
    from app import create_app
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                **MATCHING_TEST_CONFIG})
    for blp in (*submissions.BLUEPRINTS.values(), proposals.bp, system.bp):
        assert blp.before_request_funcs[None] == [auth.authenticate]


def test_a_view_called_alone_lets_only_the_author_withdraw(app, make_user, submit):
    author, _ = make_user("innovator")
    other, _ = make_user("innovator")
    idea = submit("ideas", author)
    with app.test_request_context():
        login_user(db.session.get(User, other))
        with pytest.raises(HTTPException) as refused:
            submissions.withdraw_item("ideas", idea)
        assert refused.value.code == 403
    with app.test_request_context():
        login_user(db.session.get(User, author))
        answer = submissions.withdraw_item("ideas", idea)
        assert answer["id"] == idea and answer["status"] == "withdrawn" and answer["mine"] is True
