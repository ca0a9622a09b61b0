"""The lists as tables (ideas, needs, orders, proposals, the audit log), with Vietnamese headers.

Exports are documents of the Department and are always in Vietnamese, whatever language the
reader uses. The words in the cells (a kind, a stage, a proposal's state, ...) are the pages' own
labels from services.labels, rendered in Vietnamese, so a spreadsheet says what the pages say.
The column headers, by contrast, are data here and not interface strings: they are the names of
the document's columns, which the importer also reads back (services.imports.COLUMNS), so they
must not move when a translator rewords a page, and they never need another language.
Each list keeps the visibility rules of its page: a list export is the page's query without
paging, and a confidential need's company and details are blanked for anyone but staff and its
author.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale

from extensions import db
from models import Idea, ResearchOrder, TechnologyNeed, User
from models.people import is_staff, utcnow
from services import indicators, search, submissions
from services.formats import wall_clock
from services.labels import (
    AUDIT_ENTITY_TYPES,
    FIGURE_NOTES,
    IDEA_KINDS,
    LANGUAGES,
    MATCH_BANDS,
    PROPOSAL_SOURCES,
    PROPOSAL_STATES,
    REJECT_REASONS,
    STAGES,
    STATUSES,
    SYSTEM_ACTOR,
    URGENCIES,
    VISIBILITIES,
    YES_NO,
    label,
)
from services.submission_types import BY_SLUG, type_of
from services.submissions import BrowseFilters
from services.tables import Sheet

# A time column's header says its zone: times are written as the province's wall clock (a stored
# time is UTC), and a cell cannot say so itself.
LOCAL_TIME = " (giờ Việt Nam)"

# The documents' columns: {field: Vietnamese header}.
IDEA_COLUMNS = {
    "id": "Mã số", "title": "Tiêu đề", "kind": "Loại", "summary": "Tóm tắt", "description": "Mô tả",
    "keywords": "Từ khóa", "stage": "Giai đoạn", "trl": "TRL", "sectors": "Lĩnh vực", "place": "Xã/phường",
    "former_district": "Huyện cũ", "language": "Ngôn ngữ", "team": "Nhóm", "organisation": "Trường hoặc tổ chức",
    "event": "Cuộc thi/hackathon", "author": "Tác giả", "published_at": "Ngày đăng" + LOCAL_TIME,
}
IDEA_STAFF_COLUMNS = {"author_email": "E-mail tác giả", "visibility": "Ai được xem", "status": "Trạng thái"}
NEED_COLUMNS = {
    "id": "Mã số", "title": "Tiêu đề", "organisation": "Doanh nghiệp/HTX", "problem": "Vấn đề",
    "desired_outcome": "Kết quả mong muốn", "budget_min": "Ngân sách từ (VNĐ)", "budget_max": "Ngân sách đến (VNĐ)",
    "deadline": "Hạn chót", "required_stage": "Giai đoạn giải pháp chấp nhận", "confidential": "Bảo mật",
    "sectors": "Lĩnh vực", "place": "Xã/phường", "former_district": "Huyện cũ", "language": "Ngôn ngữ",
    "published_at": "Ngày đăng" + LOCAL_TIME,
}
ORDER_COLUMNS = {
    "id": "Mã số", "title": "Tiêu đề", "ordering_body": "Đơn vị đặt hàng", "urgency": "Mức độ cấp thiết",
    "objectives": "Mục tiêu", "main_content": "Nội dung chính", "expected_products": "Sản phẩm dự kiến",
    "application_place": "Địa chỉ ứng dụng", "duration_months": "Thời gian thực hiện (tháng)",
    "budget_state": "Ngân sách nhà nước (VNĐ)", "budget_other": "Nguồn khác (VNĐ)",
    "proposal_deadline": "Hạn nhận đề xuất", "sectors": "Lĩnh vực", "place": "Xã/phường",
    "former_district": "Huyện cũ", "language": "Ngôn ngữ", "published_at": "Ngày đăng" + LOCAL_TIME,
}
PROPOSAL_COLUMNS = {
    "id": "Mã số", "state": "Trạng thái", "source": "Nguồn", "idea_id": "Mã ý tưởng", "idea": "Ý tưởng",
    "idea_author": "Tác giả ý tưởng", "target_type": "Loại yêu cầu", "target_id": "Mã nhu cầu/đặt hàng",
    "target": "Nhu cầu/đặt hàng", "band": "Mức phù hợp khi đề xuất", "reviewer": "Cán bộ xem xét",
    "reject_reason": "Lý do từ chối", "note": "Ghi chú của người đề xuất",
    "decision_note": "Ghi chú khi quyết định", "created_at": "Ngày tạo" + LOCAL_TIME,
    "decided_at": "Ngày quyết định" + LOCAL_TIME, "introduced_at": "Ngày giới thiệu" + LOCAL_TIME,
    "closed_at": "Ngày đóng" + LOCAL_TIME,
}
AUDIT_COLUMNS = {
    "id": "Mã số", "created_at": "Thời điểm" + LOCAL_TIME, "actor": "Người thực hiện", "action": "Hành động",
    "entity_type": "Đối tượng", "entity_id": "Mã đối tượng", "before": "Trước", "after": "Sau",
}
DOCUMENT_LOCALE = "vi"
INDICATORS_COVER = "Thông tin chung"

Table = tuple[list[str], list[list[Any]]]




def _place(item) -> tuple[str, str]:
    return (item.place.name, item.place.former_district) if item.place else ("", "")


def _sectors(item) -> str:
    return "; ".join(s.name_vi for s in item.sectors)


def _table(columns: dict[str, str], records: Iterable[dict[str, Any]]) -> Table:
    return list(columns.values()), [[rec.get(key) for key in columns] for rec in records]


# --- the three kinds of submission ---------------------------------------------------

def submissions_table(slug: str, user: User | None, filters: BrowseFilters) -> Table:
    """The list page of `slug` ("ideas", "needs", "orders") as a table, for this viewer, in the page's
    order. Raises ServiceError("unknown_sort") as the page does."""
    items = search.find_all(BY_SLUG[slug], user, filters)
    with force_locale(DOCUMENT_LOCALE):
        return {"ideas": _ideas, "needs": _needs, "orders": _orders}[slug](items, user)


def _ideas(items: list[Idea], user: User | None) -> Table:
    staff = is_staff(user)
    columns = {**IDEA_COLUMNS, **(IDEA_STAFF_COLUMNS if staff else {})}
    records = []
    for idea in items:
        place, district = _place(idea)
        records.append({
            "id": idea.id, "title": idea.title, "kind": label(IDEA_KINDS, idea.kind), "summary": idea.summary,
            "description": idea.description, "keywords": idea.keywords, "stage": label(STAGES, idea.stage),
            "trl": idea.trl, "sectors": _sectors(idea), "place": place, "former_district": district,
            "language": label(LANGUAGES, idea.language), "team": idea.team, "organisation": idea.organisation,
            "event": idea.event, "author": idea.author, "published_at": wall_clock(idea.published_at),
            # an author without an account has no e-mail here: the idea is held by a staff member
            "author_email": "" if idea.held_for_author else idea.owner.email,
            "visibility": label(VISIBILITIES, idea.visibility), "status": label(STATUSES, idea.status),
        })
    return _table(columns, records)


def _needs(items: list[TechnologyNeed], user: User | None) -> Table:
    records = []
    for need in items:
        place, district = _place(need)
        details = submissions.can_see_details(user, need)
        records.append({
            "id": need.id, "title": need.title,
            # The page's rule: a confidential need's company and details only for staff and the author.
            "organisation": need.organisation_name if details else "",
            "problem": need.problem if details else "", "desired_outcome": need.desired_outcome if details else "",
            "budget_min": need.budget_min, "budget_max": need.budget_max, "deadline": need.deadline,
            "required_stage": label(STAGES, need.required_stage), "confidential": label(YES_NO, need.confidential),
            "sectors": _sectors(need), "place": place, "former_district": district,
            "language": label(LANGUAGES, need.language), "published_at": wall_clock(need.published_at),
        })
    return _table(NEED_COLUMNS, records)


def _orders(items: list[ResearchOrder], user: User | None) -> Table:
    records = []
    for order in items:
        place, district = _place(order)
        records.append({
            "id": order.id, "title": order.title, "ordering_body": order.ordering_body,
            "urgency": label(URGENCIES, order.urgency), "objectives": order.objectives,
            "main_content": order.main_content, "expected_products": order.expected_products,
            "application_place": order.application_place, "duration_months": order.duration_months,
            "budget_state": order.budget_state, "budget_other": order.budget_other,
            "proposal_deadline": order.proposal_deadline, "sectors": _sectors(order), "place": place,
            "former_district": district, "language": label(LANGUAGES, order.language),
            "published_at": wall_clock(order.published_at),
        })
    return _table(ORDER_COLUMNS, records)


# --- staff lists -----------------------------------------------------------------

def proposals_table(stmt: sa.Select) -> Table:
    """Proposals selected by `stmt` (e.g. services.proposals.queue()); for staff only: every name is
    shown, confidential needs included."""
    records = []
    with force_locale(DOCUMENT_LOCALE):
        for p in db.session.scalars(stmt):
            target = p.target
            records.append({
                "id": p.id, "state": label(PROPOSAL_STATES, p.state), "source": label(PROPOSAL_SOURCES, p.source),
                "idea_id": p.idea_id, "idea": p.idea.title, "idea_author": p.idea.author,
                "target_type": str(type_of(target).label).capitalize(), "target_id": target.id,
                "target": target.title, "band": label(MATCH_BANDS, p.band),
                "reviewer": p.reviewer.full_name if p.reviewer else "",
                "reject_reason": label(REJECT_REASONS, p.reject_reason), "note": p.note,
                "decision_note": p.decision_note,
                "created_at": wall_clock(p.created_at), "decided_at": wall_clock(p.decided_at),
                "introduced_at": wall_clock(p.introduced_at), "closed_at": wall_clock(p.closed_at),
            })
    return _table(PROPOSAL_COLUMNS, records)


def audit_table(stmt: sa.Select) -> Table:
    """Audit entries selected by `stmt` (services.audit.entries()); before/after as recorded (JSON)."""
    with force_locale(DOCUMENT_LOCALE):
        system = str(SYSTEM_ACTOR)
        records = [{
            "id": e.id, "created_at": wall_clock(e.created_at), "actor": e.actor.email if e.actor else system,
            "action": e.action, "entity_type": label(AUDIT_ENTITY_TYPES, e.entity_type), "entity_id": e.entity_id,
            "before": e.before, "after": e.after,
        } for e in db.session.scalars(stmt)]
    return _table(AUDIT_COLUMNS, records)



# --- the indicators ------------------------------------------------------------------

def indicators_workbook(period: indicators.Period) -> list[Sheet]:
    """Every figure of the reports page over `period`, one sheet each, after a cover sheet that says
    the period, when the workbook was made (the province's time) and what each sheet holds."""
    figures = indicators.dashboard(period)
    sheets = [Sheet(f.title_vi, *f.table()) for f in figures]
    with force_locale(DOCUMENT_LOCALE):
        contents = [[sheet.title, f.title_vi + (f" ({FIGURE_NOTES[f.key]})" if f.key in FIGURE_NOTES else "")]
                    for sheet, f in zip(sheets, figures)]
    cover = Sheet(INDICATORS_COVER, ["Mục", "Nội dung"], [
        ["Báo cáo", "Chỉ số đổi mới sáng tạo tỉnh Lào Cai"],
        ["Từ ngày", period.start], ["Đến ngày", period.end],
        ["Lập lúc" + LOCAL_TIME, wall_clock(utcnow()).replace(second=0, microsecond=0)],
        *contents,
    ])
    return [cover, *sheets]
