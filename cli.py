"""Command-line commands: `flask --app app <command>`."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="Quản trị viên", show_default=True)
    @click.password_option()
    def create_admin(email, name, password):
        """Create the first administrator account."""
        from services import accounts
        try:
            accounts.create_user(email, password, name, "admin")
        except accounts.AccountError as error:
            raise click.ClickException(f"Cannot create {email}: {error.code}") from error
        click.echo(f"Administrator {email} created.")

    @app.cli.command("seed")
    @click.option("--demo/--no-demo", default=True, show_default=True, help="Also load demo accounts and content.")
    def seed(demo):
        """Load sectors and places (and the demo data). Running it twice changes nothing."""
        from services import seeding
        click.echo(f"Reference data added: {seeding.load_reference()}")
        if demo:
            click.echo(f"Demo data added: {seeding.load_demo()}")

    @app.cli.command("demo-logins")
    def demo_logins():
        """Print the demo accounts."""
        from services import seeding
        for role, email, password in seeding.demo_logins():
            click.echo(f"  {role:<10} {email:<32} {password}")
