"""What list pages read from the query string: the browse filters and the page number, the same way
in every view that lists."""
from dataclasses import fields

from flask import abort, current_app

from extensions import db
from services.bounds import MAX_PAGE
from services.submissions import BrowseFilters

# The kind of idea travels as "type": "kind" is already the URL's ideas/needs/orders part.
PARAMS = {f.name: ("type" if f.name == "kind" else f.name) for f in fields(BrowseFilters)}


def browse_filters(args) -> BrowseFilters:
    return BrowseFilters(**{name: args.get(param, "", type=str)[:200] for name, param in PARAMS.items()})


def query_args(args) -> dict:
    """The query string minus the page number, to carry filters into pagination and export links."""
    return {key: value for key, value in args.items() if key != "page"}


def page_number(args) -> int:
    """``?page=``: 1 when absent or not a positive whole number (a mistyped link still shows the
    list); a number beyond :data:`MAX_PAGE` is a page that does not exist: 404, before any query."""
    text = (args.get("page") or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    if len(text) > len(str(MAX_PAGE)) or int(text) > MAX_PAGE:
        abort(404)
    return max(int(text), 1)


def paginate(stmt, args, **kwargs):
    """One page of `stmt` for a list page (Flask-SQLAlchemy's Pagination), the page number read by
    :func:`page_number` and the configured page size; a page past the end is empty."""
    kwargs.setdefault("per_page", current_app.config["PAGE_SIZE"])
    return db.paginate(stmt, page=page_number(args), error_out=False, **kwargs)
