"""The append-only audit log: who changed what, when, from what to what. Staff only."""
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import to_utc

from services import audit
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
    stmt = audit.entries(entity_type=form.entity_type.data or "", action=(form.action.data or "").strip(),
                         actor_email=form.actor.data or "", since=_start(form.date_from.data),
                         until=_start(form.date_to.data, days=1)) if valid else audit.entries()
    page = paginate(stmt, request.args)
    return render_template("audit/list.html", form=form, page=page, changes=audit.changes,
                           query_args={k: v for k, v in request.args.items() if k != "page"}), \
        200 if valid else 422


def _start(day, days: int = 0):
    """Midnight of a day in the department's time zone, in UTC (the log's clock)."""
    return to_utc(datetime.combine(day + timedelta(days=days), time.min)) if day else None
