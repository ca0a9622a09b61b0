"""The province's indicators over a period: queries only, nothing is written.

Definitions (the reports page and its downloads say the same):
- A period is a range of calendar days in Vietnam's time (UTC+7), both ends included; by
  default the current year.
- Ideas counted: ideas first published within the period that are still published or closed
  (drafts were never submitted, withdrawn ones were taken back by their authors).
  - by sector: an idea with several sectors counts once in each of them;
  - by former district: the former district of the idea's commune or ward ("Unknown" if none);
  - by month: the month of publication;
  - student projects: ideas whose author is a student innovator (User.innovator_type "student")
    or whose kind is "stem_project" (school STEM projects are entered by teachers too); the
    share is over all counted ideas;
  - share from each former district: that district's ideas / all counted ideas.
- Needs and orders open vs closed: those first published within the period. Open: still
  published and the deadline (need) or proposal deadline (order) not passed on `today` (or
  none). Closed: closed or withdrawn by the author, or published with the deadline passed.
- Proposals by state: proposals created within the period, by their state now.
- Approval rate: among proposals decided within the period (decided_at), the approved ones
  (approved or any state after it: in discussion, agreement signed, no agreement, closed after an
  introduction) / (those + rejected).
- Days to introduction: for each proposal introduced within the period (introduced_at), the days
  from its idea's publication to the introduction; the median, and how many fall in 0-7, 8-30,
  31-90 and over 90 days.
- Introductions that led to agreements: of the proposals introduced within the period, those
  whose agreement was signed (state "agreement_signed", or closed after it: the audit log holds
  the move to "agreement_signed").

Rows are named by services.labels in the reader's language (row_label), the words the pages show;
a download is a Department document and names them in Vietnamese. The titles and column headers
of downloads are data here (title_vi, label_header_vi, series_vi): the documents' own names.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from extensions import db
from models import AuditEntry, Idea, IdeaKind, MatchProposal, Place, ProposalState, Sector, Status, User
from models.submissions import idea_sectors
from services import collation
from services.bounds import FIRST_DAY, LAST_DAY
from services.errors import ServiceError
from services.formats import day, local_today, month, utc_bounds, wall_clock
from services.labels import FIGURE_ROWS, IDEA_KINDS, PROPOSAL_STATES, UNKNOWN, label
from services.submission_types import TARGETS

S = ProposalState
COUNTED = (Status.PUBLISHED.value, Status.CLOSED.value)
APPROVED_OR_LATER = (S.APPROVED.value, S.IN_DISCUSSION.value, S.AGREEMENT_SIGNED.value, S.NO_AGREEMENT.value)
STUDENT = "student"
DOCUMENT_LOCALE = "vi"
DAY_BUCKETS = (("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), (">90", 91, None))


class PeriodError(ServiceError):
    """A period the user typed that cannot be used: "bad_date", "reversed" or "date_range" (a day
    outside services.bounds' years: a typing mistake, and too close to year 1 or 9999 for the
    arithmetic of local days in UTC)."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[from, until) in UTC, as the database stores times."""
        return utc_bounds(self.start, self.end)

    def contains(self, column) -> sa.ColumnElement[bool]:
        since, until = self.utc_bounds
        return sa.and_(column >= since, column < until)

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def as_args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def current_year(today: date | None = None) -> Period:
    today = today or local_today()
    return Period(date(today.year, 1, 1), date(today.year, 12, 31))


def parse_period(start: str | None, end: str | None, today: date | None = None) -> Period:
    """A period from two ISO dates ("2025-01-31"); a missing end defaults to the current year's."""
    default = current_year(today)
    try:
        first = date.fromisoformat(start) if start else default.start
        last = date.fromisoformat(end) if end else default.end
    except ValueError as exc:
        raise PeriodError("bad_date") from exc
    if not (FIRST_DAY <= first <= LAST_DAY and FIRST_DAY <= last <= LAST_DAY):
        raise PeriodError("date_range", first=day(FIRST_DAY), last=day(LAST_DAY))
    if last < first:
        raise PeriodError("reversed")
    return Period(first, last)


@dataclass(frozen=True)
class Row:
    """One bar (or group of bars). `code` says what it counts (row_label() turns it into words);
    `names`, for a row of reference data that admins name themselves (a sector), its names by
    language."""

    code: str
    values: tuple[float, ...]
    names: dict[str, str] | None = None


@dataclass
class Figure:
    key: str                  # its name in URLs: /reports/<key>.xlsx
    title_vi: str             # the table's title in downloads
    group: str                # what the rows are: kind, sector, district, month, state, side, outcome, days
    label_header_vi: str
    series: tuple[str, ...]   # codes of the value columns: count, open, closed, share, ...
    series_vi: tuple[str, ...]
    rows: list[Row]
    unit: str = "count"       # count | percent
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def peak(self) -> float:
        return max((v for r in self.rows for v in r.values), default=0) or 1

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows for a download, in Vietnamese whatever the reader's language."""
        with force_locale(DOCUMENT_LOCALE):
            return [self.label_header_vi, *self.series_vi], [[row_label(self, r), *r.values] for r in self.rows]


def row_label(figure: Figure, row: Row) -> str:
    """The words for a row in the current language: what the page, the API and the downloads show."""
    code = row.code
    if figure.group == "kind":
        return label(IDEA_KINDS, code)
    if figure.group == "state":
        return label(PROPOSAL_STATES, code)
    if figure.group == "sector" and row.names:
        return row.names["en" if str(get_locale()) == "en" else "vi"]  # as models.Sector.name()
    if figure.group == "district":
        return code or str(UNKNOWN)
    if figure.group == "month":  # code "2026-11"
        return month(date.fromisoformat(code + "-01"))
    if figure.group == "days":
        return _("%(range)s days", range=code)
    if figure.group in ("side", "outcome"):
        return label(FIGURE_ROWS, code)
    return code


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


# --- ideas ---------------------------------------------------------------------------

def _counted_ideas(period: Period) -> sa.Select:
    return sa.select(Idea.id).where(Idea.status.in_(COUNTED), period.contains(Idea.published_at))


def total_ideas(period: Period) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(_counted_ideas(period).subquery())) or 0


def ideas_by_kind(period: Period) -> Figure:
    counts = dict(db.session.execute(
        sa.select(Idea.kind, sa.func.count(Idea.id)).where(Idea.id.in_(_counted_ideas(period))).group_by(Idea.kind)
    ).all())
    rows = [Row(k.value, (counts.get(k.value, 0),)) for k in IdeaKind]
    return Figure("ideas_by_kind", "Ý tưởng theo loại", "kind", "Loại", ("count",), ("Số ý tưởng",), rows)


def ideas_by_sector(period: Period) -> Figure:
    counts = dict(db.session.execute(
        sa.select(idea_sectors.c.sector_id, sa.func.count(idea_sectors.c.idea_id))
        .where(idea_sectors.c.idea_id.in_(_counted_ideas(period))).group_by(idea_sectors.c.sector_id)
    ).all())
    sectors = db.session.scalars(sa.select(Sector).order_by(Sector.id))
    rows = [Row(s.code, (counts.get(s.id, 0),), names={"vi": s.name_vi, "en": s.name_en}) for s in sectors]
    return Figure("ideas_by_sector", "Ý tưởng theo lĩnh vực", "sector", "Lĩnh vực", ("count",), ("Số ý tưởng",),
                  rows, summary={"note": "multi_sector"})


def _district_counts(period: Period) -> dict[str, int]:
    result = db.session.execute(
        sa.select(Place.former_district, sa.func.count(Idea.id)).select_from(Idea)
        .outerjoin(Place, Idea.place_id == Place.id)
        .where(Idea.id.in_(_counted_ideas(period))).group_by(Place.former_district)
    ).all()
    return {district or "": n for district, n in result}


def _district_rows(counts: dict[str, int], value) -> list[Row]:
    districts = collation.by_name(db.session.scalars(sa.select(Place.former_district).distinct()), language="vi")
    rows = [Row(d, (value(counts.get(d, 0)),)) for d in districts]
    if counts.get(""):
        rows.append(Row("", (value(counts[""]),)))
    return rows


def ideas_by_district(period: Period) -> Figure:
    rows = _district_rows(_district_counts(period), lambda n: n)
    return Figure("ideas_by_district", "Ý tưởng theo huyện cũ", "district", "Huyện cũ", ("count",),
                  ("Số ý tưởng",), rows)


def district_share(period: Period) -> Figure:
    counts = _district_counts(period)
    total = sum(counts.values())
    rows = _district_rows(counts, lambda n: _pct(n, total))
    return Figure("district_share", "Tỷ lệ ý tưởng từ mỗi huyện cũ", "district", "Huyện cũ", ("share",),
                  ("Tỷ lệ (%)",), rows, unit="percent", summary={"total": total})


def ideas_by_month(period: Period) -> Figure:
    published = db.session.scalars(sa.select(Idea.published_at).where(Idea.id.in_(_counted_ideas(period))))
    counts = Counter(wall_clock(t).strftime("%Y-%m") for t in published)
    rows = [Row(m, (counts.get(m, 0),)) for m in period.months()]
    return Figure("ideas_by_month", "Ý tưởng theo tháng", "month", "Tháng", ("count",), ("Số ý tưởng",), rows)


def student_share(period: Period) -> Figure:
    is_student = sa.or_(User.innovator_type == STUDENT, Idea.kind == IdeaKind.STEM_PROJECT.value)
    students = db.session.scalar(
        sa.select(sa.func.count(Idea.id)).join(User, Idea.owner_id == User.id)
        .where(Idea.id.in_(_counted_ideas(period)), is_student)) or 0
    total = total_ideas(period)
    rows = [Row("student", (students,)), Row("other", (total - students,))]
    return Figure("student_share", "Tỷ lệ dự án của học sinh, sinh viên", "side", "Nhóm", ("count",),
                  ("Số ý tưởng",), rows, summary={"share": _pct(students, total), "part": students, "total": total})


# --- needs and orders ------------------------------------------------------------------

def needs_and_orders(period: Period, today: date | None = None) -> Figure:
    today = today or local_today()
    rows = []
    for kind in TARGETS:
        model = kind.model
        open_ = model.is_open(today)
        result = db.session.execute(
            sa.select(sa.func.count(model.id).filter(open_), sa.func.count(model.id).filter(sa.not_(open_)))
            .where(model.status.in_((Status.PUBLISHED.value, Status.CLOSED.value, Status.WITHDRAWN.value)),
                   period.contains(model.published_at))
        ).one()
        rows.append(Row(kind.slug, (result[0] or 0, result[1] or 0)))
    return Figure("needs_and_orders", "Nhu cầu và đặt hàng: đang mở và đã đóng", "side", "Loại",
                  ("open", "closed"), ("Đang mở", "Đã đóng"), rows)


# --- proposals -------------------------------------------------------------------------

def proposals_by_state(period: Period) -> Figure:
    counts = dict(db.session.execute(
        sa.select(MatchProposal.state, sa.func.count(MatchProposal.id))
        .where(period.contains(MatchProposal.created_at)).group_by(MatchProposal.state)
    ).all())
    rows = [Row(s.value, (counts.get(s.value, 0),)) for s in ProposalState]
    return Figure("proposals_by_state", "Đề xuất kết nối theo trạng thái", "state", "Trạng thái", ("count",),
                  ("Số đề xuất",), rows)


def _approved_or_later() -> sa.ColumnElement[bool]:
    return sa.or_(MatchProposal.state.in_(APPROVED_OR_LATER),
                  sa.and_(MatchProposal.state == S.CLOSED.value, MatchProposal.introduced_at.is_not(None)))


def approval_rate(period: Period) -> Figure:
    decided = period.contains(MatchProposal.decided_at)
    approved = db.session.scalar(sa.select(sa.func.count(MatchProposal.id)).where(decided, _approved_or_later())) or 0
    rejected = db.session.scalar(sa.select(sa.func.count(MatchProposal.id))
                                 .where(decided, MatchProposal.state == S.REJECTED.value)) or 0
    rows = [Row("approved", (approved,)), Row("rejected", (rejected,))]
    return Figure("approval_rate", "Tỷ lệ duyệt đề xuất kết nối", "outcome", "Quyết định", ("count",),
                  ("Số đề xuất",), rows,
                  summary={"share": _pct(approved, approved + rejected), "part": approved,
                           "total": approved + rejected})


def agreed() -> sa.ColumnElement[bool]:
    """Proposals whose agreement was signed: in that state now, or the audit log holds the move to it."""
    signed_in_log = sa.exists().where(AuditEntry.entity_type == "proposal", AuditEntry.entity_id == MatchProposal.id,
                                      AuditEntry.action == f"proposal.{S.AGREEMENT_SIGNED.value}")
    return sa.or_(MatchProposal.state == S.AGREEMENT_SIGNED.value, signed_in_log)


def days_to_introduction(period: Period) -> Figure:
    pairs = db.session.execute(
        sa.select(Idea.published_at, MatchProposal.introduced_at).join(Idea, MatchProposal.idea_id == Idea.id)
        .where(period.contains(MatchProposal.introduced_at), Idea.published_at.is_not(None))
    ).all()
    days = [max((introduced - published).total_seconds() / 86400, 0.0) for published, introduced in pairs]
    rows = []
    for code, low, high in DAY_BUCKETS:
        n = sum(1 for d in days if int(d) >= low and (high is None or int(d) <= high))
        rows.append(Row(code, (n,)))
    median = round(statistics.median(days), 1) if days else None
    return Figure("days_to_introduction", "Số ngày từ khi đăng ý tưởng đến khi được giới thiệu", "days",
                  "Khoảng thời gian", ("count",), ("Số lần giới thiệu",), rows,
                  summary={"median": median, "total": len(days)})


def introductions_to_agreements(period: Period) -> Figure:
    introduced = period.contains(MatchProposal.introduced_at)
    total = db.session.scalar(sa.select(sa.func.count(MatchProposal.id)).where(introduced)) or 0
    signed = db.session.scalar(sa.select(sa.func.count(MatchProposal.id)).where(introduced, agreed())) or 0
    rows = [Row("agreement", (signed,)), Row("other", (total - signed,))]
    return Figure("introductions_to_agreements", "Giới thiệu dẫn đến thỏa thuận", "outcome", "Kết quả",
                  ("count",), ("Số lần giới thiệu",), rows,
                  summary={"share": _pct(signed, total), "part": signed, "total": total})


# --- all of them -----------------------------------------------------------------------

FIGURES = {
    "ideas_by_kind": ideas_by_kind,
    "ideas_by_sector": ideas_by_sector,
    "ideas_by_district": ideas_by_district,
    "ideas_by_month": ideas_by_month,
    "needs_and_orders": needs_and_orders,
    "proposals_by_state": proposals_by_state,
    "approval_rate": approval_rate,
    "days_to_introduction": days_to_introduction,
    "introductions_to_agreements": introductions_to_agreements,
    "student_share": student_share,
    "district_share": district_share,
}


def figure(key: str, period: Period) -> Figure:
    """One figure by its key (raises KeyError for an unknown key)."""
    return FIGURES[key](period)


def dashboard(period: Period) -> list[Figure]:
    return [compute(period) for compute in FIGURES.values()]
