"""Personal API tokens in the profile area: create one (its secret is shown once) and revoke."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from services import tokens
from web.access import no_store
from web.tokens.forms import RevokeForm, TokenForm

bp = Blueprint("tokens", __name__)


def _page(form, secret=None, status=200):
    return render_template("auth/tokens.html", form=form, revoke_form=RevokeForm(), tokens=tokens.of(current_user),
                           secret=secret), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
@no_store
def index():
    form = TokenForm()
    if form.validate_on_submit():
        _, secret = tokens.create(current_user, form.name.data)
        # Shown in this answer only: never flashed (the session cookie is signed, not encrypted).
        return _page(TokenForm(formdata=None), secret=secret, status=201)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id):
    if not RevokeForm().validate_on_submit():
        abort(400)
    if not tokens.revoke(current_user, token_id):
        abort(404)
    flash(_("Token revoked: it no longer works."), "info")
    return redirect(url_for(".index"))
