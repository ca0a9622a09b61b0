"""The one base class of the errors a service raises when it refuses what it was asked.

A service names the reason with a `code` and leaves the words to the web layer: web/messages.py
turns a code into a sentence in the reader's language, for pages and API problem details alike.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A refused action or unusable input. `code` says why ("exists", "not_draft", ...); `params`
    hold what the message shows (titles, column names, a limit)."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params
