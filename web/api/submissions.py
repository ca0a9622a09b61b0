"""Ideas, technology needs and research orders: one blueprint per kind, the same operations for each."""
from __future__ import annotations

import math

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from extensions import db
from services import matching, submissions
from services.submissions import KINDS, BrowseFilters
from web.api import API_PREFIX
from web.api import present
from web.api.auth import require_user
from web.api.bodies import current_values, formdata, json_body
from web.api.problems import api_abort, problems
from web.api.schemas import KIND_SCHEMAS, BrowseArgs, IdeaBrowseArgs, MatchListSchema
from web.forms.submissions import FORMS

MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger one names nothing
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
    item = submissions.get(KINDS[slug], item_id) if item_id <= MAX_ID else None
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


def kind_blueprint(slug: str) -> Blueprint:
    kind = KINDS[slug]
    form_class = FORMS[slug]
    item_schema, input_schema, page_schema = KIND_SCHEMAS[slug]
    blp = Blueprint(f"api_{slug}", __name__, url_prefix=f"{API_PREFIX}/{slug}", description=DESCRIPTIONS[slug])
    body_doc = {"requestBody": {"required": True,
                                "content": {"application/json": {"schema": input_schema}}}}

    @blp.route("", methods=["GET"])
    @blp.arguments(IdeaBrowseArgs if slug == "ideas" else BrowseArgs, location="query", as_kwargs=True)
    @blp.response(200, page_schema)
    @problems(blp, 422)
    def list_items(page, per_page, **filters):
        """Published items the caller may see, newest first, with the filters of the browse page."""
        stmt = submissions.browse_query(kind, current_user, BrowseFilters(**filters))
        items, meta = paginate(stmt, page, per_page)
        return {"items": [present.submission(i, current_user) for i in items], **meta}

    @blp.route("", methods=["POST"])
    @blp.doc(**body_doc)
    @blp.response(201, item_schema)
    @problems(blp, 400, 403, 413, 415, 422)
    def create_item():
        """Create one (as a draft, or published with "publish": true); the same rules as the form."""
        user = require_user()
        if not submissions.can_create(user, kind):
            api_abort(403, _l("Your role cannot create this kind of item."))
        form = _validate(form_class, json_body())
        item = submissions.create(kind, user, form.to_data(), publish=form.wants_publish)
        return present.submission(item, user)

    @blp.route("/<int:item_id>", methods=["GET"])
    @blp.response(200, item_schema)
    @problems(blp, 404)
    def read_item(item_id):
        """One item; a confidential need hides its company and details from all but staff and its author."""
        return present.submission(load(slug, item_id), current_user)

    @blp.route("/<int:item_id>", methods=["PATCH"])
    @blp.doc(**body_doc)
    @blp.response(200, item_schema)
    @problems(blp, 400, 403, 404, 413, 415, 422)
    def update_item(item_id):
        """Change some fields (the author only); the result must pass the form's rules."""
        item = _load_for_edit(slug, item_id)
        form = _validate(form_class, json_body(), item)
        submissions.update(item, form.to_data(), publish=form.wants_publish)
        return present.submission(item, current_user)

    @blp.route("/<int:item_id>/withdraw", methods=["POST"])
    @blp.response(200, item_schema)
    @problems(blp, 403, 404)
    def withdraw_item(item_id):
        """Withdraw it (the author only): it is no longer shown to others."""
        item = _load_for_edit(slug, item_id)
        submissions.withdraw(item)
        return present.submission(item, current_user)

    @blp.route("/<int:item_id>/publish", methods=["POST"])
    @blp.response(200, item_schema)
    @problems(blp, 403, 404)
    def publish_item(item_id):
        """Publish a draft or a withdrawn item (the author only)."""
        item = _load_for_edit(slug, item_id)
        submissions.publish(item)
        return present.submission(item, current_user)

    @blp.route("/<int:item_id>/matches", methods=["GET"])
    @blp.response(200, MatchListSchema)
    @problems(blp, 404)
    def item_matches(item_id):
        """The best matches on the other side, with the reasons: band, facets, shared terms, sentence pairs."""
        item = load(slug, item_id)
        quote = submissions.can_see_details(current_user, item)
        return {"items": [present.match(view, current_user, quote) for view in matching.matches_for(item, current_user)]}

    return blp


def blueprints() -> list[Blueprint]:
    return [kind_blueprint(slug) for slug in KINDS]
