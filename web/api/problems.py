"""Raising errors from the API: problem details (rendered by web/errors.py) with a stable type."""
from __future__ import annotations

from http import HTTPStatus

from flask_smorest import Blueprint, abort

PROBLEM_BASE = "/api/problems/"


def api_abort(status: int, detail=None, errors: dict | None = None, problem: str | None = None):
    """Stop the request with a problem details answer; `problem` names its type (e.g. "validation")."""
    data = {}
    if detail is not None:
        data["message"] = detail
    if errors:
        data["errors"] = errors
    if problem:
        data["type"] = PROBLEM_BASE + problem
    abort(status, **data)


def problems(blp: Blueprint, *codes: int):
    """Document the error answers an operation can give (all as problem details)."""
    def decorate(view):
        for code in sorted({*codes, 401, 429}, reverse=True):
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view
    return decorate
