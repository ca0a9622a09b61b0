from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from services import health, submissions
from web.page_cache import for_visitors
from web.urls import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
@for_visitors
def index():
    return render_template("main/index.html", latest=submissions.latest(current_user, 6),
                           counts=submissions.counts())


@bp.route("/lang/<code>")
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("main.index"))


@bp.route("/healthz")
def healthz():
    """Up or not, for anyone (the load balancer); the counts and the version for staff only."""
    report = health.report(details=current_user.is_staff)
    return jsonify(report), 200 if report["status"] == "ok" else 503
