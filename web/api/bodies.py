"""JSON request bodies, read strictly and handed to the same WTForms forms as the pages.

A body becomes a werkzeug MultiDict, exactly what a browser would post, so one set of rules (and
one set of translated messages) serves the pages and the API.
"""
from __future__ import annotations

import json
from datetime import date

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from web.api.problems import api_abort

NOT_TEXT = _l("This value has the wrong type.")
BAD_CHARACTER = _l("This text contains a character that is not allowed.")


def json_body() -> dict:
    """The request's JSON object, or a problem: 415 (not JSON), 400 (not UTF-8, malformed, not an
    object); werkzeug answers 413 for a body over MAX_CONTENT_LENGTH."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        api_abort(415, problem="unsupported-media-type")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        api_abort(400, _l("The body is not valid UTF-8."), problem="invalid-utf8")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        api_abort(400, _l("The body is not valid JSON."), problem="malformed-json")
    if not isinstance(body, dict):
        api_abort(400, _l("The body must be a JSON object."), problem="malformed-json")
    return body


def _scalar(value) -> str | None:
    """A JSON scalar as a browser would post it; None when it cannot be one."""
    if isinstance(value, bool):
        return "y" if value else ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # a lone surrogate ("\ud800") cannot be stored
        except UnicodeEncodeError:
            return None
        return None if "\x00" in value else value
    return None


def _posted(value) -> list[str]:
    """A Python value from a form field (or a model) as posted strings."""
    if value is None:
        return [""]  # what a browser posts for an empty field or the blank choice
    if value is False:
        return []
    if value is True:
        return ["y"]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, date):
        return [value.isoformat()]
    return [str(value)]


def formdata(body: dict, fields: tuple[str, ...], start: MultiDict | None = None) -> tuple[MultiDict, dict]:
    """The body's known fields laid over `start` (the current values, for a PATCH). Returns the
    form data and the errors of values no browser could send (objects, NUL characters)."""
    data = MultiDict(start or {})
    errors: dict[str, list] = {}
    for name in fields:
        if name not in body:
            continue
        value = body[name]
        values = value if isinstance(value, list) else [value]
        if value is None:
            data.setlist(name, [] if name == "sectors" else [""])
            continue
        posted = [_scalar(v) for v in values]
        if any(p is None for p in posted):
            bad_text = any(isinstance(v, str) for v in values)
            errors[name] = [BAD_CHARACTER if bad_text else NOT_TEXT]
            continue
        data.setlist(name, posted)
    return data, errors


def current_values(form, fields: tuple[str, ...]) -> MultiDict:
    """What the edit page would post unchanged: the form loaded from the item."""
    data = MultiDict()
    for name in fields:
        data.setlist(name, _posted(form[name].data))
    return data
