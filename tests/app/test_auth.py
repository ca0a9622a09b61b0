import sqlalchemy as sa

from extensions import db
from models import User

REGISTRATION = {"role": "innovator", "innovator_type": "student", "full_name": "Nguyễn Thị Hoa",
                "email": "hoa@example.vn", "password": "matkhau123", "password2": "matkhau123",
                "organisation": "Trường Cao đẳng Lào Cai", "place": "", "phone": "0912 345 678",
                "preferred_language": "vi"}


def user_by_email(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.email == email))


def test_register_innovator_signs_in_and_hashes_password(client, app):
    response = client.post("/auth/register", data=REGISTRATION)
    assert response.status_code == 302
    user = user_by_email(app, "hoa@example.vn")
    assert user.role == "innovator" and user.innovator_type == "student"
    assert user.password_hash.startswith("$argon2id$")
    assert "matkhau123" not in user.password_hash
    assert "Nguyễn Thị Hoa" in client.get("/").get_data(as_text=True)


def test_register_business(client, app):
    data = {**REGISTRATION, "role": "business", "email": "htx@example.vn"}
    assert client.post("/auth/register", data=data).status_code == 302
    assert user_by_email(app, "htx@example.vn").role == "business"


def test_nobody_registers_as_staff_or_admin(client, app):
    for role in ("staff", "admin"):
        response = client.post("/auth/register", data={**REGISTRATION, "role": role, "email": f"{role}@x.vn"})
        assert response.status_code == 422
        assert user_by_email(app, f"{role}@x.vn") is None


def test_duplicate_email_is_refused_with_a_message(client, make_user):
    make_user("innovator", email="hoa@example.vn")
    client.get("/lang/en")
    response = client.post("/auth/register", data=REGISTRATION)
    assert response.status_code == 422
    assert "An account with this e-mail already exists." in response.get_data(as_text=True)


def test_password_mismatch_shows_field_error(client, app):
    response = client.post("/auth/register", data={**REGISTRATION, "password2": "khac12345"})
    assert response.status_code == 422
    assert user_by_email(app, "hoa@example.vn") is None
    assert 'class="invalid-feedback' in response.get_data(as_text=True)


def test_login_logout(client, make_user, auth):
    _, email = make_user("business")
    response = auth.login(email, "wrong-password")
    assert response.status_code == 401
    assert client.get("/mine").status_code == 302  # still anonymous
    assert auth.login(email).status_code == 302
    assert client.get("/mine").status_code == 200
    auth.logout()
    assert client.get("/mine").status_code == 302


def test_login_follows_only_local_next(client, make_user):
    _, email = make_user()
    response = client.post("/auth/login?next=https://evil.example/x", data={"email": email, "password": "password123"})
    assert response.headers["Location"] == "/"
    client.post("/auth/logout")
    response = client.post("/auth/login?next=/mine", data={"email": email, "password": "password123"})
    assert response.headers["Location"] == "/mine"


def test_inactive_account_cannot_sign_in(client, make_user, app, auth):
    user_id, email = make_user()
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert auth.login(email).status_code == 401


def test_profile_update(client, login_as, app):
    user_id, email = login_as("innovator")
    response = client.post("/auth/profile", data={"full_name": "Lý A Sử", "organisation": "THPT Sa Pa",
                                                  "place": "", "phone": "0987 654 321", "preferred_language": "en",
                                                  "innovator_type": "researcher"})
    assert response.status_code == 302
    user = user_by_email(app, email)
    assert (user.full_name, user.organisation, user.preferred_language, user.innovator_type) == \
        ("Lý A Sử", "THPT Sa Pa", "en", "researcher")


def test_create_admin_command(runner, app):
    result = runner.invoke(args=["create-admin", "boss@example.vn", "--password", "secret123"])
    assert result.exit_code == 0, result.output
    assert user_by_email(app, "boss@example.vn").role == "admin"
    again = runner.invoke(args=["create-admin", "boss@example.vn", "--password", "secret123"])
    assert again.exit_code != 0
