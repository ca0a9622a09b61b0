"""The first requests a freshly started server answers: publishing a need and checking for similar
ideas, at the demo size, timed as a person waits for them.

    DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python bench/first_requests.py [--count 16]

Needs a database with the demo data embedded (`make db`, or seed + reindex). The bench copies the
SQLite file (nothing is written to yours), starts gunicorn as production does (gunicorn.conf.py, 2
workers x 4 threads, ``MATCHING_PRELOAD=1``, no snapshot yet, no Redis: jobs run in a thread of
the worker), and as soon as ``/healthz`` answers:

- a business publishes ``--count`` new needs through the form, ``--pause`` seconds apart (as
  people publish: one at a time): the time is the POST and the need's page it is sent to, as the
  browser waits (the page says the matches are being worked out while a job embeds the text);
- an innovator sends ``--count`` "similar ideas" checks as the idea form does while typing
  (``POST /ideas/similar``).

The texts are the held-out set's needs (seed_data/eval/laocai-heldout.json, vi/en/zh): new to the
demo database, so each publish embeds its own text. Prints seconds from launch to ``/healthz``,
then per action the first, p50, p95 and max in milliseconds, and the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import free_port, machine  # noqa: E402

PASSWORD = "demo12345"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/auth/login", timeout=60).text
    answer = session.post(f"{base}/auth/login", timeout=60, data={
        "csrf_token": TOKEN.search(page).group(1), "email": email, "password": PASSWORD})
    if answer.url.rstrip("/").endswith("/auth/login"):
        sys.exit(f"could not sign in as {email}")
    return session


def figures(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"first_ms": round(times[0]), "p50_ms": round(statistics.median(times)), "p95_ms": round(p95),
            "max_ms": round(ordered[-1]), "n": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=16, help="publishes and checks (the held-out set has 16 needs)")
    parser.add_argument("--pause", type=float, default=5.0,
                        help="seconds between two publishes (0: back to back, each one's embedding job "
                             "then competes with the next request for the 2 cores)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("sqlite:///"):
        sys.exit("DATABASE_URL=sqlite:////path/to/demo.db (a database with the demo data embedded)")
    needs = json.loads((ROOT / "seed_data" / "eval" / "laocai-heldout.json").read_text(encoding="utf-8"))["needs"]
    needs = (needs * (args.count // len(needs) + 1))[:args.count]

    work = Path(tempfile.mkdtemp(prefix="first-requests-"))
    copy = work / "demo.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "MATCHING_PRELOAD": "1", "REDIS_URL": "",
           "MATCH_INDEX_SNAPSHOT_DIR": str(work / "index"), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           "GUNICORN_THREADS": "4", "OUTBOX_DIR": str(work / "outbox"), "RATELIMIT_ENABLED": "0", "SECRET_KEY": "bench"}
    started = time.perf_counter()
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "w"),
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=60).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None:
                sys.exit(f"gunicorn stopped: see {work / 'gunicorn.log'}")
            time.sleep(0.2)
        healthz_s = time.perf_counter() - started

        business = signed_in(base, "doanhnghiep@demo.laocai.vn")
        publish: list[float] = []
        for n, need in enumerate(needs):
            form = business.get(f"{base}/needs/new", timeout=120).text
            codes = re.findall(r'name="sectors"[^>]*value="([^"]+)"', form)
            t = time.perf_counter()
            page = business.post(f"{base}/needs/new", timeout=120, data={
                "csrf_token": TOKEN.search(form).group(1), "title": f"{need['title']} ({n})",
                "problem": need["description"], "desired_outcome": need["description"][:300],
                "organisation": need.get("org") or "Hợp tác xã", "language": need["lang"], "publish": "1",
                "sectors": need["sector"] if need.get("sector") in codes else codes[0]})
            publish.append((time.perf_counter() - t) * 1000)
            if page.status_code != 200 or "/needs/new" in page.url:
                sys.exit(f"publishing failed ({page.status_code}, {page.url})")
            time.sleep(args.pause)

        innovator = signed_in(base, "sinhvien@demo.laocai.vn")
        token = TOKEN.search(innovator.get(f"{base}/ideas/new", timeout=120).text).group(1)
        similar: list[float] = []
        for need in needs:
            t = time.perf_counter()
            answer = innovator.post(f"{base}/ideas/similar", timeout=120, headers={"X-CSRFToken": token}, json={
                "title": need["title"], "summary": need["description"][:400], "language": "auto"})
            similar.append((time.perf_counter() - t) * 1000)
            if answer.status_code != 200:
                sys.exit(f"similar check failed ({answer.status_code}): {answer.text[:200]}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        if os.environ.get("KEEP"):
            print(work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    report = {"machine": machine(), "command": " ".join(sys.argv), "healthz_s": round(healthz_s, 1),
              "publish_need": figures(publish), "similar_check": figures(similar)}
    print(f"/healthz answered {report['healthz_s']} s after launch")
    for name in ("publish_need", "similar_check"):
        f = report[name]
        print(f"{name:14} first {f['first_ms']:>6} ms  p50 {f['p50_ms']:>6}  p95 {f['p95_ms']:>6}  max {f['max_ms']:>6}"
              f"  (n={f['n']})")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
