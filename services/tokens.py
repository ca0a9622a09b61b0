"""Personal API tokens: the secret is shown once, only its sha256 is kept.

A token looks like "lcm_<43 url-safe characters>"; its first 12 characters are kept as the prefix
that the profile page shows to tell tokens apart. 256 random bits make a slow hash unnecessary.
"""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from extensions import db
from models import ApiToken, User
from models.people import utcnow
from services import audit

SCHEME = "lcm_"
PREFIX_LENGTH = 12


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns (token, secret). The secret is not stored and cannot be shown again."""
    secret = SCHEME + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=_digest(secret),
                     prefix=secret[:PREFIX_LENGTH])
    db.session.add(token)
    db.session.flush()
    audit.record(user, "token.create", "api_token", token.id, None, {"name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def of(user: User) -> list[ApiToken]:
    """The user's tokens, active ones first, newest first."""
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                             ApiToken.id.desc())))


def revoke(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False if it is not theirs (or unknown). Revoking twice is harmless."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(user, "token.revoke", "api_token", token.id, None, {"name": token.name})
        db.session.commit()
    return True


def revoke_all(user: User) -> int:
    """Revoke every live token of the user, inside the caller's transaction (which audits why);
    returns how many were live."""
    live = list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.revoked_at.is_(None))))
    for token in live:
        token.revoked_at = utcnow()
        audit.record(user, "token.revoke", "api_token", token.id, None, {"name": token.name})
    return len(live)


def authenticate(secret: str) -> User | None:
    """The active user a live token belongs to, or None; records when the token was last used."""
    if not secret.startswith(SCHEME) or len(secret) > 200:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _digest(secret),
                                                        ApiToken.revoked_at.is_(None)))
    if token is None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token.user
