"""The indicators on a small known dataset, the period filter, staff-only access, decisions as an eval set."""
import io
import json
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

REPORT_PAGES = ["/reports/", "/reports/ideas_by_kind.xlsx", "/reports/district_share.csv", "/reports/decisions.json",
                "/reports/proposals.xlsx", "/reports/audit.csv", "/reports/import", "/reports/import/template.csv"]
YEAR_2025 = "?from=2025-01-01&to=2025-12-31"


@pytest.mark.parametrize("page", REPORT_PAGES)
def test_anonymous_is_sent_to_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["innovator", "business"])
@pytest.mark.parametrize("page", REPORT_PAGES)
def test_innovators_and_businesses_are_refused(client, login_as, role, page):
    login_as(role)
    assert client.get(page).status_code == 403


@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize("page", REPORT_PAGES)
def test_staff_reach_every_report(client, login_as, role, page):
    login_as(role)
    assert client.get(page).status_code == 200


def test_the_reports_link_is_for_staff_only(client, login_as, auth):
    login_as("innovator")
    assert 'href="/reports/"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    login_as("staff")
    assert 'href="/reports/"' in client.get("/").get_data(as_text=True)


@pytest.fixture
def dataset(app, make_user, submit):
    """Three ideas counted in 2025, one in 2024, one withdrawn, one draft; needs, orders and proposals."""
    from extensions import db
    from models import AuditEntry, Idea, MatchProposal, ResearchOrder, TechnologyNeed

    student, _ = make_user("innovator", innovator_type="student")
    startup, _ = make_user("innovator", innovator_type="startup")
    business, _ = make_user("business")
    staff, _ = make_user("staff")
    ideas = {
        1: submit("ideas", student, title="Máy sấy quế năng lượng mặt trời", place_code="xa-bac-ha"),
        2: submit("ideas", startup, kind="stem_project", title="Trạm đo mưa cho trường học",
                  sector_codes=["agriculture_highland", "energy"], place_code="xa-bao-nhai"),
        3: submit("ideas", startup, kind="hackathon_project", title="Ứng dụng cảnh báo sạt lở",
                  sector_codes=["energy"], place_code="phuong-lao-cai"),
        4: submit("ideas", startup, kind="research_proposal", title="Nghiên cứu giống chè"),
        5: submit("ideas", startup, title="Ý tưởng đã rút lại"),
        6: submit("ideas", startup, title="Bản nháp chưa đăng", publish=False),
    }
    today = date.today()
    needs = {
        1: submit("needs", business, deadline=today + timedelta(days=30)),
        2: submit("needs", business, deadline=today - timedelta(days=1)),
        3: submit("needs", business),
    }
    order = submit("orders", staff)
    with app.app_context():
        published = {1: datetime(2025, 3, 10), 2: datetime(2025, 3, 20), 3: datetime(2025, 5, 1),
                     4: datetime(2024, 6, 1), 5: datetime(2025, 4, 1)}
        for key, when in published.items():
            db.session.get(Idea, ideas[key]).published_at = when
        db.session.get(Idea, ideas[5]).status = "withdrawn"
        for key in needs:
            db.session.get(TechnologyNeed, needs[key]).published_at = datetime(2025, 2, 1)
        db.session.get(TechnologyNeed, needs[3]).status = "withdrawn"
        db.session.get(ResearchOrder, order).published_at = datetime(2025, 2, 1)

        def proposal(idea, state, created, need=None, order_id=None, decided=None, introduced=None, reason=None):
            p = MatchProposal(idea_id=ideas[idea], need_id=need, order_id=order_id, state=state,
                              created_at=created, decided_at=decided, introduced_at=introduced, reject_reason=reason)
            db.session.add(p)
            db.session.flush()
            return p

        proposal(1, "approved", datetime(2025, 3, 25), need=needs[1], decided=datetime(2025, 4, 1),
                 introduced=datetime(2025, 4, 1))                                   # 22 days
        proposal(2, "agreement_signed", datetime(2025, 4, 1), need=needs[1], decided=datetime(2025, 4, 20),
                 introduced=datetime(2025, 4, 20))                                  # 31 days
        proposal(3, "rejected", datetime(2025, 5, 5), order_id=order, decided=datetime(2025, 6, 1), reason="off_topic")
        closed = proposal(1, "closed", datetime(2025, 4, 5), order_id=order, decided=datetime(2025, 5, 10),
                          introduced=datetime(2025, 5, 10))                         # 61 days
        db.session.add(AuditEntry(action="proposal.agreement_signed", entity_type="proposal", entity_id=closed.id))
        proposal(2, "proposed", datetime(2025, 7, 1), need=needs[2])
        proposal(3, "rejected", datetime(2025, 7, 2), need=needs[2], decided=datetime(2025, 7, 3), reason="duplicate")
        db.session.commit()
    return {"ideas": ideas, "needs": needs, "order": order}


def _values(figure):
    return {row.code: row.values[0] if len(row.values) == 1 else row.values for row in figure.rows}


def test_the_figures_on_a_known_dataset(app, dataset):
    from services import indicators
    year = indicators.Period(date(2025, 1, 1), date(2025, 12, 31))
    with app.app_context():
        assert indicators.total_ideas(year) == 3
        assert _values(indicators.ideas_by_kind(year)) == {
            "startup_idea": 1, "stem_project": 1, "hackathon_project": 1, "research_proposal": 0}
        by_sector = _values(indicators.ideas_by_sector(year))
        assert by_sector["agriculture_highland"] == 2 and by_sector["energy"] == 2 and by_sector["materials"] == 0
        by_district = _values(indicators.ideas_by_district(year))
        assert by_district["Bắc Hà"] == 2 and by_district["TP Lào Cai"] == 1 and by_district["Văn Yên"] == 0
        share = _values(indicators.district_share(year))
        assert share["Bắc Hà"] == 66.7 and share["TP Lào Cai"] == 33.3
        months = _values(indicators.ideas_by_month(year))
        assert len(months) == 12 and months["2025-03"] == 2 and months["2025-05"] == 1 and months["2025-04"] == 0
        students = indicators.student_share(year)
        assert students.summary == {"share": 66.7, "part": 2, "total": 3}
        assert _values(indicators.needs_and_orders(year)) == {"needs": (1, 2), "orders": (1, 0)}
        states = _values(indicators.proposals_by_state(year))
        assert states == {"proposed": 1, "under_review": 0, "approved": 1, "rejected": 2, "in_discussion": 0,
                          "agreement_signed": 1, "no_agreement": 0, "closed": 1}
        assert indicators.approval_rate(year).summary == {"share": 60.0, "part": 3, "total": 5}
        days = indicators.days_to_introduction(year)
        assert days.summary == {"median": 31.0, "total": 3}
        assert _values(days) == {"0-7": 0, "8-30": 1, "31-90": 2, ">90": 0}
        assert indicators.introductions_to_agreements(year).summary == {"share": 66.7, "part": 2, "total": 3}


def test_the_period_filter_narrows_every_figure(app, dataset, client, login_as):
    from services import indicators
    with app.app_context():
        only_2024 = indicators.parse_period("2024-01-01", "2024-12-31")
        assert indicators.total_ideas(only_2024) == 1
        assert _values(indicators.ideas_by_kind(only_2024))["research_proposal"] == 1
        assert indicators.approval_rate(only_2024).summary["total"] == 0
        march = indicators.parse_period("2025-03-01", "2025-03-31")
        assert indicators.total_ideas(march) == 2
    login_as("staff")
    page = client.get("/reports/?from=2024-01-01&to=2024-12-31").get_data(as_text=True)
    assert "1 ý tưởng" in page or "1 ideas" in page
    assert client.get("/reports/?from=2025-12-31&to=2025-01-01").status_code == 422
    assert client.get("/reports/?from=31/12/2025").status_code == 422


def test_the_dashboard_draws_accessible_svg_charts_without_javascript(dataset, client, login_as):
    login_as("staff")
    client.get("/lang/en")
    page = client.get("/reports/" + YEAR_2025).get_data(as_text=True)
    charts = page.split("<main", 1)[1]  # the navigation has an icon of its own
    assert charts.count("<svg") == 11 and charts.count("<title id=") == 11
    assert "Bắc Hà" in page and "Approval rate: 60%" in page
    assert "<script" not in page.split("</footer>")[0]  # only the layout's own bundle, after the footer
    assert "cdn" not in page.lower()
    assert "/reports/ideas_by_kind.xlsx?from=2025-01-01&amp;to=2025-12-31" in page


def test_each_figure_downloads_as_a_table(dataset, client, login_as):
    import csv
    login_as("staff")
    book = load_workbook(io.BytesIO(client.get("/reports/ideas_by_kind.xlsx" + YEAR_2025).data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("Loại", "Số ý tưởng")
    assert ("Dự án STEM", 1) in rows and ("Đề xuất nghiên cứu", 0) in rows
    raw = client.get("/reports/needs_and_orders.csv" + YEAR_2025).data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table == [["Loại", "Đang mở", "Đã đóng"], ["Nhu cầu công nghệ", "1", "2"], ["Đặt hàng nghiên cứu", "1", "0"]]
    assert client.get("/reports/nothing.csv").status_code == 404


def test_every_figure_in_one_workbook_after_a_cover_sheet(dataset, client, login_as):
    from services import indicators
    login_as("staff")
    page = client.get("/reports/" + YEAR_2025).get_data(as_text=True)
    assert "/reports/indicators.xlsx?from=2025-01-01&amp;to=2025-12-31" in page
    response = client.get("/reports/indicators.xlsx" + YEAR_2025)
    assert response.status_code == 200 and "indicators-2025-01-01-2025-12-31.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 1 + len(indicators.FIGURES) and book.sheetnames[0] == "Thông tin chung"
    assert all(len(name) <= 31 for name in book.sheetnames)
    cover = {r[0]: r[1] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert cover["Từ ngày"] == datetime(2025, 1, 1) and cover["Đến ngày"] == datetime(2025, 12, 31)
    made = cover["Lập lúc (giờ Việt Nam)"]
    assert abs(made - (datetime.utcnow() + timedelta(hours=7))) < timedelta(minutes=2)  # local, not UTC
    assert book.worksheets[0]["B3"].number_format == "dd/mm/yyyy"
    # the figure's own sheet holds what its single download holds, and the cover names it in full
    single = list(load_workbook(io.BytesIO(client.get("/reports/ideas_by_kind.xlsx" + YEAR_2025).data))
                  .active.iter_rows(values_only=True))
    assert list(book["Ý tưởng theo loại"].iter_rows(values_only=True)) == single
    assert any(str(v).startswith("Số ngày từ khi đăng ý tưởng đến khi được giới thiệu") for v in cover.values())
    assert client.get("/reports/indicators.xlsx?from=2025-13-01").status_code == 422


def test_a_figure_downloads_with_the_pages_vietnamese_words_for_an_english_reader(dataset, client, login_as):
    import csv
    login_as("staff")
    client.get("/lang/en")
    assert "Rejected" in client.get("/reports/" + YEAR_2025).get_data(as_text=True)
    raw = client.get("/reports/approval_rate.csv" + YEAR_2025).data
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table == [["Quyết định", "Số đề xuất"], ["Được duyệt", "3"], ["Bị từ chối", "2"]]
    client.get("/lang/vi")
    page = client.get("/reports/" + YEAR_2025).get_data(as_text=True)
    assert "Được duyệt" in page and "Bị từ chối" in page


def test_decisions_export_as_an_eval_set(app, dataset, client, login_as, tmp_path, runner):
    from matching.evaluation import load_eval_set
    login_as("staff")
    response = client.get("/reports/decisions.json")
    assert response.status_code == 200
    path = tmp_path / "decisions.json"
    path.write_bytes(response.data)
    data = load_eval_set(path)
    ideas, needs, order = dataset["ideas"], dataset["needs"], dataset["order"]
    grades = {(q["idea"], q["need"]): q["grade"] for q in data["qrels"]}
    assert grades == {
        (f"I{ideas[1]}", f"N{needs[1]}"): 2,   # approved
        (f"I{ideas[2]}", f"N{needs[1]}"): 2,   # agreement signed
        (f"I{ideas[3]}", f"O{order}"): 0,      # rejected: off topic
        (f"I{ideas[1]}", f"O{order}"): 2,      # closed after an agreement
    }  # not listed: the open proposal and the rejection as a duplicate
    assert {n["kind"] for n in data["needs"]} == {"business_need", "research_order"}
    assert all(i["description"] for i in data["ideas"])
    result = runner.invoke(args=["eval-matching", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"] == {"needs": 2, "ideas": 3, "qrels": 4}


def test_a_confidential_company_stays_out_of_the_decisions_file(app, dataset, client, login_as):
    from extensions import db
    from models import TechnologyNeed
    with app.app_context():
        db.session.get(TechnologyNeed, dataset["needs"][1]).confidential = True
        db.session.commit()
    login_as("staff")
    data = json.loads(client.get("/reports/decisions.json").data)
    need = next(n for n in data["needs"] if n["id"] == f"N{dataset['needs'][1]}")
    assert "org" not in need and "HTX Quế Văn Yên" not in json.dumps(data, ensure_ascii=False)
