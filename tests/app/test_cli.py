"""The command-line commands as modules: each is registered under its README name and runs alone.

What the commands do is tested beside the feature they serve (seed and demo-logins in
test_seed_and_health, create-admin in test_auth, backup/restore in test_backup, reindex and the
evaluations in test_matching_pages, propose-matches in test_proposals).
"""
from __future__ import annotations

from cli import COMMANDS
from cli.data import demo_logins_command, seed_command
from cli.engine import build_model_command
from cli.worker import worker_command

README_COMMANDS = {"create-admin", "seed", "demo-logins", "backup", "restore", "build-model", "reindex",
                   "eval-matching", "eval-search", "eval-tatoeba", "fit-ranker", "propose-matches", "worker",
                   "send-digests"}


def test_every_command_is_registered_under_its_readme_name(app):
    assert {command.name for command in COMMANDS} == README_COMMANDS
    for name in README_COMMANDS:
        assert name in app.cli.list_commands(None)


def test_an_imported_command_runs_alone(runner):
    result = runner.invoke(seed_command, ["--no-demo"])
    assert result.exit_code == 0, result.output
    # The fixture has loaded the reference data already: nothing to add, no demo data asked for.
    assert result.output == "Reference data added: {'sectors': 0, 'places': 0, 'glossary': 0}\n"


def test_demo_logins_prints_one_account_per_role(runner):
    result = runner.invoke(demo_logins_command)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert [row[0] for row in rows] == ["admin", "staff", "innovator", "business"]
    assert all(len(row) == 3 and "@" in row[1] for row in rows)


def test_build_model_does_nothing_when_a_model_is_configured(runner, app):
    app.config["MATCHING_MODEL"] = "intfloat/multilingual-e5-small"
    result = runner.invoke(build_model_command)
    assert result.exit_code == 0, result.output
    assert result.output == "MATCHING_MODEL is set (intfloat/multilingual-e5-small): nothing to build.\n"


def test_build_model_keeps_a_built_model_unless_forced(runner, app, tmp_path):
    from matching.embedders import DEFAULT_MODEL_DIR_NAME
    app.config.update(MATCHING_MODEL=None, MODEL_DIR=str(tmp_path))
    (tmp_path / DEFAULT_MODEL_DIR_NAME).mkdir()
    result = runner.invoke(args=["build-model"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Model already built: {tmp_path / DEFAULT_MODEL_DIR_NAME}\n"


def test_worker_refuses_to_start_without_redis(runner, app):
    app.config["REDIS_URL"] = None
    result = runner.invoke(worker_command, ["--burst"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output
