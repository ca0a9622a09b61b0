"""Figures as server-drawn bar charts: geometry here, SVG markup in templates/reports/_chart.html."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, gettext as _, lazy_gettext as _l

from services.indicators import Figure
from services.reference import sector_name
from web.labels import IDEA_KINDS, KIND_TITLES, PROPOSAL_STATES

TITLES = {
    "ideas_by_kind": _l("Ideas by kind"),
    "ideas_by_sector": _l("Ideas by sector"),
    "ideas_by_district": _l("Ideas by former district"),
    "ideas_by_month": _l("Ideas by month"),
    "needs_and_orders": _l("Technology needs and research orders: open and closed"),
    "proposals_by_state": _l("Match proposals by state"),
    "approval_rate": _l("Approval rate of match proposals"),
    "days_to_introduction": _l("Days from an idea's publication to its introduction"),
    "introductions_to_agreements": _l("Introductions that led to an agreement"),
    "student_share": _l("Share of student projects"),
    "district_share": _l("Share of ideas from each former district"),
}
NOTES = {
    "ideas_by_sector": _l("An idea with several sectors counts in each of them."),
    "student_share": _l("Student projects: ideas by student innovators, and every STEM project."),
    "needs_and_orders": _l("Closed: closed or withdrawn, or the deadline has passed."),
    "approval_rate": _l("Approved: approved and every later state; among the proposals decided in the period."),
}
SERIES = {"count": _l("Number"), "open": _l("Open"), "closed": _l("Closed"), "share": _l("Share (%)")}
OTHER_LABELS = {
    "needs": KIND_TITLES["needs"], "orders": KIND_TITLES["orders"],
    "student": _l("Students and STEM projects"), "other": _l("Other"),
    "approved": _l("Approved"), "rejected": _l("Rejected"), "agreement": _l("Agreement signed"),
}
LABEL_H, BAR_H, GAP, BAR_MAX = 16, 16, 10, 500  # in the 640-wide viewBox of templates/reports/_chart.html


def row_label(figure: Figure, code: str) -> str:
    if figure.group == "kind":
        return str(IDEA_KINDS.get(code, code))
    if figure.group == "state":
        return str(PROPOSAL_STATES.get(code, code))
    if figure.group == "sector":
        return sector_name(code)
    if figure.group == "district":
        return code or _("Unknown")
    if figure.group == "days":
        return _("%(range)s days", range=code)
    if figure.group in ("side", "outcome"):
        return str(OTHER_LABELS.get(code, code))
    return code


def summary(figure: Figure) -> str | None:
    s = figure.summary
    if figure.key == "approval_rate":
        return _("Approval rate: %(share)s%% (%(part)s of %(total)s decisions)", share=format_decimal(s["share"]),
                 part=s["part"], total=s["total"])
    if figure.key == "introductions_to_agreements":
        return _("%(share)s%% of introductions led to an agreement (%(part)s of %(total)s)",
                 share=format_decimal(s["share"]), part=s["part"], total=s["total"])
    if figure.key == "student_share":
        return _("Student projects: %(share)s%% (%(part)s of %(total)s ideas)", share=format_decimal(s["share"]),
                 part=s["part"], total=s["total"])
    if figure.key == "days_to_introduction":
        if s["median"] is None:
            return _("No introduction in this period.")
        return _("Median: %(days)s days (%(n)s introductions)", days=format_decimal(s["median"]), n=s["total"])
    return None


@dataclass
class Bar:
    series: str
    css: str
    y: float
    width: float
    text: str
    text_x: float


@dataclass
class ChartRow:
    label: str
    y: float
    bars: list[Bar]


@dataclass
class Chart:
    key: str
    title: str
    note: str | None
    summary: str | None
    height: float
    rows: list[ChartRow]
    legend: list[tuple[str, str]]
    description: str


def chart(figure: Figure) -> Chart:
    """Horizontal bars, a label above each group, the value at each bar's end."""
    peak = figure.peak
    group_h = LABEL_H + BAR_H * len(figure.series) + GAP
    rows, described = [], []
    for i, row in enumerate(figure.rows):
        top = i * group_h
        label = row_label(figure, row.code)
        bars = []
        for j, (series, value) in enumerate(zip(figure.series, row.values)):
            width = BAR_MAX * value / peak
            text = format_decimal(value) + ("%" if figure.unit == "percent" else "")
            bars.append(Bar(str(SERIES[series]), f"bar-{j}", top + LABEL_H + j * BAR_H, width, text, width + 6))
        rows.append(ChartRow(label, top + LABEL_H - 4, bars))
        described.append(f"{label}: " + ", ".join(
            f"{b.series} {b.text}" if len(bars) > 1 else b.text for b in bars))
    legend = [(str(SERIES[s]), f"bar-{j}") for j, s in enumerate(figure.series)] if len(figure.series) > 1 else []
    return Chart(figure.key, str(TITLES[figure.key]), str(NOTES[figure.key]) if figure.key in NOTES else None,
                 summary(figure), max(len(figure.rows), 1) * group_h, rows, legend, "; ".join(described))
