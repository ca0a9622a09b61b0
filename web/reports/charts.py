"""Figures as server-drawn bar charts: geometry here, SVG markup in templates/reports/_chart.html."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from services.formats import number, percent
from services.indicators import Figure, row_label
from services.labels import FIGURE_NOTES, FIGURE_SERIES, FIGURE_TITLES

LABEL_H, BAR_H, GAP, BAR_MAX = 16, 16, 10, 500  # in the 640-wide viewBox of templates/reports/_chart.html


def summary(figure: Figure) -> str | None:
    s = figure.summary
    if figure.key == "approval_rate":
        return _("Approval rate: %(share)s (%(part)s of %(total)s decisions)", share=percent(s["share"] / 100),
                 part=number(s["part"]), total=number(s["total"]))
    if figure.key == "introductions_to_agreements":
        return _("%(share)s of introductions led to an agreement (%(part)s of %(total)s)",
                 share=percent(s["share"] / 100), part=number(s["part"]), total=number(s["total"]))
    if figure.key == "student_share":
        return _("Student projects: %(share)s (%(part)s of %(total)s ideas)", share=percent(s["share"] / 100),
                 part=number(s["part"]), total=number(s["total"]))
    if figure.key == "days_to_introduction":
        if s["median"] is None:
            return _("No introduction in this period.")
        return _("Median: %(days)s days (%(n)s introductions)", days=number(s["median"]), n=number(s["total"]))
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
        label = row_label(figure, row)
        bars = []
        for j, (series, value) in enumerate(zip(figure.series, row.values)):
            width = BAR_MAX * value / peak
            text = percent(value / 100) if figure.unit == "percent" else number(value)
            bars.append(Bar(str(FIGURE_SERIES[series]), f"bar-{j}", top + LABEL_H + j * BAR_H, width, text, width + 6))
        rows.append(ChartRow(label, top + LABEL_H - 4, bars))
        described.append(f"{label}: " + ", ".join(
            f"{b.series} {b.text}" if len(bars) > 1 else b.text for b in bars))
    legend = ([(str(FIGURE_SERIES[s]), f"bar-{j}") for j, s in enumerate(figure.series)]
              if len(figure.series) > 1 else [])
    return Chart(figure.key, str(FIGURE_TITLES[figure.key]),
                 str(FIGURE_NOTES[figure.key]) if figure.key in FIGURE_NOTES else None,
                 summary(figure), max(len(figure.rows), 1) * group_h, rows, legend, "; ".join(described))
