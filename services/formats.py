"""How dates, times and numbers are written for people: one place, backed by Babel, in the current
locale (Flask-Babel's) and the province's time zone (``BABEL_DEFAULT_TIMEZONE``, Asia/Ho_Chi_Minh).

Pages use these as Jinja filters (``|date``, ``|datetime``, ``|decimal``, ``|percent``, ``|number``,
registered in web/__init__.py; Flask-Babel's own ``dateformat`` & co. are taken away there so a
template cannot pick another convention); e-mails and messages built in services call them directly.

- A day is written 29/11/2026 in every language, the way a civil servant here writes it (Babel's
  own patterns would give "29 thg 11, 2026" in Vietnamese and "Nov 29, 2026" in English: a page
  read in English is still about Lào Cai, and its dates are compared with Vietnamese documents).
- A time is 24-hour, "22:42", in every language, in the province's zone, joined to the date as
  the locale joins them ("22:42 29/11/2026" in Vietnamese, "29/11/2026, 22:42" in English).
  Stored times are naive UTC.
- Numbers use the locale's symbols: "36,74" and "+4,2%" in Vietnamese, "36.74" and "+4.2%" in English.
- A day people pick (a filter's "from"/"to", a deadline, "today") is a day in the province's zone:
  :func:`local_today` and :func:`utc_bounds` turn it into the stored clock.

The API is not written with these: it keeps ISO 8601 UTC and plain JSON numbers.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_skeleton, get_datetime_format
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    get_timezone,
    to_user_timezone,
    to_utc,
)

from models.people import utcnow

DATE_PATTERN = "dd/MM/yyyy"  # every language (see above)
TIME_PATTERN = "HH:mm"       # 24-hour, every language
# A month, where Babel's own (skeleton "yMMM": "thg 11 2026") is not what people write.
MONTH_PATTERNS = {"vi": "MM/yyyy"}


def day(value: date | datetime | None) -> str:
    """A calendar day (a datetime is first moved into the province's zone): 29/11/2026 in vi."""
    if value is None:
        return ""
    return format_date(value, DATE_PATTERN)


def month(value: date) -> str:
    """A calendar month: 11/2026 in vi, Nov 2026 in en."""
    locale = get_locale()
    pattern = MONTH_PATTERNS.get(locale.language)
    return format_date(value, pattern) if pattern else format_skeleton("yMMM", value, locale=locale)


def moment(value: datetime | None) -> str:
    """A stored (naive UTC) time as the province's local date and 24-hour time: 22:42 29/11/2026 in vi,
    29/11/2026, 22:42 in en."""
    if value is None:
        return ""
    locale = get_locale()
    pattern = str(get_datetime_format("medium", locale)).replace("{0}", TIME_PATTERN).replace("{1}", DATE_PATTERN)
    return format_datetime(value, pattern)


def wall_clock(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as the province's wall-clock time, still naive: what a spreadsheet
    cell holds (a cell has no zone, so its column's header names it)."""
    if value is None:
        return None
    return to_user_timezone(value).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    """The province's calendar day (``BABEL_DEFAULT_TIMEZONE``) of a stored (naive UTC) time."""
    return to_user_timezone(moment).date()


def local_today() -> date:
    """Today's date in the province's zone (the server's clock may run on UTC: from 00:00 to 07:00
    local time its date is yesterday's)."""
    return local_date(utcnow())


def day_start(value: date) -> datetime:
    """00:00 of a day in the province's zone as the database stores times (naive UTC): 29/11/2026
    -> datetime(2026, 11, 28, 17, 0)."""
    return to_utc(datetime.combine(value, time.min))


def utc_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The stored (naive UTC) times [since, until) of the local days ``first`` to ``last``, both
    included: from 00:00 of ``first`` to the end of ``last`` in the province's zone. A missing day
    leaves its side open (None)."""
    return (day_start(first) if first else None,
            day_start(last + timedelta(days=1)) if last else None)


def zone_name() -> str:
    """The zone times are shown in, for a label: "GMT+07:00"."""
    return format_datetime(datetime(2026, 1, 1), "ZZZZ") if get_timezone() else ""


def decimal(value: float | None, digits: int = 2) -> str:
    """A number with exactly `digits` decimals: 36,74 in vi, 36.74 in en."""
    if value is None:
        return ""
    return format_decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))


def number(value: float | int | None) -> str:
    """A count or a measure as the locale writes it, as many decimals as it has (1.234 in vi)."""
    return "" if value is None else format_decimal(value)


def percent(fraction: float | None, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage with at most `digits` decimals: 0.516 -> 51,6% in vi, 51.6% in en,
    0.5 -> 50%; `signed` writes "+4,2%"."""
    if fraction is None:
        return ""
    body = "#,##0" + ("." + "#" * digits if digits else "") + "%"
    return format_percent(fraction, f"+{body};-{body}" if signed else body)
