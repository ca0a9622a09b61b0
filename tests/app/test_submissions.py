import sqlalchemy as sa

from extensions import db
from models import Idea, ResearchOrder, TechnologyNeed

IDEA = {"kind": "stem_project", "title": "Máy sấy quế dùng năng lượng mặt trời",
        "summary": "Sấy vỏ quế bằng nhiệt mặt trời, giảm hao hụt.",
        "description": "Nhóm học sinh thiết kế buồng sấy quế dùng bơm nhiệt và tấm thu nhiệt mặt trời cho HTX ở Văn Yên.",
        "keywords": "quế, sấy, năng lượng mặt trời", "sectors": ["agriculture_highland", "energy"],
        "stage": "prototype", "trl": "4", "team": "3 học sinh", "organisation": "THPT Chuyên Lào Cai",
        "event": "Cuộc thi Sáng tạo TTNNĐ 2026", "place": "", "language": "vi", "visibility": "public"}
NEED = {"title": "Cần giải pháp giảm hao hụt khi sấy quế", "problem": "Quế sấy bằng củi bị mốc và mất tinh dầu.",
        "desired_outcome": "Một lò sấy tiết kiệm, chất lượng đồng đều.", "organisation": "HTX Quế Văn Yên",
        "sectors": ["agriculture_highland"], "budget_min": "50000000", "budget_max": "300000000",
        "deadline": "2099-06-30", "place": "", "language": "vi"}
ORDER = {"title": "Đặt hàng nghiên cứu cảnh báo sạt lở đất", "ordering_body": "Sở Nông nghiệp và Môi trường",
         "urgency": "high", "objectives": "Xây dựng hệ thống cảnh báo sớm sạt lở.", "main_content": "Khảo sát, lắp cảm biến.",
         "expected_products": "Hệ thống cảm biến và phần mềm.", "application_place": "Các xã vùng cao",
         "duration_months": "24", "budget_state": "1500000000", "budget_other": "200000000",
         "proposal_deadline": "2099-01-31", "sectors": ["environment_disaster"], "place": "", "language": "vi"}
FORMS = {"ideas": (IDEA, Idea, "innovator"), "needs": (NEED, TechnologyNeed, "business"),
         "orders": (ORDER, ResearchOrder, "staff")}


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def only(app, model):
    """The one stored submission, with its sectors loaded for use outside the app context."""
    with app.app_context():
        item = db.session.scalars(sa.select(model)).one()
        item.sectors  # noqa: B018  (load before the session closes)
        return item


def test_idea_create_edit_withdraw(client, login_as, app):
    login_as("innovator")
    response = client.post("/ideas/new", data={**IDEA, "publish": "1"})
    assert response.status_code == 302
    idea = only(app, Idea)
    assert (idea.status, idea.trl, idea.stage) == ("published", 4, "prototype")
    assert sorted(s.code for s in idea.sectors) == ["agriculture_highland", "energy"]
    assert IDEA["title"] in client.get("/ideas/").get_data(as_text=True)

    response = client.post(f"/ideas/{idea.id}/edit", data={**IDEA, "title": "Buồng sấy quế bơm nhiệt", "save_draft": "1"})
    assert response.status_code == 302
    assert only(app, Idea).title == "Buồng sấy quế bơm nhiệt"

    client.post(f"/ideas/{idea.id}/withdraw")
    assert only(app, Idea).status == "withdrawn"
    assert "Buồng sấy quế bơm nhiệt" not in client.get("/ideas/").get_data(as_text=True)
    client.post("/auth/logout")
    assert client.get(f"/ideas/{idea.id}").status_code == 404


def test_draft_then_publish(client, login_as, app):
    login_as("business")
    client.post("/needs/new", data={**NEED, "save_draft": "1"})
    need = only(app, TechnologyNeed)
    assert need.status == "draft" and need.published_at is None
    assert NEED["title"] not in client.get("/needs/").get_data(as_text=True)
    assert NEED["title"] in client.get("/mine").get_data(as_text=True)
    client.post(f"/needs/{need.id}/publish")
    assert only(app, TechnologyNeed).status == "published"
    assert NEED["title"] in client.get("/needs/").get_data(as_text=True)


def test_research_order_has_the_order_form_fields(client, login_as, app):
    login_as("staff")
    assert client.post("/orders/new", data={**ORDER, "publish": "1"}).status_code == 302
    order = only(app, ResearchOrder)
    assert (order.urgency, order.duration_months, order.budget_state, order.budget_other) == ("high", 24, 1500000000, 200000000)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Hệ thống cảm biến và phần mềm." in page and "1.500.000.000" in page


def test_missing_fields_are_marked_and_nothing_is_saved(client, login_as, app):
    login_as("innovator")
    response = client.post("/ideas/new", data={**IDEA, "title": "", "summary": "", "publish": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="invalid-feedback') >= 2
    assert count(app, Idea) == 0


def test_a_one_megabyte_paste_gets_a_message_not_a_crash(client, login_as, app):
    login_as("innovator")
    client.get("/lang/en")
    response = client.post("/ideas/new", data={**IDEA, "description": "quế " * 260_000, "publish": "1"})
    assert response.status_code == 422
    assert "Field cannot be longer than 20000 characters." in response.get_data(as_text=True)
    assert count(app, Idea) == 0


def test_bad_numbers_and_dates(client, login_as, app):
    login_as("business")
    client.get("/lang/en")
    response = client.post("/needs/new", data={**NEED, "budget_min": "500", "budget_max": "100",
                                               "deadline": "2001-01-01", "publish": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The upper budget must not be below the lower budget." in html
    assert "The deadline cannot be in the past." in html
    response = client.post("/needs/new", data={**NEED, "budget_min": "nhiều tiền", "publish": "1"})
    assert response.status_code == 422
    assert count(app, TechnologyNeed) == 0


def test_failed_edit_keeps_what_was_saved(client, login_as, app):
    login_as("innovator")
    client.post("/ideas/new", data={**IDEA, "publish": "1"})
    idea = only(app, Idea)
    response = client.post(f"/ideas/{idea.id}/edit", data={**IDEA, "title": "", "summary": "x" * 5000})
    assert response.status_code == 422
    assert only(app, Idea).title == IDEA["title"]


def test_language_is_detected_when_not_chosen(client, login_as, app):
    login_as("innovator")
    client.post("/ideas/new", data={**IDEA, "title": "Solar dryer for cinnamon bark",
                                    "summary": "A low-cost solar heat pump dryer for cinnamon cooperatives.",
                                    "description": "We build a dryer that keeps the essential oil in the bark and stops mould.",
                                    "keywords": "cinnamon, drying", "language": "auto", "publish": "1"})
    assert only(app, Idea).language == "en"


def test_browse_filters(client, make_user, submit, app):
    owner, _ = make_user("innovator")
    with app.app_context():
        from models import Place
        sa_pa = db.session.scalars(sa.select(Place).where(Place.former_district == "TX Sa Pa")).first()
        bac_ha = db.session.scalars(sa.select(Place).where(Place.former_district == "Bắc Hà")).first()
        sa_pa_code, bac_ha_code = sa_pa.code, bac_ha.code
    submit("ideas", owner, title="Tour thực tế ảo Fansipan", kind="startup_idea",
           sector_codes=["tourism_smart"], place_code=sa_pa_code)
    submit("ideas", owner, title="Robot STEM cho trường nội trú", kind="stem_project",
           sector_codes=["education_stem"], place_code=bac_ha_code)
    submit("ideas", owner, title="Cinnamon traceability app", kind="hackathon_project", language="en",
           sector_codes=["agriculture_highland"])

    def titles(query):
        return client.get("/ideas/?" + query).get_data(as_text=True)

    assert "Robot STEM" in titles("type=stem_project") and "Tour thực tế ảo" not in titles("type=stem_project")
    assert "Tour thực tế ảo" in titles("sector=tourism_smart") and "Robot" not in titles("sector=tourism_smart")
    assert "Robot STEM" in titles("district=Bắc Hà") and "Tour thực tế ảo" not in titles("district=Bắc Hà")
    assert "Cinnamon" in titles("language=en") and "Robot" not in titles("language=en")
    assert "Robot STEM" in titles("q=robot") and "Cinnamon" not in titles("q=robot")
    assert "Robot" not in titles("q=zzzz-khong-co")


def test_members_only_ideas_are_hidden_from_anonymous(client, make_user, submit, auth):
    owner, _ = make_user("innovator")
    item = submit("ideas", owner, title="Ý tưởng chỉ cho thành viên", visibility="members")
    assert "Ý tưởng chỉ cho thành viên" not in client.get("/ideas/").get_data(as_text=True)
    assert client.get(f"/ideas/{item}").status_code == 404
    _, email = make_user("business")
    auth.login(email)
    assert client.get(f"/ideas/{item}").status_code == 200


def test_unknown_ids_and_huge_pages(client):
    assert client.get("/ideas/999999").status_code == 404
    assert client.get("/needs/?page=99999999").status_code == 200
    assert client.get("/things/").status_code == 404


def test_pagination_keeps_the_filters(client, make_user, submit, app):
    app.config["PAGE_SIZE"] = 2
    owner, _ = make_user("innovator")
    for i in range(5):
        submit("ideas", owner, title=f"Dự án STEM số {i}", kind="stem_project")
    submit("ideas", owner, title="Ý tưởng khởi nghiệp khác", kind="startup_idea")
    first = client.get("/ideas/?type=stem_project").get_data(as_text=True)
    assert "/ideas/?type=stem_project&amp;page=2" in first or "/ideas/?page=2&amp;type=stem_project" in first
    third = client.get("/ideas/?type=stem_project&page=3").get_data(as_text=True)
    assert "Dự án STEM số 0" in third and "Ý tưởng khởi nghiệp khác" not in third
