"""Which language a page is shown in: the visitor's choice, then their profile, then Vietnamese.

The API ignores cookies: its token's user's preferred language, then Accept-Language, then Vietnamese.
Its docs page and OpenAPI document are read in a browser, so they follow the pages' rule."""
from flask import current_app, g, request, session
from flask_login import current_user

# Under /api/ but for people in a browser: the docs page and the document it shows.
API_DOCUMENTATION = ("/api/docs", "/api/openapi.json")


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if request and request.path.startswith("/api/") and not request.path.startswith(API_DOCUMENTATION):
        user = g.get("api_user")
        if user is not None and user.preferred_language in languages:
            return user.preferred_language
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.preferred_language in languages:
        return current_user.preferred_language
    return current_app.config["BABEL_DEFAULT_LOCALE"]
