"""Commands for the data: accounts, seed data, backups."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from matching.glossary import GlossaryError
from services import accounts, seeding
from services import backup as backups
from services.errors import ServiceError
from web.messages import message_for


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Quản trị viên", show_default=True)
@click.password_option()
@with_appcontext
def create_admin_command(email, name, password):
    """Create the first administrator account."""
    try:
        accounts.add_account(None, email, password, name, "admin")
    except ServiceError as error:  # the address is taken, or the password policy refuses the password
        raise click.ClickException(f"Cannot create {email}: {message_for(error)}") from error
    click.echo(f"Administrator {email} created.")


@click.command("seed")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Also load demo accounts and content.")
@with_appcontext
def seed_command(demo):
    """Load sectors, places and the glossary (and the demo data). Running it twice changes nothing."""
    try:
        click.echo(f"Reference data added: {seeding.load_reference()}")
    except GlossaryError as error:
        raise click.ClickException(f"seed_data/glossary.csv, {error}") from error
    if demo:
        click.echo(f"Demo data added: {seeding.load_demo()}")


@click.command("demo-logins")
@with_appcontext
def demo_logins_command():
    """Print the demo accounts."""
    for role, email, password in seeding.demo_logins():
        click.echo(f"  {role:<10} {email:<32} {password}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path):
    """Write every record to PATH (gzip JSON; works on SQLite and PostgreSQL)."""
    counts = backups.backup(Path(path))
    click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(path):
    """Load a backup into an empty, migrated database (all or nothing)."""
    try:
        counts = backups.restore(Path(path))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables.")
