"""API fixtures: a user of a role with a personal token, as request headers."""
import pytest


@pytest.fixture
def token_for(app, make_user):
    """token_for(role, **profile) -> (user_id, headers with "Authorization: Bearer <token>")."""
    from extensions import db
    from models import User
    from services import tokens

    def make(role: str = "innovator", **profile):
        user_id, _ = make_user(role, **profile)
        with app.app_context():
            _, secret = tokens.create(db.session.get(User, user_id), f"{role} test")
        return user_id, {"Authorization": f"Bearer {secret}"}
    return make
