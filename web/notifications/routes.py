"""The notification bell (unread count in every page) and the list."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from services import notifications
from web.urls import parse_id

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    items = notifications.list_for(current_user)
    return render_template("notifications/list.html", items=items, text=notifications.text)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    """The notifications named by the field "id" (ids that cannot be one are ignored), or all of them
    when there is no such field; CSRF is checked for every POST by CSRFProtect."""
    named = request.form.getlist("id")
    ids = [i for i in map(parse_id, named) if i is not None]
    notifications.mark_read(current_user, ids if named else "all")
    flash(_("Marked as read."), "info")
    return redirect(url_for(".index"))
