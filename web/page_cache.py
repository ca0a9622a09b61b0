"""Public pages as a visitor who is not signed in sees them, kept in each process while the data
has not changed.

The home page, the lists and the API's lists cost 10-25 ms of Python and SQL each (bench/load.py:
10k needs, 100k ideas), most of it the same for every visitor. A visitor's copy is kept under its
URL, its language and the data's version (services/counts.py: any change of a submission, an
account or anything audited is a new version), so a publish, an edit or a withdrawal shows at once.

Never kept, never served from the kept ones:
- a signed-in user's page (or an API call with a token): their name, menus, rights;
- a page with a message to show (a flash waits in the session), or one that put something in
  the session or made a CSRF token while rendering: those belong to one visitor;
- anything but a 200 answer to a GET.
"""
from __future__ import annotations

from functools import wraps

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from services import counts

KEPT_PAGES = 512  # per process: ~25 kB each, ~13 MB at most

_kept = counts.Kept(size=KEPT_PAGES)


def _anonymous() -> bool:
    return request.method == "GET" and not current_user.is_authenticated and "_flashes" not in session


def _one_visitors(response: Response) -> bool:
    """Whether rendering ``response`` left something that belongs to this visitor alone."""
    return (response.status_code != 200 or session.modified
            or current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g)


def for_visitors(view):
    """Keep ``view``'s answers to visitors who are not signed in (see the module's docstring)."""
    @wraps(view)
    def kept_view(*args, **kwargs):
        if not _anonymous():
            return view(*args, **kwargs)
        key = (request.url, str(get_locale()), counts.version())
        kept = _kept.get(key)
        if kept is not None:
            body, status, headers = kept
            return Response(body, status, headers)
        response = make_response(view(*args, **kwargs))
        if not _one_visitors(response):
            _kept.put(key, (response.get_data(), response.status_code, list(response.headers.items())))
        return response
    return kept_view
