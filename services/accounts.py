"""Accounts: registration, sign-in and out, passwords (change, reset by e-mail) and admin-made accounts.

Sessions: a signed-in cookie names the account and its `session_epoch` (User.get_id); signing
out, changing or resetting the password raise the epoch, so every cookie issued before, on any
device, stops opening pages (`session_user`). API tokens are revoked by a password change or
reset: a token made by whoever knew the old password must not outlive it.

A password reset link carries the account's id and a fingerprint of its current password hash,
signed with SECRET_KEY and valid for PASSWORD_RESET_MAX_AGE seconds: once the password has
changed (by this link or otherwise) the fingerprint no longer matches, so each link works once.
"""
from __future__ import annotations

import functools
import hashlib

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import Place, Role, User
from models.people import canonical_email
from services import audit, mail, passwords, tokens
from services.errors import ServiceError
from services.notifications import absolute_url

SELF_SERVICE_ROLES = (Role.INNOVATOR.value, Role.BUSINESS.value)
RESET_SALT = "password-reset"
# The audit action of a profile change; the conflict-of-interest rule reads past organisations from it.
PROFILE_ACTION = "user.profile"
PROFILE_FIELDS = ("full_name", "organisation", "place_code", "phone", "preferred_language", "innovator_type",
                  "email_notifications", "digest_emails")


class AccountError(ServiceError):
    """A user-caused account problem: "email_taken", "bad_role", "wrong_password",
    "reset_link_invalid" or "reset_link_expired"."""


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == canonical_email(email)))


def create_user(email: str, password: str, full_name: str, role: str, *, password_hash: str | None = None,
                **profile) -> User:
    """Create an account; raises AccountError('email_taken') if the e-mail exists, also when
    another request takes it at the same moment (the unique index decides). The password policy
    is for passwords people choose (register, add_account, change and reset), not for seeding.
    ``password_hash``: the password's Argon2 hash made beforehand (``models.people.hash_password``),
    for seeding demo accounts that share one password: one hash (0.1–0.2 s) instead of one each."""
    user = _new_user(email, password if password_hash is None else None, full_name, role, **profile)
    if password_hash is not None:
        user.password_hash = password_hash
    return _save(user)


def register(email: str, password: str, full_name: str, role: str, **profile) -> User:
    """Self-service sign-up: only innovators and businesses; staff are made by an admin.
    Raises PasswordError for a password the policy refuses."""
    if role not in SELF_SERVICE_ROLES:
        raise AccountError("bad_role")
    passwords.check(password, (email, full_name, profile.get("organisation")))
    return create_user(email, password, full_name, role, **profile)


def add_account(actor: User | None, email: str, password: str, full_name: str, role: str, **profile) -> User:
    """An administrator (or the create-admin command, actor None) makes an account of any role;
    the initial password follows the policy too, and the creation is audited."""
    passwords.check(password, (email, full_name, profile.get("organisation")))
    return _save(_new_user(email, password, full_name, role, **profile), audited=True, actor=actor)


@functools.cache
def _stand_in() -> User:
    """The account an address with no account is checked against, hashed on first use (an Argon2
    hash, ~0.6 s here: not at import, which every process, command and worker start pays)."""
    stand_in = User()
    stand_in.set_password("a password nobody has")
    return stand_in


def authenticate(email: str, password: str) -> User | None:
    """The active account with this address and password, else None. An unknown address costs
    one password check as well, so the answer's time does not tell whether an account exists."""
    user = find_by_email(email)
    if user is None:
        _stand_in().check_password(password)
        return None
    if user.active and user.check_password(password):
        return user
    return None


def session_user(session_id: str) -> User | None:
    """The account a signed-in cookie names ("<id>:<epoch>", see User.get_id), if that session
    has not been ended since and the account is active; None otherwise, or for a malformed id."""
    user_id, _sep, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()) or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active and user.session_epoch == int(epoch) else None


def sign_out(user: User) -> None:
    """End every session of the account (this cookie and any other device's)."""
    user.end_sessions()
    audit.record(user, "user.sign_out", "user", user.id, None, {"sessions_ended": True})
    db.session.commit()


def change_password(user: User, current: str, new: str) -> int:
    """The signed-in user's new password: the current one must be right. Ends every session
    (the caller signs this one in again), revokes the API tokens and tells the owner by e-mail.
    Returns how many tokens were revoked."""
    if not user.check_password(current):
        raise AccountError("wrong_password")
    passwords.check(new, (user.email, user.full_name, user.organisation))
    return _set_password(user, new, "user.password_change")


def request_password_reset(email: str) -> None:
    """E-mail a reset link to an active account with this address. Answers the same whether or
    not such an account exists, so the form does not tell who has an account."""
    user = find_by_email(email)
    if user is None or not user.active:
        return
    link = absolute_url(current_app.url_map.bind("").build("auth.reset_password", {"token": _reset_token(user)}))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with force_locale(user.preferred_language or "vi"):
        subject = _("Lào Cai Innovation Match") + ": " + _("reset your password")
        body = "\n".join([
            _("Someone (probably you) asked to reset the password of the account %(email)s.", email=user.email),
            "", _("Choose a new password here (the link works once, for %(minutes)s minutes):", minutes=minutes),
            link, "", _("If you did not ask for this, ignore this e-mail: your password stays as it is.")])
    mail.queue(user.email, subject, body)
    audit.record(None, "user.password_reset_request", "user", user.id)
    db.session.commit()


def user_for_reset(token: str) -> User:
    """The account a reset link is for; raises AccountError("reset_link_expired") for an old link,
    AccountError("reset_link_invalid") for a used, altered or unknown one."""
    serializer = URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)
    try:
        user_id, fingerprint = serializer.loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as error:
        raise AccountError("reset_link_expired") from error
    except (BadSignature, ValueError, TypeError) as error:
        raise AccountError("reset_link_invalid") from error
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _fingerprint(user):
        raise AccountError("reset_link_invalid")
    return user


def reset_password(token: str, new: str) -> User:
    """Set the password from a reset link: the link then stops working, every session ends and
    the API tokens are revoked."""
    user = user_for_reset(token)
    passwords.check(new, (user.email, user.full_name, user.organisation))
    _set_password(user, new, "user.password_reset")
    return user


def update_profile(user: User, *, full_name: str, organisation: str | None, place_code: str | None,
                   phone: str | None, preferred_language: str, innovator_type: str | None = None,
                   email_notifications: bool | None = None, digest_emails: bool | None = None) -> None:
    """Save the user's own profile; every change is audited (the fields that changed, before and
    after), in the same transaction."""
    before = _profile(user)
    user.full_name = full_name.strip()
    user.organisation = organisation or None
    user.place = _place(place_code)
    user.phone = phone or None
    user.preferred_language = preferred_language
    if user.role == Role.INNOVATOR.value and innovator_type:
        user.innovator_type = innovator_type
    if email_notifications is not None:
        user.email_notifications = email_notifications
    if digest_emails is not None:
        user.digest_emails = digest_emails
    after = _profile(user)
    changed = [field for field in PROFILE_FIELDS if before[field] != after[field]]
    if changed:
        audit.record(user, PROFILE_ACTION, "user", user.id, {f: before[f] for f in changed},
                     {f: after[f] for f in changed})
    db.session.commit()


def _profile(user: User) -> dict:
    return {"full_name": user.full_name, "organisation": user.organisation,
            "place_code": user.place.code if user.place else None, "phone": user.phone,
            "preferred_language": user.preferred_language, "innovator_type": user.innovator_type,
            "email_notifications": user.email_notifications, "digest_emails": user.digest_emails}


def set_access(user: User, role: str, active: bool, actor: User | None = None) -> None:
    """An admin changes someone's role or (de)activates the account; a change is audited."""
    if role not in {r.value for r in Role}:
        raise AccountError("bad_role")
    before = {"role": user.role, "active": user.active}
    user.role, user.active = role, active
    if before != {"role": role, "active": active}:
        audit.record(actor, "user.access", "user", user.id, before, {"role": role, "active": active})
    db.session.commit()


def _new_user(email: str, password: str | None, full_name: str, role: str, *,
              innovator_type: str | None = None, organisation: str | None = None,
              place_code: str | None = None, phone: str | None = None, preferred_language: str = "vi") -> User:
    if role not in {r.value for r in Role}:
        raise AccountError("bad_role")
    if find_by_email(email):
        raise AccountError("email_taken")
    user = User(email=email, full_name=full_name.strip(), role=role,
                innovator_type=innovator_type if role == Role.INNOVATOR.value else None,
                organisation=organisation or None, phone=phone or None,
                preferred_language=preferred_language)
    user.place = _place(place_code)
    if password is not None:
        user.set_password(password)
    return user


def _save(user: User, audited: bool = False, actor: User | None = None) -> User:
    """Insert a new account (with its audit entry, by `actor`, when `audited`) in one commit."""
    db.session.add(user)
    try:
        db.session.flush()
        if audited:
            audit.record(actor, "user.create", "user", user.id, None, {"email": user.email, "role": user.role})
        db.session.commit()
    except IntegrityError as error:  # a parallel registration with the same address won
        db.session.rollback()
        raise AccountError("email_taken") from error
    return user


def _set_password(user: User, new: str, action: str) -> int:
    user.set_password(new)
    user.end_sessions()
    revoked = tokens.revoke_all(user)
    audit.record(user, action, "user", user.id, None, {"sessions_ended": True, "tokens_revoked": revoked})
    with force_locale(user.preferred_language or "vi"):
        mail.queue(user.email, _("Lào Cai Innovation Match") + ": " + _("your password was changed"), "\n".join([
            _("The password of the account %(email)s was changed. Other sessions were signed out and "
              "%(count)s API tokens were revoked.", email=user.email, count=revoked),
            "", _("If you did not do this, reset your password now: %(url)s",
                  url=absolute_url(current_app.url_map.bind("").build("auth.forgot_password")))]))
    db.session.commit()
    return revoked


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def _reset_token(user: User) -> str:
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT).dumps([user.id, _fingerprint(user)])


def _place(code: str | None) -> Place | None:
    return db.session.scalar(sa.select(Place).where(Place.code == code)) if code else None
