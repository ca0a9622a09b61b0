from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from extensions import limiter
from services import accounts
from web.auth.forms import LoginForm, ProfileForm, RegisterForm
from web.messages import message_for
from web.urls import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                form.email.data, form.password.data, form.full_name.data, form.role.data,
                innovator_type=form.innovator_type.data, organisation=form.organisation.data,
                place_code=form.place.data, phone=form.phone.data,
                preferred_language=form.preferred_language.data)
        except accounts.AccountError as error:
            form.email.errors.append(message_for(error))
        else:
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user:
            login_user(user)
            flash(_("Signed in."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
        form.password.errors.append(_("Wrong e-mail or password."))
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("Signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.place.data = current_user.place.code if current_user.place else ""
    if form.validate_on_submit():
        accounts.update_profile(current_user, full_name=form.full_name.data, organisation=form.organisation.data,
                                place_code=form.place.data, phone=form.phone.data,
                                preferred_language=form.preferred_language.data,
                                innovator_type=form.innovator_type.data,
                                email_notifications=form.email_notifications.data)
        flash(_("Profile saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form), 422 if form.errors else 200
