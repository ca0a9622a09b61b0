"""Every list as a spreadsheet: the same filters and the same visibility rules as its page."""

from flask import Blueprint, abort, request
from flask_login import current_user

from services import exports
from services.errors import ServiceError
from services.formats import local_today
from web.downloads import table_response
from web.filters import browse_filters
from web.messages import message_for
from web.urls import SLUG_PATTERN

bp = Blueprint("exports", __name__)
FORMAT = "<any(xlsx, csv):fmt>"


# `slug`, not `kind`: "kind" is one of the ideas page's filters, passed on in the query string.
@bp.route(f"/{SLUG_PATTERN}/export.{FORMAT}")
def submissions(slug, fmt):
    filters = browse_filters(request.args)
    try:
        headers, rows = exports.submissions_table(slug, current_user, filters)
    except ServiceError as error:
        abort(400, message_for(error))
    return table_response(fmt, f"{slug}-{local_today().isoformat()}", headers, rows)
