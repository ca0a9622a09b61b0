"""Blueprints, one package per area of the site."""
from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from extensions import login_manager
from models import User
from models.people import Visitor
from services import accounts, formats
from services import submissions as submission_service
from services.notifications import unread_count
from services.submission_types import BY_SLUG, type_of


def register_blueprints(app: Flask) -> None:
    from services.labels import template_labels
    from web import api, errors
    from web.admin.routes import bp as admin_bp
    from web.audit.routes import bp as audit_bp
    from web.auth.routes import bp as auth_bp
    from web.exports.routes import bp as exports_bp
    from web.mail.routes import bp as mail_bp
    from web.main.routes import bp as main_bp
    from web.notifications.routes import bp as notifications_bp
    from web.reports.routes import bp as reports_bp
    from web.review.routes import bp as review_bp
    from web.rounds.routes import bp as rounds_bp
    from web.submissions.routes import bp as submissions_bp
    from web.tokens.routes import bp as tokens_bp
    from web.urls import register_converters

    register_converters(app)  # before the first route: rules bind their converters when added
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(submissions_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(mail_bp, url_prefix="/mail")
    app.register_blueprint(rounds_bp, url_prefix="/rounds")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(exports_bp)
    app.register_blueprint(tokens_bp, url_prefix="/auth")
    api.register(app)
    errors.register(app)

    register_formats(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"

    @app.context_processor
    def inject_globals():
        return {"locale": str(get_locale()), "version": app.config["VERSION"],
                "can_see_details": lambda item: submission_service.can_see_details(current_user, item),
                "SUBMISSION_TYPES": BY_SLUG, "type_of": type_of,
                # The bell in the navigation bar: counted here, once per page, not by the template.
                "unread_notifications": unread_count(current_user)
                if current_user.is_authenticated else 0,
                **template_labels()}


# Flask-Babel's filters, each with its own default pattern: taken away so that no template writes a
# date or a number in another convention than services.formats.
BABEL_FILTERS = ("datetimeformat", "dateformat", "timeformat", "timedeltaformat", "numberformat",
                 "decimalformat", "currencyformat", "percentformat", "scientificformat")


def register_formats(app: Flask) -> None:
    for name in BABEL_FILTERS:
        app.jinja_env.filters.pop(name, None)
    app.jinja_env.filters.update(date=formats.day, datetime=formats.moment, decimal=formats.decimal,
                                 number=formats.number, percent=formats.percent)
    app.jinja_env.globals["time_zone"] = formats.zone_name


# Visitors answer is_staff/is_admin like accounts do: one check, `current_user.is_staff`, for everyone.
login_manager.anonymous_user = Visitor


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # "<id>:<epoch>": a cookie from before a sign-out or a password change names an old epoch.
    return accounts.session_user(session_id)
