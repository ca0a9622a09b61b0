"""Match proposals: those the caller may see, one of them, a new one (staff by hand, or a party's
expression of interest) and moving one through its states."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models import Role
from services import proposals, submissions
from services.proposals import ProposalError
from services.submission_types import IDEA, NEED, ORDER, SubmissionType
from web.api import API_PREFIX, api_blueprint, present
from web.api.auth import require_user
from web.api.bodies import formdata, json_body
from web.api.problems import api_abort, problems
from web.api.schemas import PageArgs, ProposalInput, ProposalPage, ProposalSchema, TransitionInput
from web.api.submissions import paginate
from web.forms import BaseForm, WholeNumberField
from web.forms.review import NOTE, TransitionForm
from web.messages import message_for

# ProposalError code -> status
STATUS = {"not_allowed": 403, "conflict_of_interest": 403, "exists": 409, "own_item_invalid": 422}
NO_SUCH_ITEM = _l("There is no such item, or you cannot see it.")

bp = api_blueprint("api_proposals", __name__, url_prefix=f"{API_PREFIX}/proposals",
                   description="Match proposals: staff propose and decide; the two sides see theirs from the "
                               "introduction on, and the ones their own interest created.")


class ProposalBody(BaseForm):
    """A pair: the idea and either a technology need or a research order."""

    idea_id = WholeNumberField(validators=[DataRequired()], min=1)
    need_id = WholeNumberField(validators=[Optional()], min=1)
    order_id = WholeNumberField(validators=[Optional()], min=1)
    note = TextAreaField(validators=[Optional(), Length(max=NOTE)])


def _load(proposal_id: int):
    user = require_user()
    proposal = proposals.get(proposal_id)
    if proposal is None or not proposals.can_view(proposal, user):
        api_abort(404, _l("There is no such proposal, or you cannot see it."))
    return user, proposal


def _form(form_class, fields: tuple[str, ...]):
    data, errors = formdata(json_body(), fields)
    form = form_class(formdata=data, meta={"csrf": False})
    if not form.validate() or errors:
        api_abort(422, errors={**form.errors, **errors}, problem="validation")
    return form


def _visible(submission_type: SubmissionType, item_id: int | None, user):
    item = submissions.get(submission_type, item_id) \
        if item_id is not None else None
    return item if item is not None and submissions.can_view(user, item) else None


def _refuse(code: str):
    api_abort(STATUS.get(code, 403), message_for(code), problem=code.replace("_", "-"))


@bp.route("", methods=["GET"])
@bp.arguments(PageArgs, location="query", as_kwargs=True)
@bp.response(200, ProposalPage)
@problems(bp, 422)
def list_proposals(page, per_page):
    """The proposals the caller may see, latest change first (staff: all of them)."""
    user = require_user()
    items, meta = paginate(proposals.visible_proposals(user), page, per_page)
    return {"items": [present.proposal(p, user) for p in items], **meta}


@bp.route("/<int:proposal_id>", methods=["GET"])
@bp.response(200, ProposalSchema)
@problems(bp, 404)
def read_proposal(proposal_id):
    """One proposal; the contacts only once the two sides are introduced (staff: always)."""
    user, proposal = _load(proposal_id)
    return present.proposal(proposal, user)


@bp.route("", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ProposalInput}}})
@bp.response(201, ProposalSchema)
@problems(bp, 400, 403, 409, 413, 415, 422)
def create_proposal():
    """Propose a pair, or express interest.

    Staff pair a published idea with a need or an order by hand; an innovator (for one of their
    ideas) or a business (for one of their needs) expresses interest in the other side."""
    user = require_user()
    form = _form(ProposalBody, ("idea_id", "need_id", "order_id", "note"))
    if (form.need_id.data is None) == (form.order_id.data is None):
        api_abort(422, errors={"need_id": [_l("Choose a technology need or a research order.")]}, problem="validation")
    idea = _visible(IDEA, form.idea_id.data, user)
    target = _visible(NEED, form.need_id.data, user) if form.need_id.data is not None \
        else _visible(ORDER, form.order_id.data, user)
    errors = {}
    if idea is None:
        errors["idea_id"] = [NO_SUCH_ITEM]
    if target is None:
        errors["need_id" if form.need_id.data is not None else "order_id"] = [NO_SUCH_ITEM]
    if errors:
        api_abort(422, errors=errors, problem="validation")
    try:
        if user.is_staff:
            proposal = proposals.propose_by_hand(user, idea, target, note=form.note.data)
        else:
            # The caller is interested in the other side's item, with their own one.
            item, own = (target, idea) if user.role == Role.INNOVATOR.value else (idea, target)
            proposal = proposals.express_interest(user, item, note=form.note.data, own=own)
    except ProposalError as error:
        _refuse(error.code)
    return present.proposal(proposal, user), 201


@bp.route("/<int:proposal_id>/transitions", methods=["POST"])
@bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": TransitionInput}}})
@bp.response(200, ProposalSchema)
@problems(bp, 400, 403, 404, 409, 413, 415, 422)
def transition_proposal(proposal_id):
    """Move it to another state.

    `to` is one of `allowed_transitions`; a rejection needs a `reason` code (and a `note` for
    `other`)."""
    user, proposal = _load(proposal_id)
    form = _form(TransitionForm, ("to", "reason", "note"))
    try:  # someone else having moved it meanwhile (ConflictError) is a 409, answered by web/errors.py
        proposals.check_move(proposal, form.to.data, user)
    except ProposalError as error:
        _refuse(error.code)
    try:
        proposals.transition(proposal, form.to.data, user, reason=form.reason.data or None, note=form.note.data)
    except ProposalError as error:
        if error.code == "reason_required":
            api_abort(422, errors={"reason": [message_for(error)]}, problem="validation")
        _refuse(error.code)
    return present.proposal(proposal, user)
