from urllib.parse import urlsplit

from services.submission_types import BY_SLUG

# The URL part that names a type of submission, e.g. /needs/12: one alternative per registered type.
SLUG_PATTERN = f"<any({', '.join(BY_SLUG)}):slug>"


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in or a language switch (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
