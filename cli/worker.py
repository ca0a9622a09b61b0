"""The job queue's worker."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from services import jobs


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst):
    """Serve the job queue (needs REDIS_URL): embedding, reindexing, imports, e-mail."""
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: without Redis the app runs its jobs itself.")
    jobs.serve(current_app._get_current_object(), burst)
