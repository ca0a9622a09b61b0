"""The order of names people read in lists (places, former districts, sectors, events, ideas to
choose from): the reader's language's alphabet, by ICU's collation (PyICU), never byte order.

In Vietnamese a < ă < â < b < c < d < đ < e < ê ... and tones come after letters, so "Xã Dền Sáng" <
"Xã Đông Cuông" < "Xã Xuân Ái"; byte order put every name with Đ or Â after "Xuân". English sorts
the same names with the accents as secondary differences (Đ still a letter after D, by Unicode's
default order). Why ICU and not a hand-made table or pyuca: see docs/architecture.md, "Formats and
collation".
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

import icu
from flask import has_request_context
from flask_babel import get_locale

T = TypeVar("T")
_local = threading.local()  # a Collator is not shared between threads: one per thread and language


def collator(language: str) -> icu.Collator:
    cache = _local.__dict__.setdefault("collators", {})
    if language not in cache:
        cache[language] = icu.Collator.createInstance(icu.Locale(language))
    return cache[language]


def current_language() -> str:
    """The page's language; Vietnamese, the app's default, outside a request (commands, jobs)."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale else "vi"


def sort_key(language: str | None = None) -> Callable[[str], bytes]:
    """A key function for sorted(): the ICU sort key of a name in `language` (default: the page's)."""
    return collator(language or current_language()).getSortKey


def by_name(items: Iterable[T], name: Callable[[T], str | tuple[str, ...]] = str,
            language: str | None = None) -> list[T]:
    """`items` in the alphabetical order of `name(item)` (a string, or a tuple of strings compared
    in turn, e.g. (former district, place name))."""
    key = sort_key(language)

    def item_key(item):
        value = name(item)
        return tuple(key(v or "") for v in value) if isinstance(value, tuple) else key(value or "")
    return sorted(items, key=item_key)
