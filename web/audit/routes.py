"""The append-only audit log: who changed what, when, from what to what. Staff only."""
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from services import audit
from services.formats import utc_bounds
from services.labels import AUDIT_ENTITY_TYPES
from web.access import staff_required
from web.audit.forms import AuditFilterForm
from web.filters import paginate

bp = Blueprint("audit", __name__)


@bp.route("/audit")
@staff_required
def index():
    form = AuditFilterForm(request.args)
    known = sorted(set(AUDIT_ENTITY_TYPES) | set(audit.entity_types()))
    form.entity_type.choices = [("", _l("Everything"))] + [(t, AUDIT_ENTITY_TYPES.get(t, t)) for t in known]
    valid = form.validate() if request.args else True
    since, until = utc_bounds(form.date_from.data, form.date_to.data) if valid else (None, None)
    stmt = audit.entries(entity_type=form.entity_type.data or "", action=(form.action.data or "").strip(),
                         actor_email=form.actor.data or "", since=since, until=until) if valid else audit.entries()
    page = paginate(stmt, request.args)
    return render_template("audit/list.html", form=form, page=page, changes=audit.changes,
                           query_args={k: v for k, v in request.args.items() if k != "page"}), \
        200 if valid else 422

