"""Sending e-mail: through SMTP when MAIL_SERVER is set, otherwise into the outbox folder as .eml files.

Every e-mail is an OutgoingMail row first (:func:`queue`), written in the transaction of the change
that causes it: a rolled-back change sends nothing, and a committed one is never lost. After the
commit a job delivers it (:func:`deliver`); a refusal (server down, bad header, anything) is
recorded on the row and retried with backoff (:data:`BACKOFF`) through the job queue, and after
the last attempt the e-mail stays "failed", listed for staff with its error and a button to send
it again (web/mail). A failure never reaches the request: the change is already saved.

Headers are built in one place, :func:`_message`: a name or a title that carries a line break (or
any control character) is folded onto one line there, so it can neither break nor add a header.
"""
from __future__ import annotations

import logging
import re
import smtplib
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import idna
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db
from models import OutgoingMail
from models.people import utcnow
from services import jobs

log = logging.getLogger(__name__)

# Seconds to wait before the 2nd, 3rd, ... attempt; after the last, the e-mail is "failed".
BACKOFF = (60, 300, 1800, 7200)
MAX_ATTEMPTS = len(BACKOFF) + 1
QUEUE_KEY = "outgoing_mails"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text(value: str, limit: int = 250) -> str:
    """A header value on one line: line breaks and other control characters become spaces, runs
    of spaces one space; cut at `limit` characters."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def deliverable(address: str) -> str:
    """The address as mail servers take it: accounts keep an internationalised domain in Unicode
    (models.people.canonical_email), the envelope and the To header need its IDNA (xn--) form."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}" if local else address
    except idna.IDNAError:
        return address


def _message(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = header_text(current_app.config["MAIL_SENDER"])
    msg["To"] = header_text(deliverable(to))
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="innovation.laocai.gov.vn")
    msg.set_content(body)
    return msg


def _transport(msg: EmailMessage) -> None:
    """Hand one message over (SMTP or the outbox folder); raises whatever went wrong."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(msg)
    else:
        outbox = Path(config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (outbox / name).write_bytes(bytes(msg))


def queue(to: str, subject: str, body: str) -> OutgoingMail:
    """Add an e-mail to the session: it is committed with the caller's change and delivered by a
    job once that change is committed (nothing is sent for a change rolled back)."""
    mail = OutgoingMail(recipient=to[:254], subject=header_text(subject, 300), body=body, status="queued",
                        attempts=0, next_attempt_at=utcnow())
    db.session.add(mail)
    db.session.info.setdefault(QUEUE_KEY, []).append(mail)
    return mail


def deliver(mail_id, *legacy) -> bool:
    """The job task: try to send one queued e-mail and record what happened; True once it is sent.
    Runs on a session of its own (it is also started from the commit hook of the caller's). An
    e-mail already "sent" is not sent again. Also takes (to, subject, body), the arguments of jobs
    queued before e-mails were kept: such an e-mail is kept first, then sent."""
    with Session(db.engine, expire_on_commit=False) as session:
        if legacy:
            mail = OutgoingMail(recipient=str(mail_id)[:254], subject=header_text(legacy[0], 300), body=legacy[1],
                                status="queued", attempts=0)
            session.add(mail)
            session.commit()
        else:
            mail = session.get(OutgoingMail, mail_id)
        if mail is None or mail.status == "sent":
            return mail is not None
        mail.attempts += 1
        try:
            _transport(_message(mail.recipient, mail.subject, mail.body))
        except Exception as exc:  # a mail problem must never cost the user their saved change
            log.warning("E-mail %s to %s not sent (attempt %s): %s", mail.id, mail.recipient, mail.attempts, exc)
            mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
            retry = mail.attempts < MAX_ATTEMPTS
            delay = BACKOFF[mail.attempts - 1] if retry else None
            mail.status = "queued" if retry else "failed"
            mail.next_attempt_at = utcnow() + timedelta(seconds=delay) if retry else None
            session.commit()
            if retry:
                jobs.enqueue_in(delay, "send_mail", mail.id)
            return False
        mail.status, mail.sent_at, mail.next_attempt_at, mail.last_error = "sent", utcnow(), None, None
        session.commit()
        return True


# A queued e-mail this long past its next attempt has no job left: the queue lost it (Redis restarted
# without its data) or the process that was to send it died. Its first attempt runs seconds after
# the commit, and every retry is scheduled for its next_attempt_at.
OVERDUE_AFTER = timedelta(minutes=15)


def recover() -> list[str]:
    """Queue again every e-mail still "queued" more than :data:`OVERDUE_AFTER` past its next
    attempt (the worker's maintenance, with ``imports.recover()``). Its next attempt moves to now,
    so it is queued again once, not at every maintenance run. Sending is idempotent: an e-mail
    "sent" meanwhile is not sent twice. Returns a label per e-mail queued again ("mail-<id>")."""
    now = utcnow()
    overdue = db.session.scalars(sa.select(OutgoingMail).where(
        OutgoingMail.status == "queued", OutgoingMail.next_attempt_at < now - OVERDUE_AFTER)
        .order_by(OutgoingMail.id)).all()
    for mail in overdue:
        mail.next_attempt_at = now
        db.session.info.setdefault(QUEUE_KEY, []).append(mail)
    db.session.commit()  # the commit hook queues them
    return [f"mail-{mail.id}" for mail in overdue]


def send_again(mail: OutgoingMail) -> None:
    """Staff's "send again" on an e-mail that is not sent: a fresh round of attempts, now."""
    if mail.status == "sent":
        return
    mail.status, mail.attempts, mail.next_attempt_at = "queued", 0, utcnow()
    db.session.info.setdefault(QUEUE_KEY, []).append(mail)
    db.session.commit()


def unsent(limit: int = 200) -> list[OutgoingMail]:
    """E-mails not sent yet, failed ones first, newest first: what the staff page lists."""
    return list(db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.status != "sent")
                                   .order_by((OutgoingMail.status == "failed").desc(),
                                             OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
                                   .limit(limit)))


def get(mail_id: int) -> OutgoingMail | None:
    return db.session.get(OutgoingMail, mail_id)


def failed_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutgoingMail.id)).where(OutgoingMail.status == "failed")) or 0


@event.listens_for(Session, "after_commit")
def _deliver_queued(session: Session) -> None:
    # Through the job queue: a slow or absent SMTP server never holds up the request. The id is
    # read from the identity key: the committed rows are expired and no SQL may run here.
    for mail in session.info.pop(QUEUE_KEY, []):
        identity = sa.inspect(mail).identity
        if identity:
            jobs.enqueue("send_mail", identity[0])


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    session.info.pop(QUEUE_KEY, None)
