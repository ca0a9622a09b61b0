"""Load benchmark: gunicorn on PostgreSQL with the demo data scaled up, a load generator on loopback.

    .venv/bin/python bench/load.py                       # 10k needs, 100k ideas (takes ~10 min to set up)
    .venv/bin/python bench/load.py --needs 1000 --ideas 10000 --requests 200
    .venv/bin/python bench/load.py --reuse --starts-only          # how fast gunicorn starts, no load

It creates (and afterwards keeps, for re-runs with --reuse) the PostgreSQL database `bench_load`,
migrates it, loads the demo data, then clones demo needs and ideas up to the target counts. The
clones get vectors (whole text and title) derived from their template's plus small noise, written
straight into the vector cache, as the jobs that follow publishing would have stored them:
embedding 110k texts would take an hour here and measures the model, which
bench/embed_throughput.py already does. Everything else is the real application under gunicorn.
Prints requests/s and p50/p95/p99 latency per endpoint, the error count, and where the CPU went:
milliseconds per request in the load generator and in the gunicorn workers.

The load generator is ApacheBench (`ab`, Debian's apache2-utils) when it is installed, else Python
`requests` in threads (`--generator`). Both share the machine's cores with the server; `ab` costs
about 0.1 ms of CPU a request, the Python one 1.2-1.6 ms, which on 2 cores caps the trivial
endpoint's figure well below what the server can do.

Before the load, gunicorn is started twice: first without a match index snapshot (each worker
builds its engine from the rows, and one saves a snapshot, services/index_snapshot.py), then again
with it. Each start prints the seconds from launching gunicorn to /healthz answering and to the
first answer of an idea's matches page from each worker, and the workers' memory (RSS) then.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
DB_NAME = "bench_load"
SNAPSHOTS = ROOT / "instance" / "bench-load-index"  # the bench's own, emptied when the database is rebuilt


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(int(mem) / 1e6, 1),
            "python": platform.python_version()}


def recreate_database() -> str:
    engine = sa.create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    engine.dispose()
    return f"{SERVER_URL}/{DB_NAME}"


def build(url: str, needs: int, ideas: int, backend: str) -> None:
    """Migrate, seed, embed the demo data for real, then clone it up to the target sizes."""
    os.environ["DATABASE_URL"] = url
    from app import create_app
    app = create_app({"MATCHING_BACKEND": backend, "JOBS_SYNC": True})
    with app.app_context():
        from flask_migrate import upgrade

        from extensions import db
        from matching.embedders import text_key
        from matching.ranking import item_text
        from models import Idea, Status, TechnologyNeed
        from models.submissions import idea_sectors, need_sectors
        from services import match_index, seeding
        from services.submission_types import to_item
        upgrade()
        seeding.load_reference()
        seeding.load_demo()
        t = time.perf_counter()
        match_index.reindex(missing_only=True)
        print(f"  demo data embedded for real in {time.perf_counter() - t:.0f} s", flush=True)
        model_id = match_index.match_index().embedder.model_id
        store = match_index.match_index().embedder.store
        rng = np.random.default_rng(57)

        def clone(model, table, fk, target):
            templates = list(db.session.scalars(sa.select(model).where(model.status == Status.PUBLISHED.value)))
            have = db.session.scalar(sa.select(sa.func.count(model.id)))
            columns = [c.key for c in model.__table__.columns if c.key != "id"]
            base_vecs, title_vecs = {}, {}
            for tpl in templates:
                key, title_key = text_key(item_text(to_item(tpl))), text_key(to_item(tpl).title)
                found = store.get_many(model_id, "query", [key, title_key])
                base_vecs[tpl.id], title_vecs[tpl.id] = found[key], found[title_key]
            next_id = db.session.scalar(sa.select(sa.func.max(model.id))) + 1
            for start in range(0, max(target - have, 0), 5000):
                rows, links, vectors = [], [], {}
                for n in range(start, min(start + 5000, target - have)):
                    tpl = templates[n % len(templates)]
                    row = {c: getattr(tpl, c) for c in columns}
                    row["title"] = f"{tpl.title} · {n + 1}"
                    row["id"] = next_id + n
                    rows.append(row)
                    links += [{fk: row["id"], "sector_id": s.id} for s in tpl.sectors]
                    ghost = model(**{k: v for k, v in row.items() if k in ("title", "summary", "description",
                                     "keywords", "problem", "desired_outcome", "language", "kind", "stage",
                                     "required_stage", "deadline")})
                    # the clone's own texts: its whole text, and its title (the only sentence that differs
                    # from the template's), which the second stage and the reasons read, as a job would
                    # have stored them after publishing
                    for text, base in ((item_text(to_item(ghost)), base_vecs[tpl.id]),
                                       (to_item(ghost).title, title_vecs[tpl.id])):
                        vec = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
                        vectors[text_key(text)] = vec / np.linalg.norm(vec)
                db.session.execute(sa.insert(model.__table__), rows)
                db.session.execute(sa.insert(table), links)
                db.session.commit()
                store.put_many(model_id, "query", vectors)
                print(f"  {model.__tablename__}: {have + start + len(rows)} / {target}", flush=True)
            if db.engine.dialect.name == "postgresql":
                db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{model.__tablename__}', 'id'), "
                                           f"(SELECT MAX(id) FROM {model.__tablename__}))"))
                db.session.commit()

        clone(TechnologyNeed, need_sectors, "need_id", needs)
        clone(Idea, idea_sectors, "idea_id", ideas)
        db.session.commit()
        store_clone_parts()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))  # what one does after a bulk load: fresh planner statistics


def store_clone_parts() -> None:
    """Store every clone's explanation parts (matching.explain.text_parts, as the job that follows
    publishing stores them) derived from its template's: the same sentences but the first, which is
    the clone's own title ("<template title> · n"), and the same key terms (a number is not one).
    Segmenting 110k texts would take ~30 minutes here. Call in an app context; the templates' own
    parts are computed for real."""
    import sqlalchemy as sa

    from extensions import db
    from matching.explain import parts_key, text_parts
    from models import Idea, Status, TechnologyNeed
    from services.glossary import current_glossary
    from services.match_index import match_index
    from services.submission_types import TYPES, to_item

    store, glossary = match_index().parts_store, current_glossary()
    for model in (TechnologyNeed, Idea, *(t.model for t in TYPES if t.model not in (TechnologyNeed, Idea))):
        rows = list(db.session.scalars(sa.select(model).where(model.status == Status.PUBLISHED.value)))
        templates = {}
        for row in rows:
            if " · " not in row.title:
                item = to_item(row)
                templates[item.title] = text_parts(item, glossary=glossary)
        store.put_many({parts_key(to_item(r), glossary=glossary): templates[to_item(r).title]
                        for r in rows if to_item(r).title in templates})
        parts = {}
        for row in rows:
            item = to_item(row)
            base = templates.get(item.title.rsplit(" · ", 1)[0].strip()) if " · " in item.title else None
            if base is not None:
                sentences, terms = base
                parts[parts_key(item, glossary=glossary)] = ([item.title, *sentences[1:]], terms)
            if len(parts) >= 5000:
                store.put_many(parts)
                parts = {}
        store.put_many(parts)
        db.session.expunge_all()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_rss_mb(master: int) -> list[int]:
    """Resident memory (MB) of each gunicorn worker (the master's children)."""
    out = []
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        status = Path(f"/proc/{pid}/status").read_text()
        out.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) // 1024)
    return out


def start_server(url: str, args, port: int) -> tuple[subprocess.Popen, dict]:
    """gunicorn on ``port``; returns it once every worker has answered an idea's matches page, with
    the start's figures (seconds from launch, memory)."""
    env = {**os.environ, "DATABASE_URL": url, "MATCHING_BACKEND": args.backend, "SECRET_KEY": "bench",
           "RATELIMIT_ENABLED": "0", "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads),
           "BIND": f"127.0.0.1:{port}", "MATCHING_PRELOAD": "1", "GUNICORN_TIMEOUT": "300",
           "MATCH_INDEX_SNAPSHOT_DIR": str(SNAPSHOTS)}
    snapshot_before = any(SNAPSHOTS.glob("*.pickle")) if SNAPSHOTS.exists() else False
    launched = time.perf_counter()
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                               "app:create_app()"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.25)
    healthy = time.perf_counter() - launched
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        idea_id = conn.execute(sa.text("SELECT id FROM ideas WHERE status='published' ORDER BY id LIMIT 1")).scalar()
    engine.dispose()
    # each worker's first matches page waits for its index (read from the snapshot, or built from the
    # rows, both workers at once from their start, MATCHING_PRELOAD); new connections land on either
    answered, statuses = [], []
    for _ in range(args.workers * 2):
        response = requests.get(f"{base}/ideas/{idea_id}", timeout=900, headers={"Connection": "close"})
        statuses.append(response.status_code)
        answered.append(round(time.perf_counter() - launched, 1))
    figures = {"snapshot_before": snapshot_before,
               "healthz_s": round(healthy, 1), "matches_pages_answered_s": answered,
               "statuses": statuses, "workers_rss_mb": workers_rss_mb(server.pid), "idea_id": idea_id, "base": base}
    return server, figures


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def cpu_seconds(pids: list[str]) -> float:
    """User + system CPU time of the processes ``pids`` so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (ab)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_ab(base: str, path: str, total: int, concurrency: int) -> dict:
    """``total`` GETs of ``path``, ``concurrency`` at a time, keep-alive, by ApacheBench."""
    out = subprocess.run(["ab", "-q", "-k", "-l", "-s", "120", "-n", str(total), "-c", str(concurrency), base + path],
                         capture_output=True, text=True, check=True).stdout

    def figure(label: str) -> float:
        found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)", out, re.M)
        return float(found.group(1)) if found else 0.0
    # "Failed requests" counts connection, read and exception failures (-l: a page's length may vary);
    # an answer other than 2xx is counted apart ("Non-2xx responses", absent when none)
    return {"path": path, "requests": total, "concurrency": concurrency, "rps": figure("Requests per second:"),
            "p50_ms": figure("50%"), "p95_ms": figure("95%"), "p99_ms": figure("99%"),
            "errors": int(figure("Failed requests:") + figure("Non-2xx responses:"))}


def load_python(base: str, path: str | list[str], total: int, concurrency: int) -> dict:
    """``total`` GETs, ``concurrency`` at a time, from Python threads; ``path`` one path, or a list
    of paths asked in turn (ab asks for one URL only)."""
    sessions = [requests.Session() for _ in range(concurrency)]
    paths = [path] if isinstance(path, str) else path

    def one(i: int):
        start = time.perf_counter()
        try:
            ok = sessions[i % concurrency].get(base + paths[i % len(paths)], timeout=120).status_code == 200
        except requests.RequestException:
            ok = False
        return time.perf_counter() - start, ok

    wall = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(total)))
    wall = time.perf_counter() - wall
    times = sorted(t * 1000 for t, _ in results)
    q = statistics.quantiles(times, n=100)
    shown = path if isinstance(path, str) else f"{paths[0]} ... ({len(paths)} paths)"
    return {"path": shown, "requests": total, "concurrency": concurrency, "rps": round(total / wall, 1),
            "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1),
            "errors": sum(1 for _, ok in results if not ok)}


GENERATORS = {"ab": load_ab, "python": load_python}


def settle(workers: list[str], limit_s: float = 120.0) -> float:
    """Wait until the workers are idle (under 5% of a core over a second; after a start they may
    still be warming up in their threads, which would be counted against the first endpoint);
    returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        before = cpu_seconds(workers)
        time.sleep(1)
        if cpu_seconds(workers) - before < 0.05:
            break
    return round(time.perf_counter() - started, 1)


def load(base: str, path: str | list[str], total: int, concurrency: int, generator: str,
         workers: list[str]) -> dict:
    """One endpoint's figures, with the CPU milliseconds per request of the generator and the workers."""
    own, served = own_cpu_seconds(), cpu_seconds(workers)
    result = GENERATORS[generator](base, path, total, concurrency)
    result["generator"] = generator
    result["generator_cpu_ms"] = round((own_cpu_seconds() - own) / total * 1000, 2)
    result["workers_cpu_ms"] = round((cpu_seconds(workers) - served) / total * 1000, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (1: the sync worker)")
    parser.add_argument("--generator", choices=["auto", *GENERATORS], default="auto",
                        help="auto: ab when installed, else python")
    parser.add_argument("--backend", default="sentence-transformers")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run")
    parser.add_argument("--cold-start", action="store_true", help="with --reuse: delete the kept snapshot first")
    parser.add_argument("--starts-only", action="store_true", help="time the starts, send no load")
    args = parser.parse_args()
    if args.generator == "auto":
        args.generator = "ab" if shutil.which("ab") else "python"
    print(f"load generator: {args.generator}", flush=True)

    url = f"{SERVER_URL}/{DB_NAME}"
    if not args.reuse:
        print(f"Building {DB_NAME}: {args.needs} needs, {args.ideas} ideas ...", flush=True)
        t = time.perf_counter()
        build(recreate_database(), args.needs, args.ideas, args.backend)
        print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)

    if not args.reuse or args.cold_start:
        shutil.rmtree(SNAPSHOTS, ignore_errors=True)  # the first start below builds from the rows
    starts = []
    for _ in range(2):  # without a snapshot (unless one is kept), then with the one the first saved
        server, figures = start_server(url, args, free_port())
        if not any(SNAPSHOTS.glob("*.pickle")):
            for _ in range(600):  # the snapshot job runs in a thread of a worker (no REDIS_URL here)
                if any(SNAPSHOTS.glob("*.pickle")):
                    break
                time.sleep(1)
        starts.append(figures)
        print(f"start ({'with' if figures['snapshot_before'] else 'without'} a snapshot): /healthz after "
              f"{figures['healthz_s']} s, matches pages answered after {figures['matches_pages_answered_s']} s "
              f"(statuses {figures['statuses']}), workers' memory {figures['workers_rss_mb']} MB", flush=True)
        if len(starts) == 1:
            stop_server(server)
    results = []
    try:
        if not args.starts_only:
            base = figures["base"]
            # /healthz first: a near-trivial Flask endpoint (one SELECT 1), the ceiling of this machine
            paths = ["/healthz", "/", "/ideas/?page=40", f"/ideas/{figures['idea_id']}",
                     "/api/v1/ideas?page=3&per_page=20"]
            workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            figures["settled_s"] = settle(workers)
            print(f"workers idle after {figures['settled_s']} s", flush=True)
            results = [load(base, path, args.requests, args.concurrency, args.generator, workers) for path in paths]
            # first visits: as many different ideas' pages as requests, none seen before by this server (no
            # kept page or ranking), from the Python generator (ab asks for one URL)
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                first = [f"/ideas/{i}" for i in conn.execute(sa.text(
                    "SELECT id FROM ideas WHERE status='published' AND visibility='public' AND id > :seen "
                    "ORDER BY id DESC LIMIT :n"),
                    {"seen": figures["idea_id"], "n": args.requests}).scalars()]
            engine.dispose()
            results.append(load(base, first, len(first), args.concurrency, "python", workers))
            figures["workers_rss_mb_after_load"] = workers_rss_mb(server.pid)
    finally:
        stop_server(server)

    report = {"machine": machine(), "command": " ".join(sys.argv), "needs": args.needs, "ideas": args.ideas,
              "gunicorn_workers": args.workers, "gunicorn_threads": args.threads, "generator": args.generator,
              "backend": args.backend, "starts": starts, "results": results}
    print(f"\n{'endpoint':42} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
          f" {'CPU ms/request: generator':>26} {'workers':>8}")
    for r in results:
        print(f"{r['path']:42} {r['rps']:>7} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8} {r['errors']:>6}"
              f" {r['generator_cpu_ms']:>26} {r['workers_cpu_ms']:>8}")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
