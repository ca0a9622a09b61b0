"""E-mails that could not be sent yet: their error and the next attempt, and "send again". Staff only."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from services import mail
from web.access import staff_required

bp = Blueprint("mail", __name__)


@bp.route("/")
@staff_required
def index():
    return render_template("mail/list.html", mails=mail.unsent(), form=FlaskForm())


@bp.route("/<int:mail_id>/send", methods=["POST"])
@staff_required
def send_again(mail_id):
    outgoing = mail.get(mail_id)
    if outgoing is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    mail.send_again(outgoing)
    flash(_("The e-mail is being sent again."), "info")
    return redirect(url_for(".index"))
