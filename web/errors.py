"""Error pages in the visitor's language; RFC 9457 problem details for the API and JSON clients."""
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from services.errors import ConflictError
from web.throttles import retry_after

PROBLEM_JSON = "application/problem+json"

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid personal API token: Authorization: Bearer <token>."),
    403: _l("You do not have permission to do this."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large. Shorten the text or the file and try again."),
    415: _l("Send the body as JSON, with the header Content-Type: application/json."),
    422: _l("Some fields are not valid; see the errors of each field."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you saved before was lost; please try again."),
    503: _l("The service is temporarily unavailable. Please try again in a moment."),
}
TITLES = {
    400: _l("Bad request"),
    401: _l("Not signed in"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid data"),
    429: _l("Too many requests"),
    500: _l("Server error"),
    503: _l("Service unavailable"),
}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _l("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # API code aborts with data={"message", "errors", "type", "headers"} (flask_smorest.abort);
        # webargs puts the query's field errors under "messages", by location.
        data = getattr(error, "data", None) or {}
        errors = data.get("errors")
        if errors is None and isinstance(data.get("messages"), dict):
            errors = {field: messages for location in data["messages"].values() for field, messages in location.items()}
        headers = {key: value for key, value in error.get_headers() if key.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        message = data.get("message") or MESSAGES.get(error.code)
        if error.code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        if error.code == 429:  # a throttle: say when to come back, in the header and in words
            seconds = retry_after()
            headers["Retry-After"] = str(seconds)
            message = _("Too many attempts. Please try again %(when)s.",
                        when=format_timedelta(timedelta(seconds=seconds), add_direction=True))
        response, code = _render(error.code or 500, message,
                                 errors=errors,
                                 problem_type=data.get("type") or ("/api/problems/validation" if errors else None))
        return response, code, headers

    @app.errorhandler(ConflictError)
    def conflict(error: ConflictError):
        return _conflict(error)

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error: StaleDataError):
        # A versioned row moved on between this request reading it and writing it: someone else
        # acted first. Their change stands; this one is rolled back whole (audit, notifications,
        # e-mails included).
        return _conflict(ConflictError("changed_meanwhile"))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database went away (restart, network): say so and let the client retry; pool_pre_ping
        # replaces the dead connections on the next request.
        app.logger.warning("Database unavailable: %s", error.orig)
        from extensions import db
        db.session.rollback()
        response, code = _render(503, MESSAGES[503])
        return response, code, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        from extensions import db
        db.session.rollback()
        return _render(500, MESSAGES[500])


def _conflict(error: ConflictError):
    """409 for the API; on pages, the message and back to the page the visitor acted from."""
    from extensions import db
    from web.messages import message_for
    db.session.rollback()
    message = message_for(error)
    if wants_problem():
        return app_json(problem(409, message, problem_type="/api/problems/" + error.code.replace("_", "-"))), 409
    flash(message, "error")
    return redirect(_back() or url_for("main.index"))


def _back() -> str | None:
    """The same-site page the request came from (its path and query), if any."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def wants_problem() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem(code: int, detail, errors: dict | None = None, problem_type: str | None = None) -> dict:
    """An RFC 9457 problem details object; `errors` maps each field to its messages."""
    body = {"type": problem_type or "about:blank", "title": str(TITLES.get(code) or TITLES[400 if code < 500 else 500]),
            "status": code, "detail": str(detail), "instance": request.path}
    if errors:
        body["errors"] = {str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
                          for field, messages in errors.items()}
    return body


def _render(code: int, message, errors: dict | None = None, problem_type: str | None = None):
    message = message or MESSAGES[400]
    if wants_problem():
        return app_json(problem(code, message, errors, problem_type)), code
    return render_template("errors/error.html", code=code, message=str(message)), code


def app_json(body: dict):
    from flask import current_app
    response = current_app.json.response(body)
    response.mimetype = PROBLEM_JSON
    return response
