"""The second-stage ranker the app uses: which file, fitting a new one, and what staff see of it.

Ranker files are JSON (:class:`matching.rerank.Ranker`), named ``ranker-NNNN.json`` by version.
The app ships one in ``seed_data/ranker/``; ``flask --app app fit-ranker`` writes newer ones in
``RANKER_DIR`` (default ``instance/ranker``). Every process uses the highest version it finds
and picks up a new file at its next ranking, so gunicorn workers need no restart.

Fitting (:func:`fit`) reads labelled sets (shared/eval/SCHEMA.md: the team's sets and the shared
training set) and every staff decision in the database (graded by :mod:`services.decisions`:
an "off topic" rejection teaches "not relevant"; a rejection for "already contracted",
"duplicate", "conflict of interest" or "other" teaches nothing). Figures are cross-validated
by need: a pair is always scored by a model that did not see its need.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from flask import current_app

from config import ROOT
from matching.calibration import band_report, fit_band_thresholds
from matching.evaluation import eval_items, evaluate, labelled_pairs, prepare
from matching.rerank import FEATURES, CorpusStatistics, Ranker, RankerFileError, corpus_statistics, fit_ranker
from services import decisions
from services.submission_types import engine_id, to_item

log = logging.getLogger(__name__)

SHIPPED_DIR = ROOT / "seed_data" / "ranker"
_NAME = re.compile(r"^ranker-(\d{4,})\.json$")
_loaded: dict[Path, tuple[float, Ranker]] = {}
_reported: set = set()  # problems already logged by this process (see log_once)
_listing: tuple[tuple, float, list[tuple[int, Path]]] | None = None  # (folders' mtimes, when, files)
LISTING_TTL = 5.0  # seconds a listing is trusted while the folders' time stamps are unchanged


def ranker_dirs() -> list[Path]:
    """Where ranker files are looked for: RANKER_DIR first, then the shipped folder."""
    return [Path(current_app.config["RANKER_DIR"]), SHIPPED_DIR]


def ranker_files() -> list[tuple[int, Path]]:
    """(version, path) of every ranker file, newest first (RANKER_DIR wins a tie). The listing is
    read again when a folder's modification time changes (a file written, renamed or deleted) or
    after :data:`LISTING_TTL` seconds (file systems with coarse time stamps), so ranking does not
    list folders on every call."""
    global _listing
    folders = ranker_dirs()
    stamp = tuple((str(folder), _mtime(folder)) for folder in folders)
    if _listing is not None and _listing[0] == stamp and time.monotonic() - _listing[1] < LISTING_TTL:
        return _listing[2]
    found: dict[int, Path] = {}
    for folder in reversed(folders):
        if folder.is_dir():
            for path in folder.iterdir():
                m = _NAME.match(path.name)
                if m:
                    found[int(m.group(1))] = path
    _listing = (stamp, time.monotonic(), sorted(found.items(), reverse=True))
    return _listing[2]


def _mtime(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return None


def current_ranker() -> Ranker | None:
    """The newest readable ranker, loaded once per file and process (None: no file, so the
    first stage ranks alone). An unreadable file is logged and skipped for the next older one."""
    for _, path in ranker_files():
        mtime = None
        try:
            mtime = path.stat().st_mtime
            cached = _loaded.get(path)
            if cached is None or cached[0] != mtime:
                _loaded[path] = (mtime, Ranker.load(path))
            return _loaded[path][1]
        except (OSError, RankerFileError) as error:
            log_once(("unreadable", path, mtime), "Ranker file skipped: %s", error)
    return None


def log_once(key, message: str, *args) -> None:
    """Log an error about a ranker file once per process and ``key`` (e.g. the file and its
    modification time), not on every ranking that meets it."""
    if key not in _reported:
        _reported.add(key)
        log.error(message, *args)


def install(ranker: Ranker) -> Path:
    """Write ``ranker`` as the next version in RANKER_DIR (atomically). Returns its path."""
    folder = Path(current_app.config["RANKER_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    files = ranker_files()
    ranker.version = (files[0][0] + 1) if files else 1
    path = folder / f"ranker-{ranker.version:04d}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(ranker.to_json())
    os.replace(tmp, path)
    return path


def info() -> dict | None:
    """What the reports page says about the ranker in use: version, when it was fitted, on how
    many decisions and pairs, its cross-validated figures, and ``new_decisions``: how many staff
    decisions that would teach it were made since (None without a ranker)."""
    ranker = current_ranker()
    if ranker is None:
        return None
    meta = dict(ranker.meta)
    if meta.get("fitted_at"):
        meta["fitted_at"] = datetime.fromisoformat(meta["fitted_at"])
    meta.setdefault("cross_validated", {})
    fitted = meta.get("fitted_at")
    meta["new_decisions"] = len(decisions.graded(
        after=fitted.astimezone(UTC).replace(tzinfo=None) if fitted else None))
    return {"version": ranker.version, **meta}


# --- fitting ---------------------------------------------------------------------------

@dataclass
class Source:
    """Labelled rows from one place: a SCHEMA.md set or the staff decisions."""

    name: str
    x: np.ndarray
    grade: np.ndarray
    groups: np.ndarray
    data: dict | None = None
    measure: Callable[[Ranker], dict] | None = None  # a ranker's figures on this set (sets only)
    first_stage: Callable[[], dict] | None = None  # the first stage's figures on this set (sets only)


@dataclass
class FitReport:
    """What :func:`fit` found: ``candidate`` the new ranker; ``figures`` by source, each
    {"new": cross-validated figures, "current": the ranker in use on the same data};
    ``better`` whether the new one is at least as good on the mean nDCG@10."""

    candidate: Ranker
    figures: dict = field(default_factory=dict)
    better: bool = True
    current_version: int | None = None


def _summary(result: dict) -> dict:
    n2i = "needs_to_ideas"
    return {"ndcg@10": round(result[n2i]["ndcg@10"], 3),
            "same_language": round(result["same_language"][n2i]["ndcg@10"], 3),
            "cross_language": round(result["cross_language"][n2i]["ndcg@10"], 3),
            "ideas_to_needs_mrr": round(result["ideas_to_needs"]["mrr"], 3),
            "by_query_language": result["by_query_language"]}


def _auc(prob: np.ndarray, grade: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    relevant = grade > 0
    if relevant.all() or not relevant.any():
        return None
    return round(float(roc_auc_score(relevant, prob)), 3)


def statistics(sets: list[dict], embedder, glossary) -> CorpusStatistics:
    """The :class:`matching.rerank.CorpusStatistics` a new ranker is fitted with: document and
    sentence language means and concept IDF over every need and idea of the labelled ``sets``
    (their texts only, no labels)."""
    items = [it for data in sets for side in eval_items(data) for it in side]
    return corpus_statistics(items, embedder, glossary)


def decision_source(index, stats: CorpusStatistics) -> Source | None:
    """Rows from every graded staff decision, with features from the live index computed with
    ``stats`` (None when there is none). Only the pairs staff decided are used: an undecided
    pair is not "not relevant"."""
    rows, grades, groups = [], [], []
    for proposal, g in decisions.graded():
        need = proposal.target
        x = index.pair_features(to_item(need), to_item(proposal.idea), stats)
        if x is None:
            continue
        rows.append(x)
        grades.append(g)
        groups.append(f"decisions:{engine_id(need)}")
    if not rows:
        return None
    return Source("decisions", np.array(rows), np.array(grades), np.array(groups))


def set_source(name: str, data: dict, embedder, glossary, stats: CorpusStatistics,
               text_only: bool = False) -> Source:
    """Rows from a SCHEMA.md set: each need's and idea's first-stage top 100 (unlisted pairs
    are "judged not relevant" there, as the schema says), with features computed with
    ``stats``. ``text_only``: the items keep their titles and descriptions only (no sector,
    place, stage). The source's ``measure(ranker)`` evaluates any ranker on the set, with
    materials made for that ranker's own statistics."""
    cands = prepare(data, embedder, glossary, text_only=text_only, stats=stats)
    x, grade, needs = labelled_pairs(cands, data)
    prepared = {id(stats): cands}

    def measure(model) -> dict:
        key = id(model.stats)
        if key not in prepared:
            prepared[key] = prepare(data, embedder, glossary, text_only=text_only, stats=model.stats)
        return evaluate(data, None, ranker=model, cands=prepared[key])

    return Source(name, x, grade, np.array([f"{name}:{n}" for n in needs]), data, measure,
                  lambda: evaluate(data, None, cands=cands))


class _ByNeed:
    """Cross-validation's ranker for :func:`matching.evaluation.evaluate`: need id -> the fold's
    model; ``stats`` the statistics every fold shares (so the set's materials fit them all)."""

    def __init__(self, final: Ranker, by_need: Callable[[str], Ranker]):
        self.stats = final.stats
        self._by_need = by_need

    def __call__(self, need: str) -> Ranker:
        return self._by_need(need)


def fit(sources: list[Source], current: Ranker | None, stats: CorpusStatistics, folds: int = 5,
        c: float = 1.0, features: tuple[str, ...] = FEATURES) -> FitReport:
    """Fit a ranker on all ``sources`` (their features computed with ``stats``, which the ranker
    keeps) using the columns ``features`` (a subset of :data:`matching.rerank.FEATURES`);
    cross-validate it by need (``folds`` groups); refit the bands on the out-of-fold
    probabilities; compare with ``current`` on the same data.
    Raises ValueError when there are too few labelled needs to cross-validate."""
    from sklearn.model_selection import GroupKFold  # only the CLI fits: pages never import scikit-learn's CV

    x = np.vstack([s.x for s in sources])
    grade = np.concatenate([s.grade for s in sources])
    groups = np.concatenate([s.groups for s in sources])
    if len(set(groups)) < folds or not (grade > 0).any():
        raise ValueError(f"too few labelled needs to cross-validate ({len(set(groups))} < {folds})")
    oof = np.empty(len(grade))
    fold_of: dict[str, Ranker] = {}
    for train, test in GroupKFold(folds).split(x, grade, groups):
        model = fit_ranker(x[train], grade[train], features, c=c, stats=stats)
        oof[test] = model.probability(model.columns(x[test]))
        fold_of.update((g, model) for g in set(groups[test]))
    bands = fit_band_thresholds(oof, grade)
    band_values = {"strong": bands.strong, "good": bands.good, "possible": bands.possible}
    candidate = fit_ranker(x, grade, features, c=c, bands=band_values, stats=stats)
    figures: dict = {}
    start = 0
    for s in sources:
        part = slice(start, start + len(s.grade))
        start += len(s.grade)
        entry: dict = {"pairs": int(len(s.grade)), "relevant": int((s.grade > 0).sum())}
        if s.measure is not None:
            prefix = f"{s.name}:"
            # a need with no labelled row was in no fold: the final model never saw it either
            cv = s.measure(_ByNeed(candidate, lambda need, p=prefix: fold_of.get(p + need, candidate)))
            entry["new"] = _summary(cv)
            if current is not None:
                entry["current"] = _summary(s.measure(current))
            entry["first_stage"] = _summary(s.first_stage())
        entry["new_auc"] = _auc(oof[part], s.grade)
        if current is not None and current.stats == stats:
            entry["current_auc"] = _auc(current.probability(current.columns(s.x)), s.grade)
        figures[s.name] = entry
    meta = {"fitted_at": datetime.now(UTC).isoformat(timespec="seconds"), "features": list(features),
            "c": c, "folds": folds,
            "pairs": int(len(grade)), "relevant_pairs": int((grade > 0).sum()),
            "decisions": int(sum(len(s.grade) for s in sources if s.data is None)),
            "sources": [s.name for s in sources], "cross_validated": figures,
            "bands_in_band": band_report(oof, grade, bands)}
    candidate.meta = meta
    report = FitReport(candidate, figures, True, current.version if current else None)
    with_sets = [f for f in figures.values() if "new" in f and "current" in f]
    if with_sets:
        new = np.mean([f["new"]["ndcg@10"] for f in with_sets])
        old = np.mean([f["current"]["ndcg@10"] for f in with_sets])
        report.better = bool(new >= old)
    return report
