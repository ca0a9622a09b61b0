from urllib.parse import urlsplit

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from services.bounds import MAX_ID
from services.submission_types import BY_SLUG

# The URL part that names a type of submission, e.g. /needs/12: one alternative per registered type.
SLUG_PATTERN = f"<any({', '.join(BY_SLUG)}):slug>"


class IdConverter(IntegerConverter):
    """``<int:...>`` for every route: a row's id, 1 to :data:`MAX_ID`. Any other number (0, 20
    digits) is a 404 before the view runs, so no query is built with a number the database cannot
    hold. The API's OpenAPI document states the same bounds (flask-smorest reads min and max).

    NotFound is raised here rather than werkzeug's ValidationError ("no match"): werkzeug turns a
    failed conversion into 405 when a rule for another method matched the same path first."""

    def __init__(self, map, min: int = 1, max: int = MAX_ID, **kwargs):  # noqa: A002 (werkzeug's names)
        super().__init__(map, min=min, max=max, **kwargs)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def parse_id(text: str | None) -> int | None:
    """An id typed in a form or a query string, by the converter's rule; None if it cannot be one."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def register_converters(app) -> None:
    """Replace werkzeug's unbounded ``int`` converter app-wide; call before any route is added."""
    app.url_map.converters["int"] = IdConverter


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in or a language switch (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
