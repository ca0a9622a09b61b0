"""Each role against each page it must not reach, and ownership of submissions."""
import pytest

CREATE_PAGES = {"ideas": "/ideas/new", "needs": "/needs/new", "orders": "/orders/new"}
CREATORS = {"ideas": "innovator", "needs": "business", "orders": "staff"}
ADMIN_PAGES = ["/admin/users", "/admin/places", "/admin/sectors"]


@pytest.mark.parametrize("page", ["/ideas/new", "/needs/new", "/orders/new", "/mine", "/auth/profile", *ADMIN_PAGES])
def test_anonymous_is_sent_to_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["innovator", "business", "staff", "admin"])
@pytest.mark.parametrize("kind", ["ideas", "needs", "orders"])
def test_only_the_right_role_creates_each_kind(client, login_as, role, kind):
    login_as(role)
    allowed = role == CREATORS[kind] or (kind == "orders" and role == "admin")
    assert client.get(CREATE_PAGES[kind]).status_code == (200 if allowed else 403)
    if not allowed:
        assert client.post(CREATE_PAGES[kind], data={"title": "Không được phép"}).status_code == 403


@pytest.mark.parametrize("role", ["innovator", "business", "staff"])
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_are_for_admins_only(client, login_as, role, page):
    login_as(role)
    assert client.get(page).status_code == 403


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_reaches_admin_pages(client, login_as, page):
    login_as("admin")
    assert client.get(page).status_code == 200


@pytest.mark.parametrize("kind", ["ideas", "needs", "orders"])
@pytest.mark.parametrize("intruder", ["innovator", "business", "staff", "admin"])
def test_nobody_edits_or_withdraws_another_persons_submission(client, make_user, submit, auth, kind, intruder):
    owner_id, _ = make_user(CREATORS[kind])
    item_id = submit(kind, owner_id)
    _, email = make_user(intruder)
    auth.login(email)
    assert client.get(f"/{kind}/{item_id}/edit").status_code == 403
    assert client.post(f"/{kind}/{item_id}/edit", data={"title": "Đã bị sửa"}).status_code == 403
    assert client.post(f"/{kind}/{item_id}/withdraw").status_code == 403
    page = client.get(f"/{kind}/{item_id}").get_data(as_text=True)
    assert "Đã bị sửa" not in page


@pytest.mark.parametrize("kind", ["ideas", "needs", "orders"])
def test_drafts_are_seen_by_owner_and_staff_only(client, make_user, submit, auth, kind):
    owner_id, owner_email = make_user(CREATORS[kind])
    item_id = submit(kind, owner_id, publish=False)
    assert client.get(f"/{kind}/{item_id}").status_code == 404
    for role in ("innovator", "business"):
        _, email = make_user(role)
        auth.login(email)
        assert client.get(f"/{kind}/{item_id}").status_code == 404
        auth.logout()
    _, staff_email = make_user("staff")
    auth.login(staff_email)
    assert client.get(f"/{kind}/{item_id}").status_code == 200
    auth.logout()
    auth.login(owner_email)
    assert client.get(f"/{kind}/{item_id}").status_code == 200


def test_admin_changes_a_role(client, make_user, login_as, app):
    from extensions import db
    from models import User
    user_id, _ = make_user("innovator")
    login_as("admin")
    response = client.post(f"/admin/users/{user_id}", data={"role": "staff", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).role == "staff"


def test_admin_creates_a_staff_account(client, login_as, auth):
    login_as("admin")
    response = client.post("/admin/users", data={"email": "canbo2@example.vn", "full_name": "Cán bộ Hai",
                                                 "role": "staff", "organisation": "Sở KH&CN",
                                                 "password": "canbo12345"})
    assert response.status_code == 302
    auth.logout()
    auth.login("canbo2@example.vn", "canbo12345")
    assert client.get("/orders/new").status_code == 200


def test_admin_edits_places(client, login_as, app):
    login_as("admin")
    response = client.post("/admin/places", data={"code": "xa-thu-nghiem", "name": "Xã Thử Nghiệm",
                                                  "kind": "xa", "former_district": "Bắc Hà"})
    assert response.status_code == 302
    assert "Xã Thử Nghiệm" in client.get("/admin/places").get_data(as_text=True)
    duplicate = client.post("/admin/places", data={"code": "xa-thu-nghiem", "name": "Khác", "kind": "xa",
                                                   "former_district": "Bắc Hà"})
    assert duplicate.status_code == 422
