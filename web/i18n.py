"""Which language a page is shown in: the visitor's choice, then their profile (a Chinese reader gets
English: there is no Chinese catalog), then Vietnamese.

The API ignores cookies: its token's user's preferred language, then Accept-Language, then Vietnamese.
Its docs page and OpenAPI document are read in a browser, so they follow the pages' rule."""
from flask import current_app, g, request, session
from flask_login import current_user

# Under /api/ but for people in a browser: the docs page and the document it shows.
API_DOCUMENTATION = ("/api/docs", "/api/openapi.json")


# A preferred language the pages have no catalog for -> the pages' language its readers get.
READ_AS = {"zh": "en"}  # Yunnan partners read English better than Vietnamese


def _pages_language(preferred: str | None) -> str | None:
    return READ_AS.get(preferred, preferred)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if request and request.path.startswith("/api/") and not request.path.startswith(API_DOCUMENTATION):
        user = g.get("api_user")
        if user is not None and _pages_language(user.preferred_language) in languages:
            return _pages_language(user.preferred_language)
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and _pages_language(current_user.preferred_language) in languages:
        return _pages_language(current_user.preferred_language)
    return current_app.config["BABEL_DEFAULT_LOCALE"]
