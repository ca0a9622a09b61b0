import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_vietnamese_is_the_default_and_english_is_one_click_away(client):
    home = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in home and "Đăng nhập" in home and "Sign in" not in home
    # the link names the page as it is: no stray "?" when it has no query (it keys the visitors' kept pages)
    assert 'href="/lang/en?next=/"' in home and 'next=/?"' not in home
    assert 'href="/lang/en?next=/ideas/?page%3D2"' in client.get("/ideas/?page=2").get_data(as_text=True)
    response = client.get("/lang/en?next=/ideas/")
    assert response.headers["Location"] == "/ideas/"
    page = client.get("/ideas/").get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page and "Đăng nhập" not in page
    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/").get_data(as_text=True)


def test_validation_messages_follow_the_language(client, login_as):
    login_as("innovator")
    vi = client.post("/ideas/new", data={"title": ""}).get_data(as_text=True)
    client.get("/lang/en")
    en = client.post("/ideas/new", data={"title": ""}).get_data(as_text=True)
    assert "This field is required." in en
    assert "This field is required." not in vi
    assert "Vui lòng điền trường này." in vi


def test_the_profile_language_is_used_after_sign_in(client, make_user, auth):
    _, email = make_user("business", preferred_language="en")
    auth.login(email)
    assert "Sign out" in client.get("/").get_data(as_text=True)


def test_a_chinese_reader_keeps_their_language_and_reads_the_pages_in_english(client, make_user, auth, app):
    """Partners in Yunnan: Chinese is a preferred language (the profile offers it, so saving the
    profile keeps it); the pages, which have no Chinese catalog, come in English, not Vietnamese."""
    from extensions import db
    from models import User
    user_id, email = make_user("business", preferred_language="zh")
    auth.login(email)
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="zh"|<option[^>]*value="zh"[^>]*selected', profile)
    assert "Sign out" in client.get("/").get_data(as_text=True)  # the pages in English
    client.post("/auth/profile", data={"full_name": "Zhang Min", "organisation": "", "place": "", "phone": "",
                                       "preferred_language": "zh"})
    with app.app_context():
        assert db.session.get(User, user_id).preferred_language == "zh"


def test_every_message_has_a_vietnamese_translation():
    with open(ROOT / "translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog
               if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))]
    assert missing == []


def test_the_catalog_covers_every_string_in_the_code():
    from babel.messages.extract import extract_from_dir
    with open(ROOT / "translations/vi/LC_MESSAGES/messages.po", "rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}  # plurals by singular
    method_map = [("**/.venv/**", "ignore"), ("**/tests/**", "ignore"), ("**/bench/**", "ignore"),
                  ("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(ROOT), method_map, keywords={"_": None, "_l": None, "gettext": None,
                                                                             "lazy_gettext": None, "ngettext": (1, 2)})}
    assert sorted(found - known) == []
