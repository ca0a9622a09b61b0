"""Accounts: registration, sign-in and admin-made accounts."""
from __future__ import annotations

import sqlalchemy as sa

from extensions import db
from models import Place, Role, User
from services import audit
from services.errors import ServiceError

SELF_SERVICE_ROLES = (Role.INNOVATOR.value, Role.BUSINESS.value)
# The audit action of a profile change; the conflict-of-interest rule reads past organisations from it.
PROFILE_ACTION = "user.profile"
PROFILE_FIELDS = ("full_name", "organisation", "place_code", "phone", "preferred_language", "innovator_type",
                  "email_notifications")


class AccountError(ServiceError):
    """A user-caused account problem: "email_taken" or "bad_role"."""


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str, full_name: str, role: str, *,
                innovator_type: str | None = None, organisation: str | None = None,
                place_code: str | None = None, phone: str | None = None,
                preferred_language: str = "vi") -> User:
    """Create an account; raises AccountError('email_taken') if the e-mail exists."""
    if role not in {r.value for r in Role}:
        raise AccountError("bad_role")
    if find_by_email(email):
        raise AccountError("email_taken")
    user = User(email=email.strip().lower(), full_name=full_name.strip(), role=role,
                innovator_type=innovator_type if role == Role.INNOVATOR.value else None,
                organisation=organisation or None, phone=phone or None,
                preferred_language=preferred_language)
    user.place = _place(place_code)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def register(email: str, password: str, full_name: str, role: str, **profile) -> User:
    """Self-service sign-up: only innovators and businesses; staff are made by an admin."""
    if role not in SELF_SERVICE_ROLES:
        raise AccountError("bad_role")
    return create_user(email, password, full_name, role, **profile)


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user and user.active and user.check_password(password):
        return user
    return None


def update_profile(user: User, *, full_name: str, organisation: str | None, place_code: str | None,
                   phone: str | None, preferred_language: str, innovator_type: str | None = None,
                   email_notifications: bool | None = None) -> None:
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
            "email_notifications": user.email_notifications}


def set_access(user: User, role: str, active: bool, actor: User | None = None) -> None:
    """An admin changes someone's role or (de)activates the account; a change is audited."""
    if role not in {r.value for r in Role}:
        raise AccountError("bad_role")
    before = {"role": user.role, "active": user.active}
    user.role, user.active = role, active
    if before != {"role": role, "active": active}:
        audit.record(actor, "user.access", "user", user.id, before, {"role": role, "active": active})
    db.session.commit()


def _place(code: str | None) -> Place | None:
    return db.session.scalar(sa.select(Place).where(Place.code == code)) if code else None
