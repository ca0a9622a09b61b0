"""Sending e-mail: through SMTP when MAIL_SERVER is set, otherwise into the outbox folder as .eml files.

A failure is logged and never reaches the request: the change that caused the e-mail is already saved.
"""
from __future__ import annotations

import logging
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import idna
from flask import current_app

log = logging.getLogger(__name__)


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
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = deliverable(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="innovation.laocai.gov.vn")
    msg.set_content(body)
    return msg


def send(to: str, subject: str, body: str) -> bool:
    """Send one plain-text e-mail; True if it went out (or into the outbox)."""
    config = current_app.config
    try:
        msg = _message(to, subject, body)
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
        return True
    except Exception:  # a mail problem must never cost the user their saved change
        log.exception("E-mail to %s not sent: %s", to, subject)
        return False
