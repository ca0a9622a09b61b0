"""The append-only audit log: who changed what, when, from what to what. Staff only."""
import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from services import audit
from services.formats import utc_bounds
from services.labels import AUDIT_ENTITY_TYPES
from web.access import staff_required
from web.audit.forms import AuditFilterForm
from web.filters import paginate

bp = Blueprint("audit", __name__)


# The download's first names of its dates, still read: ?from=&to= (the page's are date_from, date_to)
DATE_ALIASES = {"from": "date_from", "to": "date_to"}


def filtered(args) -> tuple[AuditFilterForm, sa.Select, bool]:
    """(form, entries, valid): the log's filters read from a query string, the page's or its
    download's (which also reads ``from``/``to``); the days are days in the province's zone, both
    included. Invalid filters (a date outside 2000-2100, an end before the start, a bad e-mail)
    select every entry, and the form holds the messages."""
    data = MultiDict(args)
    for old, new in DATE_ALIASES.items():
        if old in data and new not in data:
            data[new] = data[old]
    form = AuditFilterForm(data)
    known = sorted(set(AUDIT_ENTITY_TYPES) | set(audit.entity_types()))
    form.entity_type.choices = [("", _l("Everything"))] + [(t, AUDIT_ENTITY_TYPES.get(t, t)) for t in known]
    valid = form.validate() if data else True
    if not valid:
        return form, audit.entries(), False
    since, until = utc_bounds(form.date_from.data, form.date_to.data)
    return form, audit.entries(entity_type=form.entity_type.data or "", action=(form.action.data or "").strip(),
                               actor_email=form.actor.data or "", since=since, until=until), True


def page_of(form: AuditFilterForm, stmt: sa.Select, valid: bool):
    """The log page for these filters: 422 with the form's messages when they are invalid."""
    query_args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("audit/list.html", form=form, page=paginate(stmt, request.args), changes=audit.changes,
                           query_args=query_args), 200 if valid else 422


@bp.route("/audit")
@staff_required
def index():
    return page_of(*filtered(request.args))
