"""People: accounts, roles and profiles."""
from __future__ import annotations

import enum
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_login import AnonymousUserMixin, UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from extensions import db

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The password's Argon2id hash with a new salt (argon2-cffi's RFC 9106 defaults: ~0.1 s of one core)."""
    return _hasher.hash(password)


class Role(str, enum.Enum):
    INNOVATOR = "innovator"
    BUSINESS = "business"
    STAFF = "staff"
    ADMIN = "admin"


# Department staff and administrators: who reviews proposals, runs rounds and sees everything.
STAFF_ROLES = (Role.STAFF.value, Role.ADMIN.value)


class InnovatorType(str, enum.Enum):
    STUDENT = "student"
    STARTUP = "startup"
    RESEARCHER = "researcher"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def canonical_email(raw: str) -> str:
    """The one spelling of an e-mail address that accounts are stored and looked up by: NFC, the
    domain in its Unicode form after IDNA (UTS 46) mapping, so `xn--` and Unicode spellings meet,
    everything in lower case. Never raises: an address email-validator refuses (forms refuse it
    first) is only normalised and lower-cased, so a lookup simply finds nothing."""
    text = unicodedata.normalize("NFC", (raw or "").strip())
    try:
        valid = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return text.lower()
    local = unicodedata.normalize("NFC", valid.local_part.lower())
    return f"{local}@{valid.domain.lower()}"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    full_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.INNOVATOR.value, index=True)
    innovator_type: Mapped[str | None] = mapped_column(sa.String(20))
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    place_id: Mapped[int | None] = mapped_column(sa.ForeignKey("places.id"))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    preferred_language: Mapped[str] = mapped_column(sa.String(5), default="vi")
    email_notifications: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The daily digest of alerts and followed sectors and districts (services/alerts.py): wanted or
    # not, and when the last one was made (at most one a day; the next covers what came after).
    digest_emails: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    digest_sent_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session's identity (get_id): raising it ends every session signed in before.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    place = relationship("Place")

    @validates("email")
    def _canonical(self, key: str, value: str) -> str:
        # Whatever path writes an address (forms, API, CLI, seeding), the unique index sees one spelling.
        return canonical_email(value)

    def get_id(self) -> str:
        """The session's user id, "<id>:<epoch>": the login manager's loader refuses an older epoch."""
        return f"{self.id}:{self.session_epoch or 0}"

    def end_sessions(self) -> None:
        """End every session of this account (signed-in cookies from any device); committed by the caller."""
        self.session_epoch = User.session_epoch + 1

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Visitor(AnonymousUserMixin):
    """Someone who is not signed in: Flask-Login's current_user then (see web/__init__.py), so that
    `current_user.is_staff` and `.is_admin` can be asked of anyone."""

    is_staff = False
    is_admin = False


def is_staff(user: User | Visitor | None) -> bool:
    """Department staff or an administrator. Services also get no user at all (None), e.g. from
    the command line: that is nobody's staff either."""
    return user is not None and user.is_staff
