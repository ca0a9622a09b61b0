"""Throttles of sign-in, registration and password reset, on Flask-Limiter's storage (Redis with
REDIS_URL). Addresses are the client's (web/proxies.py); sign-in counts only failed attempts,
per address and per account, so a guesser cannot lock everyone out behind one proxy and a
correct password is never what fills the bucket. A 429 tells when to come back (Retry-After)."""
from __future__ import annotations

import logging
import time

from flask import current_app, request
from limits import parse_many

from extensions import limiter
from models.people import canonical_email

log = logging.getLogger(__name__)

ACCOUNT_SIGN_IN_SCOPE = "sign-in-account"


def _config(name: str):
    return lambda: current_app.config[name]


def _account() -> str:
    # The address typed into the form, in its one spelling; empty (no limit applies) without one.
    email = request.form.get("email", "")
    return canonical_email(email[:320])[:254] if email.strip() else ""


def _failed(response) -> bool:
    return response.status_code == 401


def _created(response) -> bool:
    return response.status_code in (302, 303)


sign_in_by_address = limiter.shared_limit(_config("LOGIN_RATE_LIMIT"), scope="sign-in", methods=["POST"],
                                          deduct_when=_failed)
sign_in_by_account = limiter.shared_limit(_config("LOGIN_ACCOUNT_RATE_LIMIT"), scope=ACCOUNT_SIGN_IN_SCOPE,
                                          key_func=_account, methods=["POST"], deduct_when=_failed)
registration = limiter.shared_limit(_config("REGISTRATION_RATE_LIMIT"), scope="registration", methods=["POST"],
                                    deduct_when=_created)
reset_by_address = limiter.shared_limit(_config("PASSWORD_RESET_RATE_LIMIT"), scope="password-reset", methods=["POST"])
reset_by_account = limiter.shared_limit(_config("PASSWORD_RESET_ACCOUNT_RATE_LIMIT"), scope="password-reset-account",
                                        key_func=_account, methods=["POST"])


def forget_failed_sign_ins(email: str) -> None:
    """After a password reset the owner may sign in at once, whatever a guesser did to the account."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    try:
        for item in parse_many(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]):
            limiter.limiter.clear(item, canonical_email(email), ACCOUNT_SIGN_IN_SCOPE)
    except Exception:  # the password is already saved; an unreachable counter store must not undo the answer
        log.warning("Could not clear the failed sign-ins of %s", email, exc_info=True)


def retry_after() -> int:
    """Seconds until the limit this request broke lets it through again (at least 1)."""
    try:
        breached = limiter.current_limit
        reset_at = breached.reset_at if breached is not None else None
    except Exception:  # the counters' store went away between the refusal and this answer
        reset_at = None
    if reset_at is None:
        return 60
    return max(1, int(reset_at - time.time()))  # reset_at is already a whole second, rounded up
