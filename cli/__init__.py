"""Command-line commands: `flask --app app <command>`, one module per area.

Each command is a module-level click command (as in the Flask tutorial's `flaskr/db.py`), so it can
be imported and invoked alone: `app.test_cli_runner().invoke(seed_command, ["--no-demo"])`.
"""
from __future__ import annotations

from flask import Flask

from cli.alerts import send_digests_command
from cli.data import backup_command, create_admin_command, demo_logins_command, restore_command, seed_command
from cli.engine import (
    build_model_command,
    eval_matching_command,
    eval_search_command,
    eval_tatoeba_command,
    fit_ranker_command,
    propose_matches_command,
    reindex_command,
)
from cli.worker import worker_command

COMMANDS = (
    create_admin_command, seed_command, build_model_command, reindex_command, eval_matching_command,
    eval_search_command,
    eval_tatoeba_command, fit_ranker_command, backup_command, restore_command, propose_matches_command, worker_command,
    demo_logins_command, send_digests_command,
)


def register(app: Flask) -> None:
    """Add every command to `app.cli`."""
    for command in COMMANDS:
        app.cli.add_command(command)
