"""The job queue's worker."""
from __future__ import annotations

import os

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
        raise click.ClickException("REDIS_URL is not set: without Redis the app runs its jobs itself, and nothing "
                                   "runs on a schedule: send the daily digest with `send-digests` from cron.")
    if "MATCHING_THREADS" not in os.environ:
        # the worker's jobs are batches (a reindex, an import's texts): every core, unlike a web
        # process that embeds one short text at a time (config.py, MATCHING_THREADS)
        current_app.config["MATCHING_THREADS"] = 0
    jobs.serve(current_app._get_current_object(), burst)
