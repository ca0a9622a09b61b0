"""The daily digest of alerts and followed sectors and districts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from services import alerts


@click.command("send-digests")
@with_appcontext
def send_digests_command():
    """Queue today's digest e-mail for everyone who has something new (at most one a day each);
    run it daily from cron."""
    click.echo(f"{alerts.send_digests()} digests queued.")
