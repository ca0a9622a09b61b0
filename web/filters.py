"""The browse pages' filters, read from the query string the same way by every view that lists."""
from dataclasses import fields

from services.submissions import BrowseFilters

# The kind of idea travels as "type": "kind" is already the URL's ideas/needs/orders part.
PARAMS = {f.name: ("type" if f.name == "kind" else f.name) for f in fields(BrowseFilters)}


def browse_filters(args) -> BrowseFilters:
    return BrowseFilters(**{name: args.get(param, "", type=str)[:200] for name, param in PARAMS.items()})


def query_args(args) -> dict:
    """The query string minus the page number, to carry filters into pagination and export links."""
    return {key: value for key, value in args.items() if key != "page"}
