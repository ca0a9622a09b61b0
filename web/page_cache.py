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
- anything but a 200 answer to a GET;
- a search (words in ``q``): it also depends on the matching engine's state;
- a page that said it shows something still being prepared (:func:`not_kept`), such as a matches
  list whose reasons a job has not embedded yet.

A page that follows more than the data (an idea's matches follow the matching engine) names it with
``also``, which becomes part of the key.

While a process renders a page that is not kept, its other threads asking for the same one wait for
that rendering (at most :data:`WAIT_SECONDS`) instead of rendering it too: after a change, 20
visitors at once cost one rendering per process, not 20.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from functools import wraps

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from services import counts
from services.kept import Kept

KEPT_PAGES = 512  # per process: ~25 kB each, ~13 MB at most
WAIT_SECONDS = 10.0

_kept = Kept(size=KEPT_PAGES, seconds=counts.KEPT_SECONDS)
_rendering: dict[tuple, threading.Event] = {}  # key -> set when its rendering is done
_rendering_lock = threading.Lock()


def _anonymous() -> bool:
    # A search (``q``) is not kept: its answer also follows the engine's state (ready or not, the
    # spelling dictionary's counts), which the data's version does not see.
    return (request.method == "GET" and not current_user.is_authenticated and "_flashes" not in session
            and not request.args.get("q", "").strip())


def not_kept() -> None:
    """The page being rendered shows something still being prepared: this copy is not kept."""
    g.page_not_kept = True


def _one_visitors(response: Response) -> bool:
    """Whether rendering ``response`` left something that belongs to this visitor alone, or that
    will change without the data changing (:func:`not_kept`)."""
    return (response.status_code != 200 or session.modified or g.get("page_not_kept", False)
            or current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g)


def for_visitors(view=None, *, also: Callable[[], Hashable] | None = None):
    """Keep ``view``'s answers to visitors who are not signed in (see the module's docstring).
    ``also``: called before the page is looked up, what else the page follows that the data's
    version does not see (part of the key). Used as ``@for_visitors`` or ``@for_visitors(also=f)``."""
    if view is None:
        return lambda view: for_visitors(view, also=also)

    @wraps(view)
    def kept_view(*args, **kwargs):
        if not _anonymous():
            return view(*args, **kwargs)
        key = (request.url, str(get_locale()), counts.version(), also() if also is not None else None)
        kept, done = _kept.get(key), None
        if kept is None:
            with _rendering_lock:
                done = _rendering.get(key)
                if done is None:
                    _rendering[key] = threading.Event()
            if done is not None:  # another thread renders it: its copy, unless it could not be kept
                done.wait(WAIT_SECONDS)
                kept = _kept.get(key)
        if kept is not None:
            body, status, headers = kept
            return Response(body, status, headers)
        if done is not None:
            return view(*args, **kwargs)
        try:
            response = make_response(view(*args, **kwargs))
            if not _one_visitors(response):
                _kept.put(key, (response.get_data(), response.status_code, list(response.headers.items())))
        finally:
            with _rendering_lock:
                _rendering.pop(key).set()
        return response
    return kept_view
