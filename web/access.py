"""Role checks for routes, and what a page that shows a secret tells caches."""
from functools import wraps

from flask import abort, make_response
from flask_login import current_user, login_required


def admin_required(view):
    """Administrators only."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def staff_required(view):
    """Department staff and administrators only."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def no_store(view):
    """For a page that shows a secret (a new API token, a reset link): no cache, proxy or browser
    history keeps a copy (``Cache-Control: no-store``), whatever the answer's status."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
        return response
    return wrapped
