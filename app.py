"""The application factory: config, extensions, blueprints, CLI. Nothing else happens here."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

import config
from extensions import CONTENT_SECURITY_POLICY, babel, bootstrap, csrf, db, limiter, login_manager, migrate, talisman


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(config.from_env())
    if test_config:
        app.config.update(test_config)
    if app.config["APP_ENV"] == "production" and app.config["SECRET_KEY"] == config.DEFAULT_SECRET:
        raise RuntimeError("Refusing to start in production with the default SECRET_KEY: set SECRET_KEY.")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        from web.proxies import TrustedProxies
        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    import models  # noqa: F401  (registers the tables for migrations)
    from web.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    production = app.config["APP_ENV"] == "production"
    talisman.init_app(app, content_security_policy=CONTENT_SECURITY_POLICY, frame_options="DENY",
                      force_https=False,  # TLS ends at the reverse proxy; see README "Running in production"
                      strict_transport_security=production, session_cookie_secure=production)

    from web import register_blueprints
    register_blueprints(app)

    import cli
    cli.register(app)

    if app.config["MATCHING_PRELOAD"]:
        from services import match_index
        match_index.preload(app)
    return app
