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
    # Imported here: only the worker process needs rq's Worker; web processes never load it.
    from rq import Worker

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: without Redis the app runs its jobs itself.")
    queue = jobs.queue(current_app)
    Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)
