"""The daily digest of alerts and followed sectors and districts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from services import alerts


@click.command("send-digests")
@with_appcontext
def send_digests_command():
    """Queue today's digest e-mail for everyone who has something new (at most one a day each, also
    beside the worker's run). The job worker runs it daily at DIGEST_TIME; this runs it by hand, or
    from cron where there is no worker (no REDIS_URL)."""
    click.echo(f"{alerts.send_digests()} digests queued.")
