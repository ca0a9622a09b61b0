"""Staff only: the indicators, their tables, staff list downloads, decisions as a labelled set, imports."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from models import ProposalState
from services import decisions, exports, imports, indicators, proposals, ranker
from services.formats import local_today
from web.access import staff_required
from web.audit.routes import filtered as audit_filters
from web.audit.routes import page_of as audit_page
from web.downloads import table_response, workbook_response
from web.messages import message_for
from web.reports.charts import chart
from web.reports.forms import ConfirmForm, ImportForm, idea_row_validator

bp = Blueprint("reports", __name__)
FORMAT = "<any(xlsx, csv):fmt>"
FIGURE = f"<any({', '.join(indicators.FIGURES)}):figure>"
STATE_CODES = {s.value for s in ProposalState}  # ?state= narrows the proposals download to one of them


# Every page here is for staff: checked once for the whole blueprint.
bp.before_request(staff_required(lambda: None))


def _period() -> tuple[indicators.Period, str | None]:
    """The period asked for, or the current year with a message saying why."""
    try:
        return indicators.parse_period(request.args.get("from"), request.args.get("to")), None
    except indicators.PeriodError as error:
        return indicators.current_year(), message_for(error)


@bp.route("/")
def index():
    period, error = _period()
    charts = [chart(f) for f in indicators.dashboard(period)]
    return render_template("reports/index.html", period=period, charts=charts, error=error,
                           total=indicators.total_ideas(period), ranker=ranker.info()), 422 if error else 200


@bp.route(f"/{FIGURE}.{FORMAT}")
def figure_table(figure, fmt):
    period, error = _period()
    if error:
        abort(422)
    headers, rows = indicators.figure(figure, period).table()
    return table_response(fmt, f"{figure}-{period.start}-{period.end}", headers, rows)


@bp.route("/indicators.xlsx")
def indicators_workbook():
    """Every figure of the page in one workbook: a cover sheet, then a sheet per figure."""
    period, error = _period()
    if error:
        abort(422)
    return workbook_response(f"indicators-{period.start}-{period.end}", exports.indicators_workbook(period))


@bp.route("/decisions.json")
def decisions_json():
    """The staff's decisions in the labelled-set schema; all of them unless from/to narrow them."""
    period = None
    if request.args.get("from") or request.args.get("to"):
        period, error = _period()
        if error:
            abort(422)
    body = json.dumps(decisions.eval_set(period), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=decisions.json"})


@bp.route(f"/proposals.{FORMAT}")
def proposals_table(fmt):
    state = request.args.get("state", "")
    stmt = proposals.queue(states=(state,) if state in STATE_CODES else None)
    headers, rows = exports.proposals_table(stmt)
    return table_response(fmt, f"proposals-{local_today()}", headers, rows)


@bp.route(f"/audit.{FORMAT}")
def audit_table(fmt):
    """The audit log with the log page's filters (web/audit/routes.py ``filtered``: entity type,
    action, actor's e-mail, from/to days in the province's zone, both included); invalid filters
    answer the log page with their messages (422), never a file of everything."""
    form, stmt, valid = audit_filters(request.args)
    if not valid:
        return audit_page(form, stmt, valid)
    first, last = form.date_from.data, form.date_to.data
    name = "audit" + (f"-{first}" if first else "") + (f"-to-{last}" if last else "") if first or last \
        else f"audit-{local_today()}"
    headers, rows = exports.audit_table(stmt)
    return table_response(fmt, name, headers, rows)


# --- bulk import of ideas -------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = imports.preview(current_user, upload.filename or "", upload.read(), idea_row_validator())
        except imports.ImportFileError as problem:
            error = message_for(problem)
        else:
            return redirect(url_for(".import_job", job_id=job.id))
    status = 422 if (error or form.errors) else 200
    return render_template("reports/import.html", form=form, error=error, columns=imports.COLUMNS,
                           required=imports.REQUIRED, locale=str(get_locale())), status


@bp.route(f"/import/template.{FORMAT}")
def import_template(fmt):
    headers, rows = imports.template_table(str(get_locale()))
    return table_response(fmt, "ideas-import-template", headers, rows)


def _job(job_id: int):
    job = imports.get(job_id)
    if job is None:
        abort(404)
    return job


def _job_page(job, form):
    return render_template("reports/import_job.html", job=job, errors=imports.errors_of(job),
                           notes=imports.notes_of(job), rows=imports.preview_rows(job), form=form)


@bp.route("/import/<int:job_id>")
def import_job(job_id):
    return _job_page(_job(job_id), ConfirmForm())


@bp.route("/import/<int:job_id>/confirm", methods=["POST"])
def import_confirm(job_id):
    job = _job(job_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:  # confirmed already, or by someone at the same moment (ConflictError): web/errors.py answers
        imports.confirm(job, current_user)
    except imports.ImportStateError as refused:
        flash(message_for(refused), "error")
        return _job_page(job, form), 403 if refused.code == "not_yours" else 422
    return redirect(url_for(".import_job", job_id=job.id))
