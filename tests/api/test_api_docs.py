"""The API's documentation in the reader's language: /api/openapi.json and its page /api/docs."""
from pathlib import Path

import schemathesis
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from flask_babel import force_locale, pgettext

from web.api.openapi_i18n import CONTEXT, human_strings, translated

ROOT = Path(__file__).resolve().parents[2]


def _english(app) -> dict:
    """The document as the code writes it, before any translation."""
    with app.app_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def _without_text(document: dict) -> dict:
    """The document with every human-readable string blanked: what a program reads."""
    return translated(document, lambda text, where: "")


def test_the_document_is_in_vietnamese_by_default_and_in_english_when_chosen(app, client):
    english = _english(app)
    # A browser asking for English in its headers still gets the site's default, as the pages do.
    vi = client.get("/api/openapi.json", headers={"Accept-Language": "en"}).get_json()
    assert vi["info"]["title"] == "API Kết nối Đổi mới sáng tạo Lào Cai"
    assert vi["paths"]["/api/v1/ideas"]["get"]["summary"] == "Các mục đã công bố mà người gọi được xem, theo từng trang."
    assert vi["components"]["responses"]["NOT_FOUND"]["description"] == "Không tìm thấy"
    assert vi["components"]["schemas"]["Match"]["properties"]["reasons_pending"]["description"].startswith("true khi")
    assert "`Authorization: Bearer <token>`" in vi["info"]["description"]
    # Only the text changed: paths, fields, codes, enums and examples are the same.
    assert _without_text(vi) == _without_text(english)

    client.get("/lang/en")
    en = client.get("/api/openapi.json").get_json()
    assert en == english


def test_the_document_follows_the_profile_language(app, client, login_as):
    login_as("business", preferred_language="en")
    assert client.get("/api/openapi.json").get_json()["info"]["title"] == "Lào Cai Innovation Match API"


def test_the_docs_page_follows_the_language_and_offers_the_other_one(client):
    vi = client.get("/api/docs").get_data(as_text=True)
    assert 'lang="vi"' in vi and "Mã truy cập API cá nhân được tạo tại trang thông tin cá nhân." in vi
    assert 'href="/lang/en?next=/api/docs' in vi and "Personal API tokens" not in vi
    client.get("/lang/en")
    en = client.get("/api/docs").get_data(as_text=True)
    assert 'lang="en"' in en and "Personal API tokens are created on your profile page." in en
    assert 'href="/lang/vi?next=/api/docs' in en


def test_every_text_of_the_document_has_a_vietnamese_translation(app):
    """A new docstring, description or status phrase in the API fails here until it is translated
    (scripts/update-messages.sh extracts it, then fill translations/vi)."""
    strings = human_strings(_english(app))
    assert len(strings) > 100  # the walk does reach the operations and the schemas' fields
    with app.test_request_context("/api/openapi.json"), force_locale("vi"):
        untranslated = sorted({f"{where}: {text}" for where, text in strings if pgettext(CONTEXT, text) == text})
    assert untranslated == []


def test_the_extractor_yields_every_text_of_the_document(app):
    """babel.cfg sends the extractor's strings to messages.pot, in the catalog context the serving uses."""
    assert "[web.api.openapi_i18n.extract_openapi: web/api/openapi_i18n.py]" in (ROOT / "babel.cfg").read_text()
    extracted = {(context, message) for _, message, _, context
                 in extract("web.api.openapi_i18n.extract_openapi", None, keywords=DEFAULT_KEYWORDS)}
    assert extracted == {(CONTEXT, text) for _, text in human_strings(_english(app))}


def test_both_languages_are_valid_openapi_3(client):
    for language in ("vi", "en"):
        client.get(f"/lang/{language}")
        document = client.get("/api/openapi.json").get_json()
        assert document["openapi"].startswith("3.")
        schemathesis.openapi.from_dict(document).validate()  # raises on an invalid document


def test_the_api_itself_still_ignores_the_sites_choice(client):
    """The token API keeps its own rule (no cookies: Accept-Language, else Vietnamese); only its
    documentation follows the site's choice."""
    client.get("/lang/en")
    assert client.get("/api/v1/ideas/999").get_json()["detail"] == "Mục này không tồn tại hoặc bạn không có quyền xem."
