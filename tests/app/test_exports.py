"""Lists as .xlsx and .csv: Vietnamese headers, the page's filters, and its visibility rules."""
import csv
import io

import pytest
from openpyxl import load_workbook


def _xlsx(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    return list(rows[0]), [dict(zip(rows[0], r)) for r in rows[1:]]


def _csv(response):
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def test_ideas_export_with_vietnamese_headers_and_the_pages_filters(client, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời", kind="stem_project", place_code="xa-bac-ha")
    submit("ideas", owner, title="Ứng dụng du lịch Sa Pa", kind="startup_idea")
    submit("ideas", owner, title="Bản nháp không xuất", publish=False)
    headers, rows = _xlsx(client.get("/ideas/export.xlsx"))
    assert headers[:5] == ["Mã số", "Tiêu đề", "Loại", "Tóm tắt", "Mô tả"]
    assert {r["Tiêu đề"] for r in rows} == {"Máy sấy quế năng lượng mặt trời", "Ứng dụng du lịch Sa Pa"}
    stem = next(r for r in rows if r["Loại"] == "Dự án STEM")
    assert stem["Huyện cũ"] == "Bắc Hà" and stem["Lĩnh vực"] == "Nông nghiệp đặc sản vùng cao"
    _, filtered = _csv(client.get("/ideas/export.csv?type=stem_project"))
    assert [r["Tiêu đề"] for r in filtered] == ["Máy sấy quế năng lượng mặt trời"]
    _, searched = _csv(client.get("/ideas/export.csv?q=Sa+Pa"))
    assert [r["Tiêu đề"] for r in searched] == ["Ứng dụng du lịch Sa Pa"]


def test_exports_use_the_pages_words_in_vietnamese_whatever_the_readers_language(client, make_user, submit,
                                                                                  login_as):
    owner, _ = make_user("innovator")
    idea = submit("ideas", owner, kind="stem_project", stage="prototype")
    login_as("staff")
    page_vi = client.get(f"/ideas/{idea}").get_data(as_text=True)
    client.get("/lang/en")
    assert "Prototype" in client.get(f"/ideas/{idea}").get_data(as_text=True)
    download = client.get("/ideas/export.csv")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    _, rows = _csv(download)
    assert (rows[0]["Loại"], rows[0]["Giai đoạn"], rows[0]["Trạng thái"]) == ("Dự án STEM", "Sản phẩm mẫu", "Đã công bố")
    assert rows[0]["Loại"] in page_vi and rows[0]["Giai đoạn"] in page_vi


def test_the_browse_page_links_to_its_export_with_the_same_filters(client):
    page = client.get("/ideas/?type=stem_project&district=B%E1%BA%AFc+H%C3%A0").get_data(as_text=True)
    assert "/ideas/export.xlsx?type=stem_project&amp;district=" in page
    assert "/ideas/export.csv?type=stem_project" in page


def test_members_only_ideas_and_author_emails_follow_the_viewer(client, make_user, submit, login_as, auth):
    owner, owner_email = make_user("innovator")
    submit("ideas", owner, title="Ý tưởng chỉ cho thành viên", visibility="members")
    _, anonymous = _csv(client.get("/ideas/export.csv"))
    assert anonymous == []
    login_as("business")
    headers, rows = _csv(client.get("/ideas/export.csv"))
    assert [r["Tiêu đề"] for r in rows] == ["Ý tưởng chỉ cho thành viên"] and "E-mail tác giả" not in headers
    auth.logout()
    login_as("staff")
    _, rows = _csv(client.get("/ideas/export.csv"))
    assert rows[0]["E-mail tác giả"] == owner_email


@pytest.mark.parametrize("viewer", [None, "business", "innovator"])
def test_a_confidential_need_is_blanked_for_others(client, make_user, submit, auth, viewer):
    owner, _ = make_user("business")
    submit("needs", owner, title="Nhu cầu bảo mật về sấy quế", confidential=True,
           organisation="HTX Bí Mật", problem="Chi tiết bí mật của doanh nghiệp.")
    if viewer:
        _, email = make_user(viewer)
        auth.login(email)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/needs/export.{fmt}")
        headers, rows = _csv(response) if fmt == "csv" else _xlsx(response)
        assert rows[0]["Tiêu đề"] == "Nhu cầu bảo mật về sấy quế"
        assert rows[0]["Doanh nghiệp/HTX"] in ("", None) and rows[0]["Vấn đề"] in ("", None)
        assert "Bí Mật".encode() not in response.data and b"HTX B" not in response.data


@pytest.mark.parametrize("viewer", ["staff", "owner"])
def test_staff_and_the_author_see_a_confidential_need_in_full(client, make_user, submit, auth, viewer):
    owner, owner_email = make_user("business")
    submit("needs", owner, confidential=True, organisation="HTX Bí Mật", problem="Chi tiết bí mật của doanh nghiệp.")
    auth.login(owner_email if viewer == "owner" else make_user("staff")[1])
    _, rows = _csv(client.get("/needs/export.csv"))
    assert rows[0]["Doanh nghiệp/HTX"] == "HTX Bí Mật" and rows[0]["Vấn đề"] == "Chi tiết bí mật của doanh nghiệp."


def test_orders_export(client, make_user, submit):
    staff, _ = make_user("staff")
    submit("orders", staff, title="Đặt hàng nghiên cứu giống chè", duration_months=18)
    headers, rows = _xlsx(client.get("/orders/export.xlsx"))
    assert "Đơn vị đặt hàng" in headers
    assert rows[0]["Tiêu đề"] == "Đặt hàng nghiên cứu giống chè" and rows[0]["Thời gian thực hiện (tháng)"] == 18


def test_a_title_that_looks_like_a_formula_stays_text(client, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="=HYPERLINK(\"http://x\") ý tưởng")
    book = load_workbook(io.BytesIO(client.get("/ideas/export.xlsx").data))
    cell = book.active.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    _, rows = _csv(client.get("/ideas/export.csv"))
    assert rows[0]["Tiêu đề"].startswith("'=")


def _proposal(app, make_user, submit, state="approved"):
    from extensions import db
    from models import MatchProposal
    idea = submit("ideas", make_user("innovator")[0])
    need = submit("needs", make_user("business")[0])
    with app.app_context():
        db.session.add(MatchProposal(idea_id=idea, need_id=need, state=state))
        db.session.commit()


@pytest.mark.parametrize("page", ["/reports/proposals.csv", "/reports/audit.xlsx"])
@pytest.mark.parametrize("role", ["innovator", "business"])
def test_proposals_and_the_audit_log_are_for_staff_only(client, login_as, role, page):
    login_as(role)
    assert client.get(page).status_code == 403


def test_proposals_export_for_staff(app, client, make_user, submit, login_as):
    _proposal(app, make_user, submit, "approved")
    _proposal(app, make_user, submit, "rejected")
    login_as("staff")
    headers, rows = _xlsx(client.get("/reports/proposals.xlsx"))
    assert headers[:3] == ["Mã số", "Trạng thái", "Nguồn"]
    # the review pages' own words for the states, in Vietnamese
    assert {r["Trạng thái"] for r in rows} == {"Đã duyệt: đã giới thiệu kết nối", "Bị từ chối"}
    _, rejected = _csv(client.get("/reports/proposals.csv?state=rejected"))
    assert [r["Trạng thái"] for r in rejected] == ["Bị từ chối"]


def test_audit_log_export_for_staff(client, make_user, submit, login_as):
    owner, email = make_user("innovator")
    submit("ideas", owner, title="Ý tưởng được ghi nhật ký")
    login_as("staff")
    headers, rows = _csv(client.get("/reports/audit.csv?entity_type=idea"))
    assert headers == ["Mã số", "Thời điểm (giờ Việt Nam)", "Người thực hiện", "Hành động", "Đối tượng", "Mã đối tượng",
                       "Trước", "Sau"]
    # the log page's word for the kind of record, in Vietnamese
    assert rows and all(r["Đối tượng"] == "Ý tưởng" for r in rows) and rows[0]["Người thực hiện"] == email


def test_proposals_export_names_bands_in_words_and_times_in_the_provinces_zone(app, client, make_user, submit,
                                                                                login_as):
    from datetime import datetime

    from extensions import db
    from models import MatchProposal
    idea = submit("ideas", make_user("innovator")[0])
    need = submit("needs", make_user("business")[0])
    with app.app_context():
        db.session.add(MatchProposal(idea_id=idea, need_id=need, state="proposed", band="strong",
                                     created_at=datetime(2026, 11, 29, 17, 30)))  # UTC: 00:30 the next day in Lào Cai
        db.session.commit()
    login_as("staff")
    _, rows = _xlsx(client.get("/reports/proposals.xlsx"))
    assert rows[0]["Mức phù hợp khi đề xuất"] == "Rất phù hợp"  # the pages' words, not "strong"
    assert rows[0]["Ngày tạo (giờ Việt Nam)"] == datetime(2026, 11, 30, 0, 30)
    _, rows = _csv(client.get("/reports/proposals.csv"))
    assert rows[0]["Ngày tạo (giờ Việt Nam)"] == "30/11/2026 00:30" and rows[0]["Trạng thái"] == "Đã đề xuất"
    headers, _ = _csv(client.get("/reports/audit.csv"))
    assert "Thời điểm (giờ Việt Nam)" in headers


def test_an_xlsx_export_has_a_frozen_header_a_filter_and_sized_columns(client, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời", description="Mô tả " * 200)
    submit("ideas", owner, title="Trạm đo mưa")
    ws = load_workbook(io.BytesIO(client.get("/ideas/export.xlsx").data)).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=ws.max_column).column_letter}3"
    widths = {ws.cell(row=1, column=c).value: ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width
              for c in range(1, ws.max_column + 1)}
    assert widths["Mô tả"] == 60  # a long text: as wide as a screen allows, no wider
    assert widths["Tiêu đề"] == len("Máy sấy quế năng lượng mặt trời") + 1
    assert 8 <= widths["Mã số"] < 12
    assert widths["Ngày đăng (giờ Việt Nam)"] >= len("Ngày đăng (giờ Việt Nam)")
    assert ws["Q2"].number_format == "dd/mm/yyyy hh:mm" and ws["Q1"].value == "Ngày đăng (giờ Việt Nam)"


def test_the_table_writer_round_trips(app):
    from datetime import date

    from services import tables
    headers, rows = ["Tên", "Số", "Ngày"], [["Lào Cai", 3, date(2025, 7, 1)], [None, 2.5, None]]
    book = load_workbook(io.BytesIO(tables.to_xlsx(headers, rows)))
    values = list(book.active.iter_rows(values_only=True))
    assert values[0] == ("Tên", "Số", "Ngày") and values[1][:2] == ("Lào Cai", 3) and values[2][1] == 2.5
    text = tables.to_csv(headers, rows).decode("utf-8-sig")
    assert text.splitlines() == ["Tên,Số,Ngày", "Lào Cai,3,01/07/2025", ",2.5,"]
