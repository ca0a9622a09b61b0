"""The JSON API under /api/v1: personal tokens only (no cookies, so no CSRF), problem details for
every error, an OpenAPI 3 document at /api/openapi.json and its docs page at /api/docs, both in
the reader's language (web/api/openapi_i18n.py)."""
from __future__ import annotations

from http import HTTPStatus

from flask import Flask, current_app, json, request
from flask_babel import pgettext
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from extensions import csrf, limiter
from web.api.auth import authenticate
from web.api.openapi_i18n import CONTEXT, translated
from web.errors import PROBLEM_JSON

API_PREFIX = "/api/v1"


class ProblemApi(Api):
    """flask-smorest, minus its error handler (web/errors.py answers every error), with every
    error response documented as application/problem+json and the document in the reader's language."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists the errors it can answer

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        from web.api.schemas import ProblemSchema
        for status in HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": ProblemSchema}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)

    def _openapi_json(self):
        """The OpenAPI document, its summaries, descriptions and titles in the reader's language."""
        document = translated(self.spec.to_dict(), lambda text, where: pgettext(CONTEXT, text))
        return current_app.response_class(json.dumps(document, indent=2, sort_keys=False),
                                          mimetype="application/json")


def _token_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# Failed token attempts are throttled like sign-in attempts; only requests that carry a token count.
# One Limit object for every app: the limiter keeps its blueprint limits in a set.
THROTTLE = limiter.shared_limit(_token_rate_limit, scope="api-token",
                                deduct_when=lambda response: response.status_code == 401,
                                exempt_when=lambda: "Authorization" not in request.headers)


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API: the caller comes from the token before each request, no CSRF check
    (cookies are not read) and failed token attempts are throttled.

    Called once per blueprint, at import: a hook added again for each app would run again per request.
    """
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blp.before_request(authenticate)
    csrf.exempt(blp)
    THROTTLE(blp)
    return blp


def register(app: Flask) -> None:
    """Serve the API's blueprints, its OpenAPI document and its docs page on `app`."""
    from web.api import docs, proposals, submissions, system

    app.config.setdefault("API_TITLE", "Lào Cai Innovation Match API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Ideas, technology needs, research orders, their matches, match proposals and the "
                                "province's indicators. Authenticate with a personal token from your profile page: "
                                "`Authorization: Bearer <token>`. Errors are RFC 9457 problem details."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {}],
    })
    api = ProblemApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})

    # In this order, the document lists ideas, needs, orders, proposals, then the caller and indicators.
    for blp in (*submissions.BLUEPRINTS.values(), proposals.bp, system.bp):
        api.register_blueprint(blp)
    app.register_blueprint(docs.bp)
