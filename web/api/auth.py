"""Who is calling: a personal token in the Authorization header, or nobody. Cookies are ignored."""
from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from extensions import login_manager
from services import tokens
from web.api.problems import api_abort


def authenticate():
    """Runs before every API request. Flask-Login's current_user becomes the token's user (or
    anonymous) for this request only: a session cookie sent along is never looked at."""
    g.api_user = None
    g._login_user = login_manager.anonymous_user()
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, secret = header.partition(" ")
    user = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        api_abort(401, _l("This API token is not valid: it may be mistyped or revoked."), problem="invalid-token")
    g.api_user = g._login_user = user


def require_user():
    """The caller's user, or a 401 for anonymous callers."""
    if not current_user.is_authenticated:
        api_abort(401, _l("Send a valid personal API token: Authorization: Bearer <token>."), problem="token-required")
    return current_user._get_current_object()
