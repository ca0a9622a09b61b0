"""Search on the demo data (the table of issue 11), sorting, confidential needs, the words kept
current, and similar ideas while typing. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa

from extensions import db
from matching.search import document
from models import Idea, Place, TechnologyNeed

DEMO = json.loads((Path(__file__).resolve().parents[2] / "seed_data" / "demo.json").read_text(encoding="utf-8"))
PLACES = {p["code"]: p for p in json.loads(
    (Path(__file__).resolve().parents[2] / "seed_data" / "places.json").read_text(encoding="utf-8"))["units"]}
TEXT_FIELDS = {"ideas": ("title", "summary", "description", "keywords"),
               "needs": ("title", "problem", "desired_outcome")}


def published(slug: str) -> list[dict]:
    return [r for r in DEMO[slug] if r.get("status", "published") == "published"
            and not r.get("confidential") and r.get("visibility", "public") == "public"]


def containing(slug: str, words: str) -> set[str]:
    """Titles of the public demo items whose text holds ``words`` as typed, case aside: what the
    issue's table counted as found for the accented query."""
    needle = unicodedata.normalize("NFC", words).lower()
    return {r["title"] for r in published(slug)
            if any(needle in unicodedata.normalize("NFC", r.get(f) or "").lower() for f in TEXT_FIELDS[slug])}


@pytest.fixture
def demo(app, monkeypatch):
    from argon2 import PasswordHasher

    from models import people
    from services import seeding
    monkeypatch.setattr(people, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with app.app_context():
        seeding.load_demo()


def titles(client, slug: str, q: str, **args) -> list[str]:
    """Every title the API lists for ``q`` (anonymous), in order."""
    response = client.get(f"/api/v1/{slug}", query_string={"q": q, "per_page": 100, **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [i["title"] for i in response.get_json()["items"]]


def listed(client, slug: str, q: str, **args) -> list[str]:
    """Every title the signed-in user's list holds for ``q``, in order (its CSV export: the page's
    query without paging)."""
    import csv
    import io
    response = client.get(f"/{slug}/export.csv", query_string={"q": q, **args})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    column = rows[0].index("Tiêu đề")
    return [r[column] for r in rows[1:]]


# query variants that must give identical lists, and how many the table says the accented one finds
TABLE = [
    ("ideas", ["sạt lở", "sat lo", "SẠT LỞ", "Sat Lo"], 4),
    ("ideas", ["thảo quả", "thao qua", "Thảo Quả"], 5),
    ("ideas", ["quế", "QUẾ", "que", "Quế"], 7),
    ("ideas", ["điện", "Điện", "ĐIỆN", "dien"], None),  # 15 signed in; fewer are public
    ("needs", ["Đông Cuông", "đông cuông", "dong cuong"], 1),
    ("ideas", ["điện thoại", unicodedata.normalize("NFD", "điện thoại"), "Dien thoai"], None),
]


@pytest.mark.parametrize(("slug", "variants", "table_count"), TABLE)
def test_case_and_accents_do_not_matter(client, demo, slug, variants, table_count):
    expected = containing(slug, variants[0])
    if table_count is not None:
        assert len(expected) == table_count  # the demo data the issue measured
    first = titles(client, slug, variants[0])
    assert expected <= set(first)
    # ahead of the last of them, only items holding the words once folded ("nhận diện" holds
    # "điện" folded): those found through a translation or by meaning come after
    last = max(first.index(t) for t in expected)
    folded = document([variants[0]])
    rows = {r["title"]: r for r in published(slug)}
    for title in first[:last]:
        row = rows[title]
        place = PLACES.get(row.get("place") or "", {})
        text = document([*(row.get(f) for f in (*TEXT_FIELDS[slug], "organisation", "team", "event")),
                         place.get("name"), place.get("former_district")])
        assert folded in text, title
    for variant in variants[1:]:
        assert titles(client, slug, variant) == first, variant
    page = client.get(f"/{slug}/", query_string={"q": variants[-1]}).get_data(as_text=True)
    assert all(t.replace("'", "&#39;") in page for t in list(expected)[:5])


@pytest.mark.parametrize("q", ["%", "_", "a_b", "%%", "\\", "'", '"', "*", "(", ":"])
def test_wildcards_and_operators_are_plain_characters(client, demo, q):
    assert titles(client, "ideas", q) == []
    assert client.get("/ideas/", query_string={"q": q}).status_code == 200


def test_nul_is_refused_or_finds_nothing(client, demo):
    page = client.get("/ideas/?q=%00")
    assert page.status_code == 200 and "Nothing matches these filters" in page.get_data(as_text=True) \
        or "Không có" in page.get_data(as_text=True)
    assert client.get("/ideas/export.csv?q=%00").status_code == 200
    assert client.get("/needs/export.xlsx?q=a%00b").status_code == 200
    response = client.get("/api/v1/ideas?q=%00")
    assert response.status_code == 422
    assert response.get_json()["errors"]["q"] == ["Nội dung có ký tự không được phép."]  # one message, not letters
    too_long = client.get("/api/v1/ideas?q=" + "a" * 201).get_json()["errors"]["q"]
    assert too_long == ["Tối đa 200 ký tự."]  # in the caller's language


def test_a_former_district_finds_every_idea_there(client, demo):
    in_bac_ha = {r["title"] for r in published("ideas") if r.get("place")
                 and PLACES[r["place"]]["former_district"] == "Bắc Hà"}
    assert len(in_bac_ha) >= 2
    found = set(titles(client, "ideas", "Bac Ha"))
    assert in_bac_ha <= found
    assert found == set(titles(client, "ideas", "bắc hà"))


def test_words_in_another_language_find_vietnamese_ideas(client, demo):
    dryers = {t for t in containing("ideas", "quế") if "sấy" in t.lower()}
    assert dryers
    assert dryers <= set(titles(client, "ideas", "cinnamon dryer"))
    assert dryers <= set(titles(client, "ideas", "肉桂烘干机"))
    # the Vietnamese texts holding the typed words come before those found through a translation
    english = titles(client, "ideas", "landslide")
    assert english and "landslide" in english[0].lower()


def test_exact_phrase_first_then_other_hits(client, demo):
    phrase = containing("ideas", "mặt trời")
    words_apart = titles(client, "ideas", "trời mặt")  # both words, not as the phrase
    found = titles(client, "ideas", "mặt trời")
    assert phrase and set(found[:len(phrase)]) == phrase
    assert set(words_apart[:len(phrase)]) == phrase  # the same texts, every word found


# --- confidential needs ------------------------------------------------------------------

SECRET = {"title": "Cần cảm biến đo độ ẩm kho", "problem": "Kho dược liệu Zyxtrola bị ẩm mốc ở tầng hai.",
          "desired_outcome": "Cảnh báo sớm khi độ ẩm vượt ngưỡng.", "organisation": "Công ty Quyxanh Lào Cai",
          "sectors": ["agriculture_highland"], "budget_min": "", "budget_max": "", "deadline": "",
          "place": "", "language": "vi", "confidential": "y"}


def test_hidden_words_of_a_confidential_need_find_nothing_for_others(app, client, login_as, auth, make_user):
    owner_id, owner = login_as("business")
    assert client.post("/needs/new", data={**SECRET, "publish": "1"}).status_code == 302
    for q in ("Zyxtrola", "zyxtrola", "Quyxanh", "quyxanh lao cai"):
        assert listed(client, "needs", q) == [SECRET["title"]], q  # the owner
    auth.logout()
    for q in ("Zyxtrola", "Quyxanh", "quyxanh"):
        assert titles(client, "needs", q) == [], q  # anonymous
        assert listed(client, "needs", q) == [], q
    assert titles(client, "needs", "cảm biến độ ẩm kho") == [SECRET["title"]]  # the title stays findable
    _, other = make_user("business")
    auth.login(other)
    assert listed(client, "needs", "Zyxtrola") == []
    assert listed(client, "needs", "Zyxtrola", sort="newest") == []
    assert "Cần cảm biến" not in client.get("/needs/", query_string={"q": "Zyxtrola"}).get_data(as_text=True)
    auth.logout()
    _, staff = make_user("staff")
    auth.login(staff)
    assert listed(client, "needs", "Zyxtrola") == [SECRET["title"]]


def test_semantic_hits_leave_confidential_needs_out(app, client, login_as, auth):
    login_as("business")
    client.post("/needs/new", data={**SECRET, "publish": "1"})
    auth.logout()
    with app.test_request_context():
        from models.people import Visitor
        from services import search
        from services.match_index import match_index
        from services.submission_types import NEED
        from services.submissions import BrowseFilters
        match_index().refresh()
        assert match_index().ready
        found = search.find(NEED, Visitor(), BrowseFilters(q="kho dược liệu bị ẩm mốc, cảnh báo độ ẩm"))
        assert found.cross_language == "used"
        assert found.page.items == []


def test_semantic_hits_join_the_lexical_ones_when_the_engine_is_ready(app, client, login_as):
    login_as("innovator")
    from tests.app.test_submissions import IDEA as FORM
    client.post("/ideas/new", data={**FORM, "publish": "1"})
    with app.test_request_context():
        from models.people import Visitor
        from services import search
        from services.match_index import match_index
        from services.submission_types import IDEA
        from services.submissions import BrowseFilters
        match_index().reset()  # as in a process that has not loaded it yet (the publish's alert job loaded it here)
        lexical_only = search.find(IDEA, Visitor(), BrowseFilters(q="solar heat dries bark"))
        assert (lexical_only.cross_language, lexical_only.page.total) == ("not_ready", 0)
        match_index().refresh()
        both = search.find(IDEA, Visitor(), BrowseFilters(q="máy sấy quế năng lượng mặt trời cho hợp tác xã"))
        assert both.cross_language == "used"
        assert [i.title for i in both.page.items] == [FORM["title"]]
    page = client.get("/ideas/", query_string={"q": "solar heat dries bark"}).get_data(as_text=True)
    assert "search-lexical-only" not in page


# --- the words follow every write ----------------------------------------------------------

def test_words_follow_edits_places_and_restore(app, client, login_as, tmp_path):
    from tests.app.test_submissions import IDEA as FORM
    login_as("innovator")
    client.post("/ideas/new", data={**FORM, "place": "", "publish": "1"})
    with app.app_context():
        from services.match_index import match_index
        match_index().reset()  # the database's words alone (the publish's alert job loaded the engine)
        idea_id = db.session.scalar(sa.select(Idea.id))
        place = db.session.scalars(sa.select(Place).order_by(Place.id)).first()
        place_code = place.code
    assert titles(client, "ideas", "bơm nhiệt") == [FORM["title"]]
    client.post(f"/ideas/{idea_id}/edit", data={**FORM, "description": "Buồng sấy dùng điện lưới.",
                                                  "place": place_code, "publish": "1"})
    assert titles(client, "ideas", "bơm nhiệt") == []
    assert titles(client, "ideas", "dien luoi") == [FORM["title"]]
    with app.app_context():
        from services import reference
        reference.save_place(db.session.get(Place, place.id), code=place_code, name="Phường Xyzabc",
                             kind=place.kind, former_district=place.former_district)
    assert titles(client, "ideas", "xyzabc") == [FORM["title"]]

    with app.app_context():
        from services import backup
        backup.backup(tmp_path / "b.json.gz")
        # a backup written by other code: the restore recomputes the words
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        assert titles(client, "ideas", "dien luoi") == []
    import gzip
    with gzip.open(tmp_path / "b.json.gz", "rt", encoding="utf-8") as f:
        dump = json.load(f)
    for row in dump["tables"]["ideas"]:
        row["search_full"] = row["search_public"] = ""
    with gzip.open(tmp_path / "b.json.gz", "wt", encoding="utf-8") as f:
        json.dump(dump, f)
    with app.app_context():
        backup.restore(tmp_path / "b.json.gz")
    assert titles(client, "ideas", "dien luoi") == [FORM["title"]]


# --- sorting -----------------------------------------------------------------------------

def test_sorting_needs_by_deadline_budget_and_newest(client, demo, app):
    with app.app_context():
        rows = db.session.execute(sa.select(TechnologyNeed.title, TechnologyNeed.deadline, TechnologyNeed.budget_max,
                                            TechnologyNeed.budget_min)
                                  .where(TechnologyNeed.status == "published")).all()
    from datetime import date
    by_deadline = titles(client, "needs", "", sort="deadline")
    deadlines = {t: d for t, d, *_ in rows}
    open_ones = [deadlines[t] for t in by_deadline if deadlines[t] and deadlines[t] >= date.today()]
    assert open_ones == sorted(open_ones)
    assert by_deadline[:len(open_ones)] == [t for t in by_deadline if deadlines[t] and deadlines[t] >= date.today()]
    budgets = {t: (bmax if bmax is not None else bmin) for t, _, bmax, bmin in rows}
    by_budget = [budgets[t] for t in titles(client, "needs", "", sort="budget")]
    known = [b for b in by_budget if b is not None]
    assert known == sorted(known, reverse=True) and by_budget[:len(known)] == known
    assert set(titles(client, "needs", "quế", sort="budget")) == set(titles(client, "needs", "quế"))


def test_sort_is_checked_and_kept_across_pages(client, demo, app):
    response = client.get("/api/v1/ideas?sort=budget")
    assert response.status_code == 422 and response.get_json()["errors"]["sort"]
    assert client.get("/ideas/?sort=deadline").status_code == 400
    assert client.get("/api/v1/orders?sort=deadline").get_json()["sort"] == "deadline"
    assert client.get("/api/v1/ideas?q=quế").get_json()["sort"] == "relevance"
    assert client.get("/api/v1/ideas").get_json()["sort"] == "newest"
    app.config["PAGE_SIZE"] = 5
    page = client.get("/ideas/", query_string={"q": "điện", "sort": "newest", "language": "vi"}).get_data(as_text=True)
    assert "sort=newest" in page and "page=2" in page
    assert '<option value="newest" selected' in page
    # relevance pages hold every hit once
    first = [i["id"] for p in (1, 2, 3) for i in client.get(
        "/api/v1/ideas", query_string={"q": "điện", "per_page": 6, "page": p}).get_json()["items"]]
    assert len(first) == len(set(first)) == 15



@pytest.mark.parametrize("engine", [False, True])
def test_a_relevance_page_is_the_slice_of_the_whole_list(client, demo, app, engine):
    """Pages rank only the hits up to their end (and the engine's hits): they must hold what the
    whole list (an export) holds at their place, and count every item."""
    with app.test_request_context():
        from models.people import Visitor
        from services import search
        from services.match_index import match_index
        from services.submission_types import IDEA, NEED
        from services.submissions import BrowseFilters
        if engine:
            match_index().refresh()
        for kind, q in ((IDEA, "điện"), (IDEA, "quế cinnamon"), (IDEA, "thao qua"), (IDEA, "nông dân"),
                        (NEED, "độ ẩm"), (IDEA, "máy sấy quế năng lượng mặt trời")):
            whole = [i.id for i in search.find_all(kind, Visitor(), BrowseFilters(q=q))]
            pages = [search.find(kind, Visitor(), BrowseFilters(q=q), page=p, per_page=3) for p in (1, 2, 3, 4)]
            assert [i.id for p in pages for i in p.page.items] == whole[:12], q
            assert pages[0].page.total == len(whole), q

# --- similar ideas while typing ------------------------------------------------------------

def test_similar_ideas_while_typing(app, client, login_as, auth):
    from tests.app.test_submissions import IDEA as FORM
    login_as("innovator")
    client.post("/ideas/new", data={**FORM, "publish": "1"})
    with app.app_context():
        from services.match_index import match_index
        match_index().reset()  # not loaded yet (the publish's alert job loaded it here)
    draft = {"title": "Solar cinnamon bark dryer for cooperatives", "kind": "startup_idea", "language": "auto",
             "summary": "Drying cinnamon bark with solar heat to cut losses.",
             "description": "A heat-pump dryer with solar collectors for cinnamon cooperatives in Văn Yên.",
             "keywords": "cinnamon, drying, solar"}
    answer = client.post("/ideas/similar", json=draft).get_json()
    assert answer["problem"] == "no_model" and answer["items"] == [] and answer["message"]
    with app.app_context():
        from services.match_index import match_index
        match_index().refresh()
    answer = client.post("/ideas/similar", json=draft).get_json()
    assert answer["problem"] is None
    assert [i["title"] for i in answer["items"]] == [FORM["title"]]
    assert answer["items"][0]["likeness"] in ("strong", "good") and answer["items"][0]["url"].startswith("/ideas/")
    assert "fit" not in json.dumps(answer).lower()
    with app.app_context():
        from models import EmbeddingVector
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(EmbeddingVector))
    client.post("/ideas/similar", json={**draft, "summary": draft["summary"] + " Again."})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmbeddingVector)) == stored
    assert client.post("/ideas/similar", json=["x"]).status_code == 400
    assert client.post("/ideas/similar", json={"title": 5}).status_code == 400
    assert client.post("/ideas/similar", data="{", content_type="application/json").status_code == 400
    deep = "[" * 5000 + "]" * 5000  # nested deeper than the parser follows
    assert client.post("/ideas/similar", data=deep, content_type="application/json").status_code == 400
    form = client.get("/ideas/new").get_data(as_text=True)
    assert 'src="/static/js/similar-ideas.js"' in form and "<script>" not in form
    auth.logout()
    assert client.post("/ideas/similar", json=draft).status_code in (302, 401)


# --- queries misspelled by one letter ---------------------------------------------------------

def count_words(app) -> None:
    """The words corrections are made from, counted now (a page counts them in the background)."""
    with app.app_context():
        from services.spelling import search_vocabulary
        assert search_vocabulary().refresh()


@pytest.mark.parametrize(("typo", "meant"), [("xạt lở", "sạt lở"), ("thả quả", "thảo quả"), ("qế", "quế"),
                                             ("cá hồ", "cá hồi"), ("lũ quyét", "lũ quét")])
def test_a_query_misspelled_by_one_letter_also_finds_what_was_meant(app, client, demo, typo, meant):
    before = titles(client, "ideas", typo)
    response = client.get("/api/v1/ideas", query_string={"q": typo, "per_page": 100})
    assert response.get_json()["corrected"] is None  # not counted yet: the search works as before
    count_words(app)
    after = client.get("/api/v1/ideas", query_string={"q": typo, "per_page": 100}).get_json()
    assert after["corrected"] == meant.lower()  # as the texts found write it
    found = [i["title"] for i in after["items"]]
    assert containing("ideas", meant) <= set(found)
    # an expansion: what the typed words found stays, and first
    assert found[:len(before)] == before
    page = client.get("/ideas/", query_string={"q": typo}).get_data(as_text=True)
    assert f"Hiển thị cả kết quả cho: {meant.lower()}" in page
    client.get("/lang/en")
    english = client.get("/ideas/", query_string={"q": typo}).get_data(as_text=True)
    assert f"Showing results also for: {meant.lower()}" in english


@pytest.mark.parametrize("q", ["sạt lở", "quế", "lò", "肉桂", "2024", "Sa Pa", "mậm"])
def test_words_as_written_are_not_corrected(app, client, demo, q):
    before = titles(client, "ideas", q)
    count_words(app)
    response = client.get("/api/v1/ideas", query_string={"q": q, "per_page": 100}).get_json()
    assert response["corrected"] is None
    assert [i["title"] for i in response["items"]] == before
    assert 'id="search-corrected"' not in client.get("/ideas/", query_string={"q": q}).get_data(as_text=True)


def test_a_correction_never_reveals_a_confidential_need_s_hidden_words(app, client, login_as, auth):
    login_as("business")
    for n in (1, 2):
        secret = {**SECRET, "title": f"{SECRET['title']} {n}"}
        assert client.post("/needs/new", data={**secret, "publish": "1"}).status_code == 302
    auth.logout()
    count_words(app)
    with app.app_context():
        from services.spelling import search_vocabulary
        assert "zyxtrola" not in search_vocabulary().current.words_
        assert "quyxanh" not in search_vocabulary().current.words_
    for q in ("Zyxtrla", "Quyxnh"):  # one letter missing
        response = client.get("/api/v1/needs", query_string={"q": q}).get_json()
        assert (response["corrected"], response["items"]) == (None, []), q
        assert "zyxtrola" not in client.get("/needs/", query_string={"q": q}).get_data(as_text=True).lower()
    # the same word written where anyone may read it is a correction (so the check above can fail)
    login_as("innovator")
    from tests.app.test_submissions import IDEA as FORM
    for n in (1, 2):
        client.post("/ideas/new", data={**FORM, "title": f"{FORM['title']} {n}",
                                        "description": "Kho Zyxtrola ẩm mốc.", "publish": "1"})
    auth.logout()
    count_words(app)
    assert client.get("/api/v1/ideas", query_string={"q": "Zyxtrla"}).get_json()["corrected"] == "zyxtrola"
    # and still finds no confidential need for others
    assert client.get("/api/v1/needs", query_string={"q": "Zyxtrla"}).get_json()["items"] == []


def test_the_correction_is_documented_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    pages = [s for s in spec["components"]["schemas"].values() if "cross_language" in s.get("properties", {})]
    assert pages and all("corrected" in s["properties"] and "corrected" in s["required"] for s in pages)


def test_the_words_are_counted_in_the_background_and_again_after_a_change(app, client, login_as):
    import threading

    from services.spelling import search_vocabulary
    vocabulary = search_vocabulary(app)
    assert vocabulary.current is None
    vocabulary.refresh_in_background(app)
    for thread in threading.enumerate():
        if thread.name == "search-vocabulary":
            thread.join()
    assert vocabulary.current is not None and "zyxtrola" not in vocabulary.current.words_
    with app.app_context():
        assert not vocabulary.refresh()  # nothing changed: not counted again
    login_as("innovator")
    from tests.app.test_submissions import IDEA as FORM
    client.post("/ideas/new", data={**FORM, "description": "Kho Zyxtrola ẩm mốc.", "publish": "1"})
    with app.app_context():
        assert vocabulary.refresh()
    assert vocabulary.current.words_["zyxtrola"] == 1
