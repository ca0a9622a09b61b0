"""Ideas, technology needs and research orders share one life cycle; each type brings its own form."""
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from services import matchmaking, proposals, search, submissions
from services.errors import ServiceError
from services.labels import IDEA_KINDS, SORT_LABELS
from services.reference import sector_choices
from services.submission_types import BY_SLUG, IDEA, TYPES
from web.filters import browse_filters, page_number, query_args
from web.forms.review import InterestForm
from web.forms.submissions import FORMS
from web.messages import message_for
from web.page_cache import for_visitors, not_kept
from web.submissions.similar import present_similar
from web.urls import SLUG_PATTERN

bp = Blueprint("submissions", __name__)


def _load(slug: str, item_id: int):
    item = submissions.get(BY_SLUG[slug], item_id)
    if item is None or not submissions.can_view(current_user, item):
        abort(404)
    return item


def _load_for_edit(slug: str, item_id: int):
    item = _load(slug, item_id)
    if not submissions.can_edit(current_user, item):
        abort(403)
    return item


@bp.route(f"/{SLUG_PATTERN}/")
@for_visitors
def browse(slug):
    submission_type = BY_SLUG[slug]
    filters = browse_filters(request.args)
    try:
        found = search.find(submission_type, current_user, filters, page=page_number(request.args),
                            per_page=current_app.config["PAGE_SIZE"])
    except ServiceError as error:
        abort(400, message_for(error))
    return render_template(
        "submissions/browse.html", slug=slug, submission_type=submission_type, page=found.page, found=found,
        filters=filters, sectors=sector_choices(), districts=submissions.districts(), idea_kinds=IDEA_KINDS,
        sort_labels=SORT_LABELS, query_args=query_args(request.args),
        can_create=submissions.can_create(current_user, submission_type))


@bp.route(f"/{SLUG_PATTERN}/new", methods=["GET", "POST"])
@login_required
def create(slug):
    submission_type = BY_SLUG[slug]
    if not submissions.can_create(current_user, submission_type):
        abort(403)
    form = FORMS[slug]()
    if request.method == "GET" and submission_type is IDEA:
        form.organisation.data = current_user.organisation
    if request.method == "GET" and current_user.place:
        form.place.data = current_user.place.code
    similar = _similar(form)
    if similar is None and form.validate_on_submit():
        item = submissions.create(submission_type, current_user, form.to_data(), publish=form.wants_publish)
        flash(_("Published.") if item.is_published else _("Saved as a draft."), "success")
        return redirect(url_for(".detail", slug=slug, item_id=item.id))
    return render_template("submissions/form.html", slug=slug, submission_type=submission_type, form=form,
                           item=None, similar=similar), 422 if form.errors else 200


def _similar(form, exclude_id=None):
    """"Check for similar ideas": nothing is saved, the form comes back with the closest existing ideas."""
    if getattr(form, "check_similar", None) is None or not form.check_similar.data or not form.is_submitted():
        return None
    return matchmaking.similar_ideas(form.to_data(), current_user, exclude_id=exclude_id)


LIVE_FIELDS = ("title", "summary", "description", "keywords", "language", "kind")


@bp.route("/ideas/similar", methods=["POST"])
@login_required
def similar_live():
    """The idea form's script asks, after each pause in typing, which existing ideas are similar:
    JSON {title, summary, description, keywords, language, kind, exclude_id} (CSRF token in the
    X-CSRFToken header) -> {items: [{title, url, likeness, likeness_label, kind, language}],
    problem, message}. Nothing is saved."""
    if not submissions.can_create(current_user, IDEA):
        abort(403)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # JSON nested deeper than the parser can follow: not an idea's fields
        body = None
    if not isinstance(body, dict) or any(not isinstance(body.get(f, ""), str) for f in LIVE_FIELDS) \
            or not isinstance(body.get("exclude_id") or 0, int):
        abort(400, _("Send the idea's fields as a JSON object of texts."))
    fields = {f: body.get(f) or "" for f in LIVE_FIELDS}
    check = matchmaking.similar_ideas(fields, current_user, exclude_id=body.get("exclude_id") or None, live=True)
    return jsonify(present_similar(check))


@bp.route(f"/{SLUG_PATTERN}/<int:item_id>")
@for_visitors(also=matchmaking.matching_state)
def detail(slug, item_id):
    item = _load(slug, item_id)
    can_edit = submissions.can_edit(current_user, item)
    matches = matchmaking.matches_for(item, current_user, prepared_only=True)
    pending = matchmaking.matches_being_prepared(item)
    if pending or any(m.reasons_pending for m in matches):
        not_kept()  # the page reloads itself until they are ready
    options = proposals.interest_options(current_user, item)
    return render_template(
        f"submissions/detail_{slug}.html", slug=slug, submission_type=BY_SLUG[slug], item=item, can_edit=can_edit,
        matches=matches, matches_pending=pending,
        matches_hidden=not matchmaking.may_see_matches(current_user, item),
        similar=matchmaking.similar_ideas(_fields_of(item), current_user, exclude_id=item.id)
        if BY_SLUG[slug] is IDEA and can_edit else None,
        interest_options=options,
        # made only when offered: a form makes a CSRF token, which ties the page to one visitor
        interest_form=InterestForm(formdata=None) if options else None)


def _fields_of(idea) -> dict:
    return {f: getattr(idea, f) for f in ("title", "summary", "description", "keywords", "language", "kind")}


@bp.route(f"/{SLUG_PATTERN}/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug, item_id):
    item = _load_for_edit(slug, item_id)
    form = FORMS[slug](obj=item)
    if request.method == "GET":
        form.load(item)
    similar = _similar(form, exclude_id=item.id)
    if similar is None and form.validate_on_submit():
        submissions.update(item, form.to_data(), publish=form.wants_publish)
        flash(_("Changes saved."), "success")
        return redirect(url_for(".detail", slug=slug, item_id=item.id))
    return render_template("submissions/form.html", slug=slug, submission_type=BY_SLUG[slug], form=form, item=item,
                           similar=similar), 422 if form.errors else 200


@bp.route(f"/{SLUG_PATTERN}/<int:item_id>/withdraw", methods=["POST"])
@login_required
def withdraw(slug, item_id):
    item = _load_for_edit(slug, item_id)
    submissions.withdraw(item)
    flash(_("Withdrawn. It is no longer shown to others."), "info")
    return redirect(url_for(".detail", slug=slug, item_id=item.id))


@bp.route(f"/{SLUG_PATTERN}/<int:item_id>/publish", methods=["POST"])
@login_required
def publish(slug, item_id):
    item = _load_for_edit(slug, item_id)
    submissions.publish(item)
    flash(_("Published."), "success")
    return redirect(url_for(".detail", slug=slug, item_id=item.id))


@bp.route("/mine")
@login_required
def mine():
    # Each type the user may create, and any other type they still own something of (e.g. after a role change).
    owned = {t.slug: submissions.mine(t, current_user) for t in TYPES}
    lists = {slug: items for slug, items in owned.items()
             if items or submissions.can_create(current_user, BY_SLUG[slug])}
    return render_template("submissions/mine.html", lists=lists)
