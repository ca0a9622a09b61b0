"""Match proposals: the staff queue, one proposal, proposing by hand, expressing interest, my matches."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models import ProposalState
from services import matchmaking, proposals, submissions
from services.labels import PROPOSAL_STATES
from services.proposals import ProposalError
from services.submission_types import BY_SLUG, engine_id, type_of
from web.access import staff_required
from web.filters import paginate
from web.forms.review import InterestForm, ProposeForm, TransitionForm
from web.messages import message_for
from web.urls import SLUG_PATTERN, parse_id

bp = Blueprint("review", __name__)

TABS = ("open", *[s.value for s in ProposalState], "all")


def _refuse(code: str, status: int = 403):
    return render_template("errors/error.html", code=status, message=message_for(code)), status


def _load(proposal_id: int):
    proposal = proposals.get(proposal_id)
    if proposal is None or not proposals.can_view(proposal, current_user):
        abort(404)
    return proposal


@bp.route("/review/")
@staff_required
def queue():
    tab = request.args.get("state", "open")
    tab = tab if tab in TABS else "open"
    states = proposals.OPEN if tab == "open" else None if tab == "all" else (tab,)
    mine = request.args.get("mine") == "1"
    page = paginate(proposals.queue(states, reviewer=current_user if mine else None), request.args)
    conflicts = {p.id for p in page.items if proposals.has_conflict(p, current_user)}
    return render_template("review/queue.html", page=page, tab=tab, tabs=TABS, mine=mine, conflicts=conflicts)


@bp.route("/review/<int:proposal_id>")
@login_required
def detail(proposal_id):
    proposal = _load(proposal_id)
    if not current_user.is_staff:
        return redirect(url_for(".my_matches", _anchor=f"proposal-{proposal.id}"))
    return _detail(proposal, TransitionForm())


def _detail(proposal, form, status=200):
    engine = matchmaking.explain_pair(proposal.idea, proposal.target)
    return render_template(
        "review/detail.html", proposal=proposal, form=form, band=engine.band, why=engine.why,
        reasons_pending=engine.pending,
        allowed=proposals.allowed_transitions(proposal, current_user),
        conflict=proposals.has_conflict(proposal, current_user),
        history=proposals.history(proposal),
        contacts={side: proposals.contact(proposal, side) for side in ("idea", "target")}), status


@bp.route("/review/<int:proposal_id>/transition", methods=["POST"])
@login_required
def transition(proposal_id):
    proposal = _load(proposal_id)
    form = TransitionForm()
    try:  # someone else having moved it meanwhile (ConflictError) is answered by web/errors.py
        proposals.check_move(proposal, form.to.data, current_user)
    except ProposalError as error:
        return _refuse(error.code)
    if not form.validate_on_submit():
        return _detail(proposal, form, 422)
    try:
        proposals.transition(proposal, form.to.data, current_user, reason=form.reason.data or None,
                             note=form.note.data)
    except ProposalError as error:
        if error.code == "reason_required":  # the form checks this first; kept for safety
            form.reason.errors = [*form.reason.errors, message_for(error)]
            return _detail(proposal, form, 422)
        return _refuse(error.code)
    flash(_("Saved: %(state)s.", state=PROPOSAL_STATES[proposal.state]), "success")
    if current_user.is_staff:
        return redirect(url_for(".detail", proposal_id=proposal.id))
    return redirect(url_for(".my_matches", _anchor=f"proposal-{proposal.id}"))


@bp.route("/review/new", methods=["GET", "POST"])
@staff_required
def propose():
    ideas, targets = proposals.publishable_pairs()
    form = ProposeForm()
    form.idea.choices = [(i.id, f"#{i.id} {i.title}") for i in ideas]
    form.target.choices = [(engine_id(t), f"{str(type_of(t).label).capitalize()} #{t.id} {t.title}") for t in targets]
    if request.method == "GET":
        form.idea.data = parse_id(request.args.get("idea"))
        form.target.data = request.args.get("target", "")
    if form.validate_on_submit():
        idea = next(i for i in ideas if i.id == form.idea.data)
        target = next(t for t in targets if engine_id(t) == form.target.data)
        try:
            proposal = proposals.propose_by_hand(current_user, idea, target, note=form.note.data)
        except ProposalError as error:
            form.target.errors = [*form.target.errors, message_for(error)]
        else:
            flash(_("Proposal created."), "success")
            return redirect(url_for(".detail", proposal_id=proposal.id))
    return render_template("review/new.html", form=form), 422 if form.errors else 200


@bp.route(f"/{SLUG_PATTERN}/<int:item_id>/interest", methods=["POST"])
@login_required
def interest(slug, item_id):
    item = submissions.get(BY_SLUG[slug], item_id)
    if item is None or not submissions.can_view(current_user, item):
        abort(404)
    if not proposals.can_express_interest(current_user, item):
        return _refuse("not_allowed")
    mine = proposals.own_items_for_interest(current_user, item)
    form = InterestForm()
    form.own.choices = [(m.id, m.title) for m in mine]
    if form.validate_on_submit():
        own = next(m for m in mine if m.id == form.own.data)
        try:
            proposals.express_interest(current_user, item, note=form.note.data, own=own)
        except ProposalError as error:
            if error.code != "exists":
                return _refuse(error.code)
            form.own.errors = [*form.own.errors, message_for(error)]
        else:
            flash(_("Thank you. The department reviews your interest and introduces you if it fits."), "success")
            return redirect(url_for(".my_matches"))
    return render_template("review/interest.html", form=form, slug=slug, item=item, interest_options=mine), 422


@bp.route("/matches")
@login_required
def my_matches():
    if current_user.is_staff:
        return redirect(url_for(".queue"))
    page = paginate(proposals.visible_proposals(current_user), request.args)
    return render_template("review/matches.html", page=page,
                           seen=[proposals.as_seen_by(p, current_user) for p in page.items])
