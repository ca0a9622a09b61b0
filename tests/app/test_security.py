"""Security basics every page shares: headers, CSP without inline code, throttled sign-in, escaping."""
import re
from pathlib import Path

from app import create_app

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


def test_sign_in_attempts_are_throttled(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    client.get("/lang/en")
    codes = [client.post("/auth/login", data={"email": "x@example.vn", "password": "wrong-pass"}).status_code
             for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    assert "Too many attempts" in client.post("/auth/login", data={"email": "x@example.vn", "password": "x"}).get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # reading the form is not throttled


def test_user_text_is_escaped(client, make_user, submit):
    owner, _ = make_user("innovator")
    item = submit("ideas", owner, title="Ý tưởng <script>alert(1)</script> thử",
                  summary="<img src=x onerror=alert(1)> tóm tắt", organisation="<b onclick=x>Trường</b>")
    html = client.get(f"/ideas/{item}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "onerror=alert" not in html
    assert "&lt;b onclick=x&gt;Trường&lt;/b&gt;" in html  # kept as the user typed it, shown as text
