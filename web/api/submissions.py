"""Ideas, technology needs and research orders: one blueprint per kind, the same operations for each.

The views are module-level functions that take the kind's slug first; kind_blueprint() serves them
under /api/v1/<slug> with that kind's schemas, and BLUEPRINTS holds the three blueprints.
"""
from __future__ import annotations

import math
from functools import wraps

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from extensions import db
from services import matchmaking, search, submissions
from services.errors import ServiceError
from services.submission_types import BY_SLUG
from services.submissions import BrowseFilters
from web.api import API_PREFIX, api_blueprint, present
from web.api.auth import require_user
from web.api.bodies import current_values, formdata, json_body
from web.api.problems import api_abort, problems
from web.api.schemas import BROWSE_ARGS, KIND_SCHEMAS, MatchListSchema
from web.forms.submissions import FORMS
from web.messages import message_for
from web.page_cache import for_visitors

DESCRIPTIONS = {
    "ideas": "Ideas and projects of innovators (startup ideas, STEM and hackathon projects, research proposals).",
    "needs": "Technology needs of businesses; a confidential one shows its company and details only to staff "
             "and its author.",
    "orders": "Research orders (đặt hàng nhiệm vụ KH&CN) posted by department staff.",
}


def paginate(stmt: sa.Select, page: int, per_page: int) -> tuple[list, dict]:
    """One page of a query; a page past the end is empty (the database is not asked for it)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    offset = (page - 1) * per_page
    items = list(db.session.scalars(stmt.limit(per_page).offset(offset))) if offset < total else []
    return items, {"page": page, "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)}


def load(slug: str, item_id: int):
    """The item if the caller may see it; 404 otherwise, whether it exists or not."""
    item = submissions.get(BY_SLUG[slug], item_id)
    if item is None or not submissions.can_view(current_user, item):
        api_abort(404, _l("There is no such item, or you cannot see it."))
    return item


def _load_for_edit(slug: str, item_id: int):
    user = require_user()
    item = load(slug, item_id)
    if not submissions.can_edit(user, item):
        api_abort(403, _l("Only the author can change this."))
    return item


def _form_fields(form_class) -> tuple[str, ...]:
    return ("title", "sectors", "place", "language", *form_class.plain_fields)


def _validate(form_class, body: dict, item=None):
    """The page's form, filled from the body (over the item's current values), validated; 422 with
    the form's own messages if it fails."""
    fields = _form_fields(form_class)
    start = None
    if item is not None:
        current = form_class(formdata=None, obj=item, meta={"csrf": False})
        current.load(item)
        start = current_values(current, fields)
    data, errors = formdata(body, (*fields, "publish"), start)
    form = form_class(formdata=data, obj=item, meta={"csrf": False})
    if not form.validate() or errors:
        api_abort(422, errors={**form.errors, **errors}, problem="validation")
    return form


def list_items(slug: str, page: int, per_page: int, **filters):
    """The published items the caller may see, a page at a time.

    The filters and orders of the browse page: `q` finds words (case and accents ignored) and,
    when the engine is ready, items of the same meaning in any language, and those holding the
    words with a misspelled one corrected (`corrected`); `sort` orders them (default: relevance
    when searching, else newest)."""
    try:
        found = search.find(BY_SLUG[slug], current_user, BrowseFilters(**filters), page=page, per_page=per_page)
    except ServiceError as error:
        api_abort(422, errors={"sort": [message_for(error)]}, problem="validation")
    pagination = found.page
    return {"items": [present.submission(i, current_user) for i in pagination.items], "page": page,
            "per_page": per_page, "total": pagination.total, "pages": math.ceil(pagination.total / per_page),
            "sort": found.sort, "cross_language": found.cross_language, "corrected": found.corrected}


def create_item(slug: str):
    """Create one, as a draft or published.

    Published at once with `"publish": true`; the same rules as the form on the site."""
    kind = BY_SLUG[slug]
    user = require_user()
    if not submissions.can_create(user, kind):
        api_abort(403, _l("Your role cannot create this kind of item."))
    form = _validate(FORMS[slug], json_body())
    item = submissions.create(kind, user, form.to_data(), publish=form.wants_publish)
    return present.submission(item, user)


def read_item(slug: str, item_id: int):
    """One item.

    A confidential need hides its company and details from all but staff and its author."""
    return present.submission(load(slug, item_id), current_user)


def update_item(slug: str, item_id: int):
    """Change some fields (the author only).

    Fields left out keep their values; the result must pass the form's rules."""
    item = _load_for_edit(slug, item_id)
    form = _validate(FORMS[slug], json_body(), item)
    submissions.update(item, form.to_data(), publish=form.wants_publish)
    return present.submission(item, current_user)


def withdraw_item(slug: str, item_id: int):
    """Withdraw it (the author only).

    It is no longer shown to others; publishing it again brings it back."""
    item = _load_for_edit(slug, item_id)
    submissions.withdraw(item)
    return present.submission(item, current_user)


def publish_item(slug: str, item_id: int):
    """Publish a draft or a withdrawn item (the author only)."""
    item = _load_for_edit(slug, item_id)
    submissions.publish(item)
    return present.submission(item, current_user)


def item_matches(slug: str, item_id: int):
    """The best matches on the other side, with the reasons.

    Each match gives its band, the facets (same sector, same place ...), the shared terms and the
    sentence pairs that fit."""
    item = load(slug, item_id)
    if not matchmaking.may_see_matches(current_user, item):
        api_abort(403, _l("The matches of a confidential need are shown only to its author and department staff."),
                  problem="confidential")
    return {"items": [present.match(view) for view in matchmaking.matches_for(item, current_user)]}


def _of_kind(view, slug: str):
    """`view` with its first argument, the kind's slug, given."""
    @wraps(view)
    def view_of_kind(*args, **kwargs):
        return view(slug, *args, **kwargs)
    return view_of_kind


def kind_blueprint(slug: str) -> Blueprint:
    """The views above under /api/v1/<slug>, documented and serialised with the kind's schemas.

    Each route wraps the shared view in this kind's decorators (outermost first), as stacking them
    on the function would. The slug is given by a wrapper, not by URL defaults: those would make it
    one of the rule's arguments."""
    item_schema, input_schema, page_schema = KIND_SCHEMAS[slug]
    blp = api_blueprint(f"api_{slug}", __name__, url_prefix=f"{API_PREFIX}/{slug}", description=DESCRIPTIONS[slug])
    body = blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": input_schema}}})

    def route(rule: str, method: str, view, *decorators) -> None:
        endpoint = view.__name__
        view = _of_kind(view, slug)
        for decorate in reversed(decorators):
            view = decorate(view)
        blp.add_url_rule(rule, endpoint, view, methods=[method])

    route("", "GET", list_items, for_visitors, blp.arguments(BROWSE_ARGS[slug], location="query", as_kwargs=True),
          blp.response(200, page_schema), problems(blp, 422))
    route("", "POST", create_item, body, blp.response(201, item_schema), problems(blp, 400, 403, 413, 415, 422))
    route("/<int:item_id>", "GET", read_item, blp.response(200, item_schema), problems(blp, 404))
    route("/<int:item_id>", "PATCH", update_item, body, blp.response(200, item_schema),
          problems(blp, 400, 403, 404, 413, 415, 422))
    route("/<int:item_id>/withdraw", "POST", withdraw_item, blp.response(200, item_schema),
          problems(blp, 403, 404, 409))
    route("/<int:item_id>/publish", "POST", publish_item, blp.response(200, item_schema),
          problems(blp, 403, 404, 409))
    route("/<int:item_id>/matches", "GET", item_matches, blp.response(200, MatchListSchema), problems(blp, 403, 404))
    return blp


# One blueprint per kind, made once at import (api_blueprint adds hooks that must not be added twice).
BLUEPRINTS: dict[str, Blueprint] = {slug: kind_blueprint(slug) for slug in BY_SLUG}
