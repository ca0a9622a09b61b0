"""The OpenAPI document in the reader's language: Vietnamese by default, English when chosen.

How it works: the document is built once, in English, from the code: the info text
(web/api/__init__.py), the blueprints' descriptions, the views' docstrings (first line: the
operation's summary; after a blank line: its description), the schema fields'
``metadata={"description": ...}`` (web/api/schemas.py) and the HTTP status phrases of the
responses. Each request to /api/openapi.json walks a copy of it and passes every human-readable
string (the values of ``summary``, ``description`` and ``title``) through the app's gettext catalog,
in the language the site's rule picks (web/i18n.py: the visitor's choice, then their profile,
then Vietnamese). The docs page, /api/docs, fetches that document and follows the same rule.
The strings are looked up in their own context, `CONTEXT`: an HTTP status's "Created" is not a
table column's "Created" (Ngày tạo).

The strings reach translations/messages.pot through `extract_openapi`, a Babel extractor listed in
babel.cfg: it builds the app and yields every string the same walk (`human_strings`) would
translate, so docstrings need no marker and nothing can be translated in one place and missed in
another. A new docstring or description without a Vietnamese translation is served in English and
fails tests/api/test_api_docs.py. Chosen over lazy_gettext markers in the code: a docstring cannot
carry one, and apispec builds the document once, at start-up, for every reader. `flask openapi
print` writes the English document, as the code has it.

Left as they are, on purpose: code names, field names, enum values and examples (they are what a
caller sends), and Swagger UI's own buttons and headings ("Try it out", "Parameters",
"Responses"): swagger-ui ships no translations and has no way to add them.
"""
from __future__ import annotations

from collections.abc import Callable

# The catalog's context (msgctxt) of the document's strings.
CONTEXT = "OpenAPI"
# Keys whose string value is text for people, in the OpenAPI 3 objects this API's document holds.
HUMAN_KEYS = frozenset({"summary", "description", "title"})
# Values a caller copies as they are, whatever keys they hold.
VERBATIM_KEYS = frozenset({"example", "examples", "default", "enum"})
# Objects whose keys are names (of fields, paths, responses ...), not OpenAPI keywords: a field
# called "description" is a schema, never text.
NAMED_MAPS = frozenset({"properties", "paths", "schemas", "responses", "parameters", "securitySchemes",
                        "headers", "content", "patternProperties"})


def translated(document, translate: Callable[[str, str], str], where: tuple[str, ...] = (), names: bool = False):
    """A copy of an OpenAPI `document` (a JSON-like dict) whose human-readable strings are replaced
    by ``translate(text, where)``; ``where`` is the string's place, e.g.
    ``"paths /api/v1/ideas get summary"``; ``names``: `document`'s keys are names (of fields, paths ...),
    not OpenAPI keywords. The document itself is left untouched."""
    if isinstance(document, list):
        return [translated(value, translate, (*where, str(i))) for i, value in enumerate(document)]
    if not isinstance(document, dict):
        return document
    copy = {}
    for key, value in document.items():
        place = (*where, key)
        if names:
            copy[key] = translated(value, translate, place)
        elif key in VERBATIM_KEYS:
            copy[key] = value
        elif key in HUMAN_KEYS and isinstance(value, str):
            copy[key] = translate(value, " ".join(place)) if value else value
        else:
            copy[key] = translated(value, translate, place, names=key in NAMED_MAPS)
    return copy


def human_strings(document) -> list[tuple[str, str]]:
    """(where, text) for every string `translated` would translate, in document order."""
    found: list[tuple[str, str]] = []
    translated(document, lambda text, where: found.append((where, text)) or text)
    return found


def english_document() -> dict:
    """The app's OpenAPI document as the code writes it (English), from an app made for the purpose."""
    from app import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "MATCHING_PRELOAD": False})
    with app.app_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def extract_openapi(fileobj, keywords, comment_tags, options):
    """Babel extractor (babel.cfg): every human-readable string of the OpenAPI document, once, in
    the context `CONTEXT`, with the first place it appears in as the translators' comment.
    `fileobj` is not read: the strings come from the document the app builds."""
    seen = set()
    for where, text in human_strings(english_document()):
        if text not in seen:
            seen.add(text)
            yield 1, "pgettext", (CONTEXT, text), [where]
