"""The province glossary: admins edit it in the app (pages, files), every change is audited, the
engine's glossary follows the rows, and seeding again keeps what admins did."""
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app import create_app
from extensions import db
from matching.glossary import read_glossary_csv
from models import AuditEntry, GlossaryTerm, User
from services import glossary, seeding

SEEDED = read_glossary_csv(seeding.SEED_DIR / "glossary.csv")  # whatever the file holds


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def _term(app, concept: str) -> GlossaryTerm | None:
    with app.app_context():
        term = db.session.scalar(sa.select(GlossaryTerm).where(GlossaryTerm.concept == concept))
        if term is not None:
            db.session.expunge(term)
        return term


def _live_concepts(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(GlossaryTerm.concept).where(GlossaryTerm.deleted_at.is_(None))))


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "glossary")
                                       .order_by(AuditEntry.id)))


def _upload(client, content: bytes, name: str = "glossary.csv"):
    return client.post("/admin/glossary/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _csv(*rows: str, header: str = "concept,kind,vi,en,zh") -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


# --- seeding ------------------------------------------------------------------------------

def test_the_seed_file_is_loaded_and_seeding_again_keeps_admins_edits_and_deletions(app, runner):
    assert SEEDED, "seed_data/glossary.csv holds no concept"
    assert _live_concepts(app) == {e.concept for e in SEEDED}  # the fixture seeded it
    edited, deleted = SEEDED[0].concept, SEEDED[-1].concept
    with app.app_context():
        term = glossary.get(_term(app, edited).id)
        glossary.save_entry(term, None, edited, "other", "tên đã sửa", "", "")
        if deleted != edited:
            glossary.delete_entry(glossary.get(_term(app, deleted).id), None)

    result = runner.invoke(args=["seed", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "'glossary': 0" in result.output
    term = _term(app, edited)
    assert (term.kind, term.vi, term.en, term.zh) == ("other", "tên đã sửa", "", "")
    if deleted != edited:
        assert deleted not in _live_concepts(app)


# --- the engine's glossary ----------------------------------------------------------------

def test_current_glossary_follows_every_change_of_the_rows(app, client, admin):
    with app.app_context():
        before = glossary.current_glossary()
        assert glossary.current_glossary() is before  # built once while nothing changes
        assert len(before) == len(SEEDED)
        assert "zz_jelly" not in before.concepts("Thạch thử, test jelly, 测试冻")

    client.post("/admin/glossary/new", data={"concept": "zz_jelly", "kind": "crop", "vi": "thạch thử",
                                             "en": "test jelly", "zh": "测试冻"})
    with app.app_context():  # as a request of any worker would: a new context over the same process
        after = glossary.current_glossary()
        assert after is not before
        assert after.concepts("Test jelly dryer") >= {"zz_jelly"}
        assert after.same_concept("thạch thử", "测试冻")
        term_id = _term(app, "zz_jelly").id

    client.post(f"/admin/glossary/{term_id}", data={"kind": "crop", "vi": "thạch thử | sương thử", "en": "", "zh": ""})
    with app.app_context():
        assert "zz_jelly" in glossary.current_glossary().concepts("Chế biến sương thử")
        assert "zz_jelly" not in glossary.current_glossary().concepts("Test jelly dryer")

    client.post(f"/admin/glossary/{term_id}/delete")
    with app.app_context():
        assert "zz_jelly" not in glossary.current_glossary().concepts("Chế biến sương thử")
        assert len(glossary.current_glossary()) == len(SEEDED)


def test_another_process_sees_an_edit_without_a_restart(app, database_url):
    """A second app over the same database stands for another gunicorn worker: it is never told."""
    from tests.conftest import MATCHING_TEST_CONFIG
    worker = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **MATCHING_TEST_CONFIG})
    with worker.app_context():
        assert "zz_jelly" not in glossary.current_glossary().concepts("thạch thử")
    with app.app_context():
        glossary.save_entry(None, None, "zz_jelly", "crop", vi="thạch thử")
    with worker.app_context():
        assert "zz_jelly" in glossary.current_glossary().concepts("thạch thử")
        db.engine.dispose()


# --- pages --------------------------------------------------------------------------------

def test_admin_adds_finds_edits_and_deletes_a_concept(app, client, admin):
    page = client.get("/admin/glossary")
    assert page.status_code == 200
    assert "Bảng thuật ngữ của tỉnh" in page.get_data(as_text=True)

    added = client.post("/admin/glossary/new", data={"concept": "zz_plum", "kind": "crop",
                                                     "vi": "mận thử | mận hậu thử", "en": "test plum", "zh": "测试李"})
    assert added.status_code == 302
    term = _term(app, "zz_plum")
    assert (term.kind, term.vi, term.en, term.zh) == ("crop", "mận thử|mận hậu thử", "test plum", "测试李")
    assert term.updated_by_id == admin[0]

    found = client.get("/admin/glossary?q=mận hậu thử").get_data(as_text=True)
    assert "zz_plum" in found and found.count('class="list-group-item glossary-term"') == 1
    assert 'class="list-group-item glossary-term"' not in client.get("/admin/glossary?q=mận hậu thử&kind=place").get_data(
        as_text=True)

    edit_page = client.get(f"/admin/glossary/{term.id}").get_data(as_text=True)
    assert 'value="mận thử | mận hậu thử"' in edit_page
    client.post(f"/admin/glossary/{term.id}", data={"concept": "renamed", "kind": "crop", "vi": "mận thử",
                                                    "en": "plum thử | Bac Ha plum thử", "zh": ""})
    term = _term(app, "zz_plum")
    assert (term.vi, term.en, term.zh) == ("mận thử", "plum thử|Bac Ha plum thử", "")
    assert _term(app, "renamed") is None  # the id never changes

    confirm = client.get(f"/admin/glossary/{term.id}/delete")
    assert confirm.status_code == 200 and "Xóa khái niệm zz_plum?" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/glossary/{term.id}/delete").status_code == 302
    assert "zz_plum" not in _live_concepts(app)
    assert client.get(f"/admin/glossary/{term.id}").status_code == 404
    assert _actions(app) == ["glossary.create", "glossary.update", "glossary.delete"]

    # adding it again brings the row back
    client.post("/admin/glossary/new", data={"concept": "zz_plum", "kind": "crop", "vi": "mận thử"})
    assert "zz_plum" in _live_concepts(app) and _term(app, "zz_plum").id == term.id


def test_the_list_warns_of_a_name_given_to_two_concepts(app, client, admin):
    assert "tên chung thử" not in client.get("/admin/glossary").get_data(as_text=True).casefold()
    client.post("/admin/glossary/new", data={"concept": "zz_one", "kind": "crop", "vi": "tên chung thử"})
    client.post("/admin/glossary/new", data={"concept": "zz_two", "kind": "place", "en": "Tên Chung Thử"})
    html = client.get("/admin/glossary").get_data(as_text=True)
    assert '<li class="shared-name">“tên chung thử”: <code>zz_one</code>, <code>zz_two</code></li>' in html
    with app.app_context():
        assert glossary.current_glossary().concepts("Tên chung thử") == {"zz_one"}  # the older concept wins


def test_the_form_refuses_what_the_engine_would_not_read(app, client, admin):
    existing = SEEDED[0].concept
    cases = [
        ({"concept": existing, "kind": "crop", "vi": "gì đó"}, f"Khái niệm “{existing}” đã có trong bảng thuật ngữ."),
        ({"concept": "Quế Văn Yên", "kind": "crop", "vi": "quế"}, "Mã khái niệm “Quế Văn Yên” chỉ được gồm"),
        ({"concept": "empty", "kind": "crop", "vi": " | ", "en": ""}, "Cần ít nhất một tên gọi"),
    ]
    for data, message in cases:
        response = client.post("/admin/glossary/new", data=data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert _live_concepts(app) == {e.concept for e in SEEDED}
    assert _actions(app) == []


@pytest.mark.parametrize("role", ["innovator", "business", "staff"])
def test_only_admins_reach_the_glossary(app, client, login_as, role):
    login_as(role)
    term_id = _term(app, SEEDED[0].concept).id
    for method, url in [("get", "/admin/glossary"), ("get", "/admin/glossary/new"),
                        ("post", "/admin/glossary/new"), ("get", f"/admin/glossary/{term_id}"),
                        ("post", f"/admin/glossary/{term_id}"), ("post", f"/admin/glossary/{term_id}/delete"),
                        ("get", "/admin/glossary/import"), ("post", "/admin/glossary/import"),
                        ("get", "/admin/glossary/export.csv"), ("get", "/admin/glossary/export.xlsx")]:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert _live_concepts(app) == {e.concept for e in SEEDED}


def test_the_admin_menu_links_the_glossary(client, admin):
    assert 'href="/admin/glossary"' in client.get("/").get_data(as_text=True)


# --- files --------------------------------------------------------------------------------

def test_bad_rows_are_each_named_in_vietnamese_and_nothing_is_saved(app, client, admin):
    content = _csv(
        "zz_tea,crop,chè thử,test tea,测试茶",  # row 2: good, yet not saved
        "zz_plum,fruit,mận thử,,",              # row 3: unknown kind
        "Cây Quế,crop,quế,,",                   # row 4: bad concept id
        "zz_nothing,crop,,,",                   # row 5: no names
        "zz_tea,crop,chè thử Shan tuyết,,",     # row 6: the same concept again
    )
    response = _upload(client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tệp có 4 lỗi" in html and "Chưa có dữ liệu nào được nhập." in html
    rows = [r for r in html.split('<tr class="import-error">')[1:]]
    assert [r.split("<td>")[1].split("</td>")[0] for r in rows] == ["3", "4", "5", "6"]
    assert "Loại “fruit” không hợp lệ" in rows[0]
    assert "Mã khái niệm “Cây Quế” chỉ được gồm" in rows[1]
    assert "Cần ít nhất một tên gọi" in rows[2]
    assert "Khái niệm “zz_tea” đã có ở dòng 2 của tệp." in rows[3]
    assert _live_concepts(app) == {e.concept for e in SEEDED}
    assert _actions(app) == []


def test_a_file_with_wrong_columns_or_format_is_refused(app, client, admin):
    wrong = _upload(client, _csv("zz_tea,crop,chè thử,test tea", header="concept,kind,vi,english"))
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert "Thiếu cột: en, zh." in html and "Cột không xác định: english." in html
    assert _upload(client, b"concept\ttea", "glossary.txt").status_code == 422
    assert _live_concepts(app) == {e.concept for e in SEEDED}


def test_import_adds_and_changes_concepts_and_export_reads_back(app, client, admin):
    kept = SEEDED[0]
    # a kind is its code or the label the pages show (here in Vietnamese, quoted for its comma)
    response = _upload(client, _csv('zz_tea,"Cây trồng, sản phẩm",chè thử|trà thử,test tea,测试茶',
                                    f"{kept.concept},{kept.kind},{'|'.join(kept.vi) or 'x'},đổi tên,"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Đã nhập: thêm 1 khái niệm, sửa 1, giữ nguyên 0." in client.get("/admin/glossary").get_data(as_text=True)
    tea = _term(app, "zz_tea")
    assert (tea.kind, tea.vi, tea.en, tea.zh) == ("crop", "chè thử|trà thử", "test tea", "测试茶")
    assert _term(app, kept.concept).en == "đổi tên"
    assert _actions(app) == ["glossary.create", "glossary.update", "glossary.import"]

    # the export is a file the import (and the seeding) reads back unchanged
    csv_export = client.get("/admin/glossary/export.csv")
    assert csv_export.status_code == 200
    entries = read_glossary_csv(io.StringIO(csv_export.data.decode("utf-8-sig")))
    assert {e.concept for e in entries} == _live_concepts(app)
    assert next(e for e in entries if e.concept == "zz_tea").vi == ("chè thử", "trà thử")
    response = _upload(client, csv_export.data)
    assert response.status_code == 302
    assert f"giữ nguyên {len(entries)}" in client.get("/admin/glossary").get_data(as_text=True)

    book = load_workbook(io.BytesIO(client.get("/admin/glossary/export.xlsx").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("concept", "kind", "vi", "en", "zh")
    tea_row = next(r for r in rows if r[0] == "zz_tea")
    edited = Workbook()
    sheet = edited.active
    sheet.append(rows[0])
    sheet.append((tea_row[0], "technology", tea_row[2], "test tea|green test tea", tea_row[4]))
    out = io.BytesIO()
    edited.save(out)
    assert _upload(client, out.getvalue(), "glossary.xlsx").status_code == 302
    tea = _term(app, "zz_tea")
    assert (tea.kind, tea.en) == ("technology", "test tea|green test tea")


def test_concepts_the_file_does_not_name_stay_and_the_audit_names_the_admin(app, client, admin):
    assert _upload(client, _csv("zz_tea,crop,chè thử,test tea,")).status_code == 302
    assert _live_concepts(app) == {e.concept for e in SEEDED} | {"zz_tea"}
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "glossary.create"))
        assert db.session.get(User, entry.actor_id).email == admin[1]


def test_a_request_reads_the_glossary_once_and_again_after_changing_it(app, make_user):
    """One look at the glossary's rows per request (a matches page asks for it at every ranking and
    explanation), and a change made in that request is seen by the rest of it."""
    service = glossary
    _, email = make_user("admin")
    with app.test_request_context("/"):
        admin = db.session.scalar(sa.select(User).where(User.email == email))
        first = service.current_glossary()
        assert service.current_glossary() is first
        service.save_entry(None, admin, "tea_roller_test", "technology", vi="máy vò chè thử", en="tea roller test")
        changed = service.current_glossary()
        assert changed is not first and changed.concept_of("tea roller test") == "tea_roller_test"
        service.delete_entry(service._find("tea_roller_test"), admin)
        assert service.current_glossary().concept_of("tea roller test") is None
