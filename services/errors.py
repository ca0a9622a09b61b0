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


class ConflictError(ServiceError):
    """The thing is no longer in the state the request was made for: someone else acted on it
    first ("wrong_state", "not_draft", "already_published", "not_published"), or at the same moment
    ("changed_meanwhile": the row's version moved on between reading and writing, see
    docs/architecture.md, "Two people at once"). Nothing was changed. Pages answer with the message
    and a redirect, the API with a 409 problem."""
