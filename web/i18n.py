"""Which language a page is shown in: the visitor's choice, then their profile, then Vietnamese."""
from flask import current_app, session
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.preferred_language in languages:
        return current_user.preferred_language
    return current_app.config["BABEL_DEFAULT_LOCALE"]
