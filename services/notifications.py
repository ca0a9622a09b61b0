"""In-app notifications, with an e-mail copy for those who want one.

A notification stores a `kind` and its `params`; the words are chosen when it is read, in the reader's
language (`text`), and for the e-mail in the recipient's preferred language. E-mails are kept with
the change that caused them and sent once it is committed (services.mail): a rolled-back change
sends nothing, a refused e-mail is retried and shown to staff.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from extensions import db
from models import Notification, User
from models.people import STAFF_ROLES, utcnow
from services import mail

# kind -> the message, filled with the notification's params.
MESSAGES = {
    "proposal_new": _l("New match proposal to review: “%(idea)s” and “%(target)s”."),
    "proposals_new_batch": _l("The matching engine proposed %(count)s new matches for review."),
    "round_published": _l("%(name)s published the matching round “%(round)s”: %(count)s new proposals to review."),
    "interest_new": _l("%(name)s expressed interest: “%(idea)s” and “%(target)s”."),
    "proposal_assigned": _l("A proposal was passed to you for review (conflict of interest of a colleague): "
                            "“%(idea)s” and “%(target)s”."),
    "introduction": _l("You are introduced: “%(idea)s” and “%(target)s”. The contacts are in My matches."),
    "introduction_held": _l("“%(idea)s”, which you hold for its author, is introduced to “%(target)s”: "
                            "pass the contacts on to its author."),
    "proposal_approved": _l("Your proposal was approved: “%(idea)s” and “%(target)s”."),
    "proposal_rejected": _l("Your proposal was not approved: “%(idea)s” and “%(target)s”."),
    "match_new": _l("Newly published and a good fit for your “%(mine)s”: “%(new)s”."),
    # the order's author is the staff member who wrote it for the ordering body: not "your"
    "match_new_order": _l("A newly published idea is a good fit for the research order “%(mine)s”: “%(new)s”."),
    "ideas_imported": _l("%(name)s of the Department imported %(count)s of your ideas from the file “%(file)s”; "
                         "they are published under your name. Check them in My submissions."),
}

log = logging.getLogger(__name__)


def text(kind: str, params: dict | str) -> str:
    """The message of a notification in the current language."""
    if isinstance(params, str):
        params = json.loads(params or "{}")
    template = MESSAGES.get(kind)
    if template is None:
        return kind
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def link_for(kind: str, params: dict, user: User) -> str | None:
    """The page a notification opens for `user`, as a path from the site's root: staff open the
    proposal (the queue for a batch), everyone else My matches, where an introduction's contacts
    are too. Services name no pages: the routes are looked up by endpoint here."""
    if kind in ("match_new", "match_new_order"):  # the match and its reasons, on the recipient's own submission's page
        path = current_app.url_map.bind("").build("submissions.detail", {"slug": params["slug"],
                                                                         "item_id": params["item"]})
        return f"{path}#match-{params['new_slug']}-{params['new_item']}"
    if kind in ("proposals_new_batch", "round_published"):
        endpoint, values = "review.queue", {}
    elif kind == "ideas_imported":
        endpoint, values = "submissions.mine", {}
    elif "proposal" not in params:
        return None
    elif kind == "introduction" or not user.is_staff:
        endpoint, values = "review.my_matches", {}
    else:
        endpoint, values = "review.detail", {"proposal_id": params["proposal"]}
    # Built from the app's routes alone: notifications are also made outside a request (commands, jobs).
    return current_app.url_map.bind("").build(endpoint, values)


def notify(user: User, kind: str, params: dict, email: bool = True) -> Notification:
    """Add a notification for `user` (committed with the caller's change) and, if they want e-mail,
    queue an e-mail in their preferred language that is sent after the commit. The page it opens
    is chosen by link_for() and stored with it. ``email=False``: in-app only (alerts, which reach
    the inbox in the daily digest instead)."""
    if kind not in MESSAGES:
        raise ValueError(f"Unknown notification kind: {kind}")
    link = link_for(kind, params, user)
    note = Notification(user_id=user.id, kind=kind, params=json.dumps(params, ensure_ascii=False), link=link)
    db.session.add(note)
    if email and user.email_notifications and user.active:
        with force_locale(user.preferred_language or "vi"):
            message = text(kind, params)
            subject = _("Lào Cai Innovation Match") + ": " + _shorten(message, 120)
            lines = [message]
            if link:
                lines += ["", _("Open: %(url)s", url=absolute_url(link))]
            lines += ["", "—", _("You receive this e-mail because e-mail notifications are on in your profile. "
                                 "You can switch them off there.")]
        mail.queue(user.email, subject, "\n".join(lines))
    return note


def notify_staff(kind: str, params: dict, except_user: User | None = None) -> int:
    """Notify every active staff member and administrator (except one, e.g. the one who acted)."""
    count = 0
    for person in staff_members():
        if except_user is None or person.id != except_user.id:
            notify(person, kind, params)
            count += 1
    return count


def staff_members() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)))


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_for(user: User, limit: int = 100) -> list[Notification]:
    """The user's newest notifications, unread ones included."""
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user: User, ids: Iterable[int] | str = "all") -> int:
    """Mark the user's notifications read: the given ids (others' ids are ignored) or "all"."""
    stmt = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids != "all":
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = db.session.execute(stmt.values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def absolute_url(link: str) -> str:
    """A path made absolute for an e-mail, on PUBLIC_URL. The Host header a client sent is never
    trusted for it (a password reset asked with ``Host: evil.example`` would mail a link to that
    site): without PUBLIC_URL only a request to this machine itself (``make run``: localhost,
    127.0.0.1) lends its root; otherwise the path stays relative and the log says to set PUBLIC_URL."""
    if not link.startswith("/"):
        return link
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context() and request.host.rsplit(":", 1)[0] in LOOPBACK_HOSTS:
        base = request.url_root
    if not base:
        log.error("PUBLIC_URL is not set: the link %s in an e-mail cannot be made absolute", link)
    return (base or "").rstrip("/") + link
