"""Error pages in the visitor's language; JSON for JSON clients."""
from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large. Shorten the text or the file and try again."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you saved before was lost; please try again."),
    503: _l("The service is temporarily unavailable. Please try again in a moment."),
}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _l("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _render(error.code or 500, MESSAGES.get(error.code))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        from extensions import db
        db.session.rollback()
        return _render(500, MESSAGES[500])


def _render(code: int, message):
    message = str(message or MESSAGES[400])
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"status": code, "detail": message}, code
    return render_template("errors/error.html", code=code, message=message), code
