from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from services import accounts, alerts
from services.passwords import PasswordError
from web import throttles
from web.auth.forms import (
    ChangePasswordForm,
    FollowForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from web.messages import message_for
from web.urls import safe_next

bp = Blueprint("auth", __name__)

# Pages that carry a password or a reset link are never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/register", methods=["GET", "POST"])
@throttles.registration
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
        except PasswordError as error:
            form.password.errors.append(message_for(error))
        except accounts.AccountError as error:
            form.email.errors.append(message_for(error))
        else:
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@throttles.sign_in_by_address
@throttles.sign_in_by_account
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
    if current_user.is_authenticated:
        accounts.sign_out(current_user)
    logout_user()
    flash(_("Signed out on every device."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            revoked = accounts.change_password(user, form.current.data, form.password.data)
        except PasswordError as error:
            form.password.errors.append(message_for(error))
        except accounts.AccountError as error:
            form.current.errors.append(message_for(error))
        else:
            login_user(user)  # this session goes on with the account's new epoch; every other one ended
            flash(ngettext("Password changed. You were signed out everywhere else and %(num)s API token was "
                           "revoked.", "Password changed. You were signed out everywhere else and %(num)s API "
                           "tokens were revoked.", revoked), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200, NO_STORE


@bp.route("/forgot", methods=["GET", "POST"])
@throttles.reset_by_address
@throttles.reset_by_account
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If an account has this e-mail address, a link to choose a new password is on its way. "
                "It works once, for %(minutes)s minutes.",
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        accounts.user_for_reset(token)
    except accounts.AccountError as error:
        return render_template("auth/reset.html", form=None, problem=message_for(error)), 400, NO_STORE
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data)
        except PasswordError as error:
            form.password.errors.append(message_for(error))
        except accounts.AccountError as error:  # used or expired while the form was open
            return render_template("auth/reset.html", form=None, problem=message_for(error)), 400, NO_STORE
        else:
            throttles.forget_failed_sign_ins(user.email)
            logout_user()  # whoever was signed in here, the page is for the link's account
            flash(_("Your new password is saved. Sign in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, problem=None), 422 if form.errors else 200, NO_STORE


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
                                email_notifications=form.email_notifications.data,
                                digest_emails=form.digest_emails.data)
        flash(_("Profile saved."), "success")
        return redirect(url_for("auth.profile"))
    return _profile_page(form), 422 if form.errors else 200


def _profile_page(form: ProfileForm, follow_form: FollowForm | None = None) -> str:
    return render_template("auth/profile.html", form=form, follow_form=follow_form or FollowForm(formdata=None),
                           follows=alerts.followed_names(current_user))


@bp.route("/profile/follows", methods=["POST"])
@login_required
def follow():
    form = FollowForm()
    if form.validate_on_submit():
        topic, _sep, value = form.topic.data.partition(":")
        if alerts.follow(current_user, topic, value) is not None:
            flash(_("You follow it now: what is newly published there comes in your daily digest."), "success")
            return redirect(url_for("auth.profile", _anchor="follows"))
        form.topic.errors.append(_("Choose a sector or a former district from the list."))
    profile_form = ProfileForm(obj=current_user)
    profile_form.place.data = current_user.place.code if current_user.place else ""
    return _profile_page(profile_form, form), 422


@bp.route("/profile/follows/<int:follow_id>/delete", methods=["POST"])
@login_required
def unfollow(follow_id):
    if not alerts.unfollow(current_user, follow_id):
        abort(404)
    flash(_("You no longer follow it."), "success")
    return redirect(url_for("auth.profile", _anchor="follows"))
