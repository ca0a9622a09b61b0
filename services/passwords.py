"""Which passwords people may choose: long enough, and not easy to guess by zxcvbn's estimate.

zxcvbn (Dropbox's estimator, kept on PyPI) knows the 30,000 most common passwords, English words,
names, keyboard walks, dates and repeats, and how an attacker combines them; the words of this
site and of the person's own profile are added to what it tries. A password is refused below
score 2 ("somewhat guessable": about 10^6 guesses or fewer, what an attacker tries first).
"""
from __future__ import annotations

import re
import unicodedata

from zxcvbn import zxcvbn

from services.errors import ServiceError

MIN_LENGTH, MAX_LENGTH = 8, 128
MIN_SCORE = 2
# zxcvbn's running time grows with the length; 72 characters are more than enough to judge.
CHECKED_LENGTH = 72
# Words an attacker of this site tries first; zxcvbn's lists are English-only ("matkhau" is "password").
SITE_WORDS = ("matkhau", "mat khau", "laocai", "lao cai", "sapa", "doimoi", "sangtao", "khcn", "skhcn",
              "ketnoi", "innovation", "match", "admin", "quantri", "demo")


class PasswordError(ServiceError):
    """A password the policy refuses: "password_short", "password_long", "password_personal",
    "password_common" or "password_guessable"."""


def check(password: str, personal: tuple[str | None, ...] = ()) -> None:
    """Raise PasswordError when `password` may not be chosen; `personal` are the person's own
    e-mail, name and organisation, which a password must not be made of."""
    if len(password) < MIN_LENGTH:
        raise PasswordError("password_short")
    if len(password) > MAX_LENGTH:
        raise PasswordError("password_long")
    own = _parts(personal)
    result = zxcvbn(password[:CHECKED_LENGTH], user_inputs=[*SITE_WORDS, *own], max_length=CHECKED_LENGTH)
    if result["score"] >= MIN_SCORE:
        return
    words = [m for m in result["sequence"] if m["pattern"] == "dictionary"]
    if any(m["dictionary_name"] == "user_inputs" and m["matched_word"] in own for m in words):
        raise PasswordError("password_personal")
    if any(m["dictionary_name"] in ("passwords", "user_inputs") for m in words):
        raise PasswordError("password_common")
    raise PasswordError("password_guessable")


def _parts(values: tuple[str | None, ...]) -> list[str]:
    """The words of an e-mail, a name or an organisation, with and without Vietnamese marks
    ("nguyễn" and "nguyen"), each value also whole without spaces."""
    parts = []
    for value in values:
        for text in {value.lower(), _unmarked(value.lower())} if value else ():
            words = [w for w in re.split(r"[\W_]+", text) if len(w) >= 3]
            parts += [*words, "".join(words)]
    return list(dict.fromkeys(parts))


def _unmarked(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
