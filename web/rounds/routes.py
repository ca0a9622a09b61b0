"""Batch matching rounds, for staff: choose, solve as a draft, then publish or discard."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from services import rounds
from services.reference import sector_choices
from web.access import staff_required
from web.messages import message_for
from web.rounds.forms import RoundForm

bp = Blueprint("rounds", __name__)


# Every page of a round is for staff: checked once for the whole blueprint.
bp.before_request(staff_required(lambda: None))


def _load(round_id: int):
    rnd = rounds.get(round_id)
    if rnd is None:
        abort(404)
    return rnd


@bp.route("/")
def index():
    return render_template("rounds/index.html", rounds=[(rnd, len(rounds.pairs_of(rnd))) for rnd in rounds.rounds()])


@bp.route("/new", methods=["GET", "POST"])
def create():
    sector, event = request.args.get("sector", "")[:60], request.args.get("event", "")[:200]
    form = RoundForm()
    form.set_choices(rounds.candidates(sector, event))
    if form.validate_on_submit():
        try:
            rnd = rounds.create_round(current_user, form.name.data, form.needs.data or [], form.orders.data or [],
                                      form.ideas.data, form.max_per_need.data, form.max_per_idea.data,
                                      form.min_per_need.data)
        except rounds.RoundError as error:
            form.form_errors.append(message_for(error))
        else:
            flash(_("The round is solved. Check the draft, then publish it or discard it."), "success")
            return redirect(url_for(".detail", round_id=rnd.id))
    failed = form.is_submitted() and (form.errors or form.form_errors)
    return render_template("rounds/new.html", form=form, sector=sector, event=event, sectors=sector_choices(),
                           events=rounds.events()), 422 if failed else 200


@bp.route("/<int:round_id>")
def detail(round_id):
    rnd = _load(round_id)
    return render_template("rounds/detail.html", rnd=rnd, groups=rounds.groups(rnd),
                           improvement=rounds.improvement(rnd))


@bp.route("/<int:round_id>/publish", methods=["GET"])
def confirm_publish(round_id):
    """The step before publishing: how many proposals it makes, and who is told."""
    rnd = _load(round_id)
    if rnd.state != "draft":
        return redirect(url_for(".detail", round_id=rnd.id))
    return render_template("rounds/publish.html", rnd=rnd, count=rounds.proposals_to_make(rnd))


@bp.route("/<int:round_id>/publish", methods=["POST"])
def publish(round_id):
    rnd = _load(round_id)
    try:
        made = rounds.publish_round(rnd, current_user)
    except rounds.RoundError as error:
        flash(message_for(error), "error")
    else:
        flash(_("Published: %(n)s proposals are in the review queue.", n=made), "success")
    return redirect(url_for(".detail", round_id=rnd.id))


@bp.route("/<int:round_id>/discard", methods=["POST"])
def discard(round_id):
    rnd = _load(round_id)
    try:
        rounds.discard_round(rnd, current_user)
    except rounds.RoundError as error:
        flash(message_for(error), "error")
    else:
        flash(_("The round was discarded; nothing was proposed."), "success")
    return redirect(url_for(".detail", round_id=rnd.id))
