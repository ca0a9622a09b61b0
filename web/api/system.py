"""The caller, and the province's indicators (staff only, as on the reports page)."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from services import indicators
from services.bounds import FIRST_DAY, LAST_DAY
from services.labels import FIGURE_SERIES, FIGURE_TITLES
from web.api import API_PREFIX, api_blueprint
from web.api.auth import require_user
from web.api.problems import api_abort, problems
from web.api.schemas import IndicatorsSchema, MeSchema, PeriodArgs
from web.messages import message_for

ME_FIELDS = ("id", "email", "full_name", "role", "preferred_language")

bp = api_blueprint("api_system", __name__, url_prefix=API_PREFIX, description="The caller and the indicators.")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _period(start: str | None, end: str | None) -> indicators.Period:
    try:
        period = indicators.parse_period(start, end)
    except indicators.PeriodError as error:
        api_abort(422, errors={"from" if _start_at_fault(error, start) else "to": [message_for(error)]},
                  problem="validation")
    return period


def _start_at_fault(error: indicators.PeriodError, start: str | None) -> bool:
    """Which of the two days the message belongs to (the end, unless the start is the culprit)."""
    if not start:
        return False
    if error.code == "bad_date":
        return not _is_date(start)
    if error.code == "date_range":
        return not FIRST_DAY <= date.fromisoformat(start) <= LAST_DAY
    return False


def _figure(f: indicators.Figure) -> dict:
    return {"key": f.key, "title": str(FIGURE_TITLES.get(f.key, f.key)), "group": f.group, "unit": f.unit,
            "series": list(f.series), "series_labels": [str(FIGURE_SERIES.get(s, s)) for s in f.series],
            "rows": [{"code": r.code, "label": indicators.row_label(f, r), "values": list(r.values)}
                     for r in f.rows],
            "summary": f.summary}


@bp.route("/me", methods=["GET"])
@bp.response(200, MeSchema)
@problems(bp)
def me():
    """Who the token belongs to (all null without a token)."""
    if not current_user.is_authenticated:
        return dict.fromkeys(ME_FIELDS)
    return {name: getattr(current_user, name) for name in ME_FIELDS}


@bp.route("/indicators", methods=["GET"])
@bp.arguments(PeriodArgs, location="query", as_kwargs=True)
@bp.response(200, IndicatorsSchema)
@problems(bp, 403, 422)
def indicators_view(start, end):
    """The indicators of the reports page over a period (both days included; default: this year)."""
    user = require_user()
    if not user.is_staff:
        api_abort(403, _l("Only department staff see the indicators."))
    period = _period(start, end)
    return {"start": period.start, "end": period.end, "total_ideas": indicators.total_ideas(period),
            "figures": [_figure(f) for f in indicators.dashboard(period)]}
