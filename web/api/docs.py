"""The browsable API docs: Swagger UI from the installed swagger-ui-bundle package, nothing from elsewhere."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}


@bp.route("")
def index():
    return render_template("api/docs.html")


@bp.route("/assets/<path:filename>")
def asset(filename):
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
