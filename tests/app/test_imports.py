"""Bulk import of ideas: columns, every row checked, duplicates, encodings, preview first, all or nothing."""
import io
import json
import time
import unicodedata

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

HEADERS = ["Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực", "E-mail tác giả", "TRL", "Xã/phường"]


def _row(n, email, **over):
    row = {"Tiêu đề": f"Ý tưởng số {n} về sấy quế", "Loại": "startup_idea", "Tóm tắt": "Tóm tắt ngắn gọn.",
           "Mô tả": "Mô tả chi tiết giải pháp sấy quế.", "Lĩnh vực": "agriculture_highland", "E-mail tác giả": email,
           "TRL": "3", "Xã/phường": "xa-bac-ha"}
    row.update(over)
    return row


def _csv(rows, headers=HEADERS, encoding="utf-8-sig"):
    lines = [",".join(headers)] + [",".join(f'"{r.get(h, "")}"' for h in headers) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "cp1258":
        return b"".join(map(_cp1258, text))
    return text.encode(encoding)


def _cp1258(char):
    """Windows' Vietnamese code page: a letter with its vowel mark, then the tone as a combining mark."""
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        parts = unicodedata.normalize("NFD", char)
        return unicodedata.normalize("NFC", parts[:-1]).encode("cp1258") + parts[-1].encode("cp1258")


def _xlsx(rows, headers=HEADERS):
    book = Workbook()
    book.active.append(headers)
    for r in rows:
        book.active.append([r.get(h, "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, content, name="ideas.csv"):
    return client.post("/reports/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _count_ideas(app):
    from extensions import db
    from models import Idea
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Idea.id)))


def _job(app, job_id):
    from extensions import db
    from models import ImportJob
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        return {"status": job.status, "done": job.done_rows, "errors": json.loads(job.errors_json),
                "message": job.message}


def _wait(app, job_id, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = _job(app, job_id)
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def _job_id(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@pytest.fixture
def staff(login_as):
    return login_as("staff")


@pytest.fixture
def author(make_user):
    return make_user("innovator")[1]


def test_the_preview_creates_nothing_and_confirming_imports_every_row(app, client, staff, author):
    job_id = _job_id(_upload(client, _csv([_row(1, author), _row(2, author), _row(3, author)])))
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert _count_ideas(app) == 0 and _job(app, job_id)["status"] == "preview"
    assert f"/reports/import/{job_id}/confirm" in page
    response = client.post(f"/reports/import/{job_id}/confirm")
    assert response.status_code == 302
    assert _wait(app, job_id)["status"] == "done"
    assert _count_ideas(app) == 3
    from extensions import db
    from models import AuditEntry, Idea
    with app.app_context():
        idea = db.session.scalar(sa.select(Idea).order_by(Idea.id))
        assert idea.status == "published" and idea.trl == 3 and idea.place.code == "xa-bac-ha"
        assert idea.owner.email == author and [s.code for s in idea.sectors] == ["agriculture_highland"]
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "import.apply"))
        assert entry.entity_id == job_id and json.loads(entry.after) == {"rows": 3}
    client.get("/lang/en")
    again = client.post(f"/reports/import/{job_id}/confirm", follow_redirects=True,
                        headers={"Referer": f"http://localhost/reports/import/{job_id}"})  # never twice: told why
    assert again.request.path == f"/reports/import/{job_id}" and "This import was already confirmed." in again.text
    assert _count_ideas(app) == 3


def test_an_xlsx_file_with_vietnamese_names_and_english_headers(app, client, staff, author):
    headers = ["Title", "Kind", "Summary", "Description", "Sectors", "Commune or ward", "Stage", "Language"]
    row = {"Title": "Dự án STEM đo mưa", "Kind": "Dự án STEM", "Summary": "Trạm đo mưa tự làm.",
           "Description": "Học sinh lắp trạm đo mưa.", "Sectors": "Năng lượng; Giáo dục và STEM",
           "Commune or ward": "Xã Bắc Hà", "Stage": "Mẫu thử", "Language": "Tiếng Việt"}
    job_id = _job_id(_upload(client, _xlsx([row], headers), "hackathon.xlsx"))
    assert _job(app, job_id)["errors"] == []
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    from extensions import db
    from models import Idea
    with app.app_context():
        idea = db.session.scalar(sa.select(Idea))
        assert (idea.kind, idea.stage, idea.language, idea.place.code) == ("stem_project", "prototype", "vi",
                                                                            "xa-bac-ha")
        assert sorted(s.code for s in idea.sectors) == ["education_stem", "energy"]


def test_the_names_the_pages_show_are_read_back_in_either_language(app, client, staff, author):
    """A cell may name a code as the pages do, in Vietnamese or English, or give the code itself."""
    headers = ["Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực", "Giai đoạn", "Ai được xem", "Ngôn ngữ"]
    rows = [
        # the idea form's words in Vietnamese, typed with other capitals
        _row(1, author, **{"Loại": "dự án hackathon", "Giai đoạn": "SẢN PHẨM MẪU",
                           "Ai được xem": "Chỉ thành viên đã đăng nhập", "Ngôn ngữ": "Tiếng Anh"}),
        # the same words in English
        _row(2, author, **{"Loại": "Hackathon project", "Giai đoạn": "Prototype",
                           "Ai được xem": "Signed-in members only", "Ngôn ngữ": "English"}),
        # the codes
        _row(3, author, **{"Loại": "HACKATHON_PROJECT", "Giai đoạn": "prototype", "Ai được xem": "members",
                           "Ngôn ngữ": "en"}),
    ]
    job_id = _job_id(_upload(client, _xlsx(rows, headers), "names.xlsx"))
    assert _job(app, job_id)["errors"] == []
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    from extensions import db
    from models import Idea
    with app.app_context():
        ideas = db.session.scalars(sa.select(Idea).order_by(Idea.id)).all()
        assert [(i.kind, i.stage, i.visibility, i.language) for i in ideas] == \
            [("hackathon_project", "prototype", "members", "en")] * 3
        first = ideas[0].id
    # the word typed in the file is the word the idea's page shows
    assert "Sản phẩm mẫu" in client.get(f"/ideas/{first}").get_data(as_text=True)


def test_missing_and_unknown_columns_are_named(app, client, staff):
    headers = ["Tiêu đề", "Loại", "Mô tả", "Lĩnh vực", "Điểm thưởng"]
    response = _upload(client, _csv([], headers))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tóm tắt" in page and "Điểm thưởng" in page
    assert _count_ideas(app) == 0


def test_an_unknown_column_is_quoted_short_whatever_its_header_holds(app, client, staff):
    huge = "x" * 100_000  # a header cell holding a whole text
    headers = ["Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực", huge]
    response = _upload(client, _csv([], headers))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "x" * 59 + "…" in page and huge not in page


def test_every_bad_row_is_listed_and_confirm_is_refused(app, client, staff, author, make_user):
    _, business = make_user("business")
    rows = [
        _row(1, author),
        _row(2, author, **{"Loại": "poem"}),
        _row(3, author, **{"TRL": "12"}),
        _row(4, author, **{"Tiêu đề": "Abc"}),
        _row(5, author, **{"Lĩnh vực": "astrology"}),
        _row(6, "nobody@example.vn"),  # no account: held by the staff member who imports, no error
        _row(7, business),
        _row(8, author, **{"Tóm tắt": ""}),
        _row(9, author, **{"Xã/phường": "Huyện Bắc Hà"}),
    ]
    job_id = _job_id(_upload(client, _csv(rows)))
    errors = {(e["row"], e["column"]) for e in _job(app, job_id)["errors"]}
    assert errors == {(3, "Loại"), (4, "TRL"), (5, "Tiêu đề"), (6, "Lĩnh vực"),
                      (8, "E-mail tác giả"), (9, "Tóm tắt"), (10, "Xã/phường")}
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert page.count('class="import-error"') == 7 and "/confirm" not in page
    assert client.post(f"/reports/import/{job_id}/confirm").status_code == 422
    assert _count_ideas(app) == 0 and _job(app, job_id)["status"] == "preview"


def test_duplicates_in_the_file_and_in_the_database(app, client, staff, author, submit):
    from extensions import db
    from models import User
    with app.app_context():
        owner = db.session.scalar(sa.select(User).where(User.email == author)).id
    submit("ideas", owner, title="Ý tưởng đã có sẵn")
    rows = [_row(1, author), _row(2, author, **{"Tiêu đề": "Ý TƯỞNG SỐ 1  về sấy quế"}),
            _row(3, author, **{"Tiêu đề": "Ý tưởng đã có sẵn"})]
    job_id = _job_id(_upload(client, _csv(rows)))
    errors = _job(app, job_id)["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "Tiêu đề"), (4, "Tiêu đề")]
    assert "2" in errors[0]["message"]
    assert _count_ideas(app) == 1
    # the rows with an error are not among those shown as they will be imported
    with app.test_request_context():
        from services import imports
        assert [r.row for r in imports.preview_rows(imports.get(job_id))] == [2]


def test_a_file_not_in_utf8_is_refused_with_the_expected_encoding(app, client, staff, author):
    response = _upload(client, _csv([_row(1, author)], encoding="cp1258"))
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)
    assert _count_ideas(app) == 0


def test_other_file_types_are_refused(client, staff):
    assert _upload(client, b"%PDF-1.4", "ideas.pdf").status_code == 422
    assert _upload(client, b"not a zip", "ideas.xlsx").status_code == 422


def test_an_author_without_an_account_is_held_by_the_staff_member_who_imports(app, client, staff, author):
    """A row without an e-mail, or whose e-mail has no account, is owned by the importer and names its
    author as the file does (or the importer, when it names no one); no one is told."""
    from extensions import db
    from models import Idea, Notification
    headers = [*HEADERS, "Tác giả"]
    rows = [_row(1, "", **{"Tác giả": "Lò Thị Sua"}), _row(2, "hs.nobody@example.vn", **{"Tác giả": "Vàng A Páo"}),
            _row(3, ""), _row(4, author, **{"Tác giả": "Lò Thị Sua"}),
            # another student's entry of the same title is not a duplicate: the file names another author
            _row(5, "", **{"Tác giả": "Vàng A Páo", "Tiêu đề": "Ý tưởng số 1 về sấy quế"})]
    job_id = _job_id(_upload(client, _csv(rows, headers), "hackathon.csv"))
    assert _job(app, job_id)["errors"] == []
    client.get("/lang/en")
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    owners = [cell.split("</td>")[0] for cell in page.split('class="import-owner">')[1:]]
    assert [o.startswith("Staff Test &lt;") for o in owners] == [True, True, True, False, True]
    assert "no account has hs.nobody@example.vn: you hold the idea for its author" in owners[1]
    assert "no author&#39;s account: you hold the idea for its author" in owners[2]
    assert owners[3].startswith("Innovator Test &lt;") and "told of the import" in owners[3]
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    with app.app_context():
        ideas = db.session.scalars(sa.select(Idea).order_by(Idea.id)).all()
        assert [(i.owner.role, i.author, i.held_for_author) for i in ideas] == [
            ("staff", "Lò Thị Sua", True), ("staff", "Vàng A Páo", True), ("staff", "Staff Test", True),
            ("innovator", "Lò Thị Sua", False), ("staff", "Vàng A Páo", True)]
        told = [(n.user_id, n.kind) for n in db.session.scalars(sa.select(Notification))]
        assert told == [(ideas[3].owner_id, "ideas_imported")]  # the author with an account, not the importer
        held = ideas[0].id
    assert "Lò Thị Sua" in client.get(f"/ideas/{held}").get_data(as_text=True)
    # the staff member holding it corrects it and may withdraw it
    assert client.get(f"/ideas/{held}/edit").status_code == 200
    # in the export, an author without an account has no e-mail (not the holder's)
    exported = _sheet_rows(client.get("/ideas/export.csv").data, "csv")
    email, name = exported[0].index("E-mail tác giả"), exported[0].index("Tác giả")
    assert sorted((r[name], r[email]) for r in exported[1:]) == [
        ("Lò Thị Sua", ""), ("Lò Thị Sua", author), ("Staff Test", ""), ("Vàng A Páo", ""), ("Vàng A Páo", "")]


def test_an_account_of_another_role_is_refused_as_an_author(app, client, staff, make_user):
    _, business = make_user("business")
    job_id = _job_id(_upload(client, _csv([_row(1, business)])))
    assert [(e["row"], e["column"]) for e in _job(app, job_id)["errors"]] == [(2, "E-mail tác giả")]


def test_only_the_staff_member_holding_an_imported_idea_edits_it(app, client, staff, auth, login_as):
    job_id = _job_id(_upload(client, _csv([_row(1, "")])))
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    from extensions import db
    from models import Idea
    with app.app_context():
        idea_id = db.session.scalar(sa.select(Idea.id))
    assert client.post(f"/ideas/{idea_id}/withdraw").status_code == 302
    auth.logout()
    login_as("staff")  # a colleague sees it but does not edit it
    assert client.get(f"/ideas/{idea_id}/edit").status_code == 403


def test_only_the_uploader_confirms(app, client, staff, author, auth, login_as):
    job_id = _job_id(_upload(client, _csv([_row(1, author)])))
    auth.logout()
    login_as("staff")
    assert client.post(f"/reports/import/{job_id}/confirm").status_code == 403
    assert _count_ideas(app) == 0


def test_a_failing_row_during_apply_rolls_everything_back(app, client, staff, author, monkeypatch):
    from services import imports, submissions
    job_id = _job_id(_upload(client, _csv([_row(n, author) for n in range(1, 8)])))
    real_build, calls = submissions.build, []

    def build(kind, owner, data, publish):
        calls.append(1)
        item = real_build(kind, owner, data, publish)
        if len(calls) == 5:
            item.title = None  # the database refuses row 5 when the whole batch is written
        return item
    monkeypatch.setattr(submissions, "build", build)
    from extensions import db
    from models import AuditEntry, Notification, User
    with app.app_context():
        imports.confirm(imports.get(job_id), db.session.scalar(sa.select(User).where(User.role == "staff")))
        job = imports.apply_import(job_id)  # synchronously, as a job queue would
        assert job.status == "failed" and job.message
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "import.apply")) == 0
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0  # nobody told of what failed
    assert _count_ideas(app) == 0
    client.get("/lang/en")
    assert "nothing was imported" in client.get(f"/reports/import/{job_id}").get_data(as_text=True)


def test_the_job_page_refreshes_while_running(app, client, staff, author):
    from extensions import db
    from models import ImportJob
    job_id = _job_id(_upload(client, _csv([_row(1, author)])))
    with app.app_context():
        db.session.get(ImportJob, job_id).status = "running"
        db.session.commit()
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "<progress" in page


def test_three_thousand_rows_import_completely(app, client, staff, author, monkeypatch):
    from services import match_index
    embedded = []
    monkeypatch.setattr(match_index, "embed_job", lambda refs, explanations, alert=False:
                        embedded.append((len(refs), explanations, alert)))
    rows = [_row(n, author) for n in range(1, 3001)]
    job_id = _job_id(_upload(client, _csv(rows)))
    assert _job(app, job_id)["errors"] == []
    client.post(f"/reports/import/{job_id}/confirm")
    job = _wait(app, job_id)
    assert job["status"] == "done" and job["done"] == 3000
    assert _count_ideas(app) == 3000
    deadline = time.monotonic() + 10
    while not embedded and time.monotonic() < deadline:  # embedding follows the commit
        time.sleep(0.05)
    # queued as bulk jobs: their texts first (then each chunk's match alerts), then the reasons
    assert embedded == [(3000, False, True), (3000, True, False)]


def test_the_template_has_the_expected_headers(client, staff):
    book = load_workbook(io.BytesIO(client.get("/reports/import/template.xlsx").data))
    headers = next(book.active.iter_rows(values_only=True))
    assert headers[:5] == ("Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực")
    client.get("/lang/en")
    english = client.get("/reports/import/template.csv").data.decode("utf-8-sig").splitlines()[0]
    assert english.startswith("Title,Kind,Summary,Description,Sectors")


def test_the_import_stands_when_embedding_fails(app, client, staff, author, monkeypatch):
    from services import match_index

    def broken(ideas):
        raise RuntimeError("model unavailable")
    monkeypatch.setattr(match_index, "embed_submissions", broken)
    job_id = _job_id(_upload(client, _csv([_row(1, author), _row(2, author)])))
    client.post(f"/reports/import/{job_id}/confirm")  # the job runs at once in tests (JOBS_SYNC)
    job = _job(app, job_id)
    assert job["status"] == "done" and job["message"] == "embedding_failed"
    assert _count_ideas(app) == 2


def test_a_language_left_to_detect_is_stored_as_the_detected_one(app, client, staff, author):
    headers = [*HEADERS, "Ngôn ngữ"]
    rows = [_row(1, author, **{"Tiêu đề": "Frost alarms for plum orchards in Bắc Hà and Mường Khương",
                               "Tóm tắt": "Sensor posts in Bắc Hà and Mường Khương warn growers of frost.",
                               "Mô tả": "Orchards of Bắc Hà, Mường Khương and Si Ma Cai get SMS frost alarms.",
                               "Ngôn ngữ": "Tự động"}),
            _row(2, author, **{"Ngôn ngữ": ""})]
    job_id = _job_id(_upload(client, _csv(rows, headers)))
    assert _job(app, job_id)["errors"] == []
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    from extensions import db
    from models import Idea
    with app.app_context():
        assert list(db.session.scalars(sa.select(Idea.language).order_by(Idea.id))) == ["en", "vi"]


# --- files that cost more than they weigh: checked before and while they are read ------------------

SHEET = "xl/worksheets/sheet1.xml"


def _xlsx_with_sheet(rows_xml, dimension: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A real workbook whose first sheet is replaced by `rows_xml` (an iterable of <row> strings,
    written as it is produced), optionally declaring `dimension`, plus `extra` parts."""
    import zipfile
    source = zipfile.ZipFile(io.BytesIO(_xlsx([], HEADERS)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info, source.read(info.filename))
        with target.open(SHEET, "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?>'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for chunk in rows_xml:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _header_row() -> str:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADERS))
    return f'<row r="1">{cells}</row>'


def _many_rows(n: int, per_chunk: int = 10_000):
    yield _header_row()
    for start in range(2, n + 2, per_chunk):
        # no row or cell references (they are optional): a million rows compress to a few hundred KB
        yield "<row><c><v>1</v></c></row>" * (min(start + per_chunk, n + 2) - start)


def _refused(app, client, content, name="ideas.xlsx"):
    from extensions import db
    from models import ImportJob
    client.get("/lang/en")
    response = _upload(client, content, name)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ImportJob.id))) == 0  # no job, nothing kept
    return response.get_data(as_text=True)


def test_a_sheet_declaring_columns_to_xfd_is_refused_before_it_is_read(app, client, staff):
    page = _refused(app, client, _xlsx_with_sheet([_header_row()], dimension="A1:XFD4000"))
    assert "The sheet has cells beyond column 100." in page


def test_a_million_declared_rows_are_refused_before_they_are_read(app, client, staff):
    content = _xlsx_with_sheet(_many_rows(1_000_000), dimension="A1:H1000001")
    assert len(content) < 4 * 2**20  # it is uploaded whole
    page = _refused(app, client, content)
    assert "The file has more than 10000 rows." in page


def test_rows_beyond_the_limit_are_refused_while_streaming_whatever_the_file_declares(app, client, staff):
    # declares two rows, has 30,000: counted as they are read, refused at row 10,002
    page = _refused(app, client, _xlsx_with_sheet(_many_rows(30_000), dimension="A1:H2"))
    assert "The file has more than 10000 rows." in page


def test_a_cell_far_to_the_right_is_refused_whatever_the_file_declares(app, client, staff):
    row = _header_row().replace("</row>", '<c r="ZZ1" t="inlineStr"><is><t>x</t></is></c></row>')
    page = _refused(app, client, _xlsx_with_sheet([row]))
    assert "The sheet has cells beyond column 100." in page


def test_an_xlsx_that_unpacks_to_far_more_than_it_weighs_is_refused(app, client, staff):
    content = _xlsx_with_sheet([_header_row()], extra={"xl/media/padding.bin": b"\0" * (65 * 2**20)})
    assert len(content) < 200_000
    assert "The file unpacks to more than 64 MB." in _refused(app, client, content)


def test_a_csv_of_too_many_rows_is_refused(app, client, staff, author):
    rows = [",".join(HEADERS)] + ["x"] * 300_000
    page = _refused(app, client, ("\n".join(rows)).encode(), "ideas.csv")
    assert "The file has more than 10000 rows." in page


def test_blank_rows_between_entries_are_not_counted_as_entries(app, client, staff, author):
    from services import tables
    rows = [_row(n, author) for n in range(3)]
    headers, body = tables.read_table("ideas.csv", _csv(rows).replace(b"\r\n", b"\r\n,,,,,,,\r\n"), max_rows=4)
    assert headers == HEADERS and [number for number, _ in body] == [3, 5, 7]


# --- an export imports as it is ---------------------------------------------------------------------

def _sheet_rows(content: bytes, fmt: str) -> list[list]:
    """A downloaded table as rows of values, without its first column (Mã số: the database's numbers)."""
    if fmt == "csv":
        import csv
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]
    assert rows[0][0] == "Mã số"
    return [r[1:] for r in rows]


def _publish_at(app, times):
    """Set the ideas' publication times ({title: datetime}): the system's column, not the file's."""
    from extensions import db
    from models import Idea
    with app.app_context():
        for title, when in times.items():
            db.session.execute(sa.update(Idea).where(Idea.title == title).values(published_at=when))
        db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_as_it_is_and_exports_the_same_again(app, client, staff, make_user, submit, fmt):
    """Round trip: export -> import -> export gives the same file, but for the numbers the database gives."""
    from datetime import datetime

    from extensions import db
    from models import Idea
    owner, _email = make_user("innovator")
    submit("ideas", owner, title="Máy sấy quế năng lượng mặt trời", kind="hackathon_project", stage="prototype",
           description="- giảm 20% chi phí sấy\n- =SUM không phải công thức", keywords="quế, sấy",
           place_code="xa-bac-ha", sector_codes=["agriculture_highland", "energy"], team="Nhóm Quế Xanh",
           organisation="Trường Cao đẳng Lào Cai", event="Hackathon Lào Cai 2026", visibility="members", trl=4)
    submit("ideas", owner, title="Trạm đo mưa cho trường học", kind="stem_project", summary="+20 trạm đo mưa.",
           language="en")
    published = {"Máy sấy quế năng lượng mặt trời": datetime(2026, 11, 29, 15, 42),
                 "Trạm đo mưa cho trường học": datetime(2026, 11, 28, 1, 5)}
    _publish_at(app, published)
    first = client.get(f"/ideas/export.{fmt}").data
    assert "Ý tưởng chỉ cho thành viên" not in first.decode("latin-1")  # (the file itself, not a page)
    with app.app_context():
        for idea in db.session.scalars(sa.select(Idea)):
            db.session.delete(idea)
        db.session.commit()

    job_id = _job_id(_upload(client, first, f"export.{fmt}"))
    job = _job(app, job_id)
    assert job["errors"] == []
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    # the columns the system fills in are read past, and the preview says so
    for header in ("Mã số", "Huyện cũ", "Ngày đăng (giờ Việt Nam)", "Trạng thái"):
        assert f"{header}: Do hệ thống điền" in page
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    _publish_at(app, published)
    again = client.get(f"/ideas/export.{fmt}").data
    assert _sheet_rows(again, fmt) == _sheet_rows(first, fmt)
    with app.app_context():
        idea = db.session.scalar(sa.select(Idea).where(Idea.title == "Máy sấy quế năng lượng mặt trời"))
        assert idea.description.startswith("- giảm 20%")  # the CSV's formula guard is taken off again
        assert (idea.stage, idea.visibility, idea.place.code) == ("prototype", "members", "xa-bac-ha")


def test_the_preview_shows_every_row_as_it_will_be_imported(app, client, staff, author):
    rows = [_row(1, author, **{"Loại": "Dự án STEM"}), _row(2, author, **{"Xã/phường": "Xã Bắc Hà"})]
    job_id = _job_id(_upload(client, _csv(rows)))
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert page.count('class="import-row"') == 2 and "import-note" not in page
    assert "Dự án STEM" in page and "Xã Bắc Hà (Bắc Hà)" in page and "Nông nghiệp đặc sản vùng cao" in page
    # with an error, the good rows are still shown, as they would be imported
    job_id = _job_id(_upload(client, _csv([*rows, _row(3, author, **{"Loại": "poem"})])))
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert page.count('class="import-row"') == 2 and page.count('class="import-error"') == 1


def test_a_csv_guard_is_taken_off_only_before_what_looks_like_a_formula(app):
    from services import tables
    content = "Tiêu đề,Mô tả\r\n'-20% chi phí,'=1+1\r\n'Quế' Văn Yên,@ngày\r\n".encode("utf-8-sig")
    _headers, body = tables.read_table("ideas.csv", content)
    assert [cells for _n, cells in body] == [["-20% chi phí", "=1+1"], ["'Quế' Văn Yên", "@ngày"]]


# --- files as people send them (tests/app/_import_files.py) ------------------------------------------

def _imported(app, client, job_id):
    from extensions import db
    from models import Idea
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    with app.app_context():
        return [(i.title, i.kind, i.stage, i.event, i.visibility) for i in
                db.session.scalars(sa.select(Idea).order_by(Idea.id))]


def test_the_sheet_people_see_is_read_not_a_hidden_instructions_sheet_before_it(app, client, staff, author):
    from tests.app import _import_files as files
    job_id = _job_id(_upload(client, files.instructions_first(author), "hackathon.xlsx"))
    assert _job(app, job_id)["errors"] == []
    assert files.HIDDEN_TEXT not in client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert [t for t, *_ in _imported(app, client, job_id)] == ["Ý tưởng số 1 về sấy quế", "Ý tưởng số 2 về sấy quế"]


def test_a_hidden_active_sheet_gives_way_to_the_first_visible_one(app):
    from openpyxl import Workbook

    from services import tables
    book = Workbook()
    book.active.append(["Tiêu đề"])
    book.active.append(["Hiện"])
    hidden = book.create_sheet("Ẩn")
    hidden.append(["Bí mật"])
    hidden.sheet_state = "hidden"
    book.active = 1  # saved as active while hidden, as some tools do
    out = io.BytesIO()
    book.save(out)
    assert tables.read_table("x.xlsx", out.getvalue()) == (["Tiêu đề"], [(2, ["Hiện"])])


def test_a_sheet_that_declares_its_size_as_a1_is_read_whole(app, client, staff, author):
    from tests.app import _import_files as files
    content = files.declared_a1(author)
    assert b'<dimension ref="A1"/>' in zipfile_part(content, "xl/worksheets/sheet1.xml")
    job_id = _job_id(_upload(client, content, "wps.xlsx"))
    assert _job(app, job_id)["errors"] == []
    assert len(_imported(app, client, job_id)) == 3


def zipfile_part(content: bytes, name: str) -> bytes:
    import zipfile
    return zipfile.ZipFile(io.BytesIO(content)).read(name)


def test_a_merged_event_cell_is_filled_down_and_the_preview_says_so(app, client, staff, author):
    from tests.app import _import_files as files
    job_id = _job_id(_upload(client, files.merged_event(author), "merged.xlsx"))
    assert _job(app, job_id)["errors"] == []
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert "Dòng 3, Cuộc thi/hackathon: Ô gộp: dùng giá trị của dòng 2." in page
    assert page.count("<td>Hackathon Lào Cai 2026</td>") == 2  # the rows as they will be imported
    assert [e for *_, e, _v in _imported(app, client, job_id)] == \
        ["Hackathon Lào Cai 2026", "Hackathon Lào Cai 2026", "Ngày hội STEM Bảo Thắng"]


def test_rows_hidden_in_excel_are_skipped_and_the_preview_names_them(app, client, staff, author):
    from tests.app import _import_files as files
    job_id = _job_id(_upload(client, files.hidden_rows(author), "filtered.xlsx"))
    assert _job(app, job_id)["errors"] == []
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert "Dòng 3, 5 bị ẩn trong tệp: không được nhập." in page
    assert page.count('class="import-row"') == 2 and "Ý tưởng số 2 về sấy quế" not in page
    assert "Nhập toàn bộ 2 dòng" in page
    assert [t for t, *_ in _imported(app, client, job_id)] == ["Ý tưởng số 1 về sấy quế", "Ý tưởng số 3 về sấy quế"]


def test_columns_hidden_in_excel_are_ignored_and_the_preview_names_them(app, client, staff, author):
    """A hidden column is not read: its header, unknown to the import, does not refuse the file, and
    its values (here the stage) are not imported; a merged cell to its right still fills down."""
    from tests.app import _import_files as files
    job_id = _job_id(_upload(client, files.hidden_columns(author), "notes.xlsx"))
    assert _job(app, job_id)["errors"] == []
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert "Ghi chú nội bộ: Cột bị ẩn trong tệp: không được nhập." in page
    assert "Giai đoạn: Cột bị ẩn trong tệp: không được nhập." in page
    assert "Dòng 3, Cuộc thi/hackathon: Ô gộp: dùng giá trị của dòng 2." in page
    assert "Đã gọi điện" not in page
    assert [(s, e) for _t, _k, s, e, _v in _imported(app, client, job_id)] == \
        [("idea", "Hackathon Lào Cai 2026"), ("idea", "Hackathon Lào Cai 2026")]


def test_a_hidden_column_still_counts_when_its_header_is_required(app, client, staff, author):
    """What the sheet shows is what is read: a required column hidden is a missing column."""
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(_xlsx([_row(1, author)])))
    book.active.column_dimensions["A"].hidden = True  # Tiêu đề
    out = io.BytesIO()
    book.save(out)
    response = _upload(client, out.getvalue(), "hidden-title.xlsx")
    assert response.status_code == 422 and "Tiêu đề" in response.get_data(as_text=True)


def test_every_choice_column_reads_the_pages_words_in_both_languages(app, client, staff, author):
    from tests.app import _import_files as files
    job_id = _job_id(_upload(client, files.pages_words(author), "words.xlsx"))
    assert _job(app, job_id)["errors"] == []
    assert [(k, s, v) for _t, k, s, _e, v in _imported(app, client, job_id)] == \
        [("hackathon_project", "prototype", "members"), ("hackathon_project", "prototype", "public")]


def test_authors_with_accounts_are_told_their_ideas_were_imported(app, client, staff, author, make_user):
    from extensions import db
    from models import Notification, User
    from services import notifications
    _, other = make_user("innovator")
    rows = [_row(1, author), _row(2, author), _row(3, other)]
    job_id = _job_id(_upload(client, _csv(rows), "hackathon.csv"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0  # a preview tells no one
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    with app.test_request_context():  # the message in the reader's language: Vietnamese here
        told = {}
        for note in db.session.scalars(sa.select(Notification)):
            told[db.session.get(User, note.user_id).email] = (note.kind, note.link, notifications.text(note.kind,
                                                                                                        note.params))
        assert set(told) == {author, other}
        kind, link, message = told[author]
        assert kind == "ideas_imported" and link == "/mine"
        assert " 2 " in message and "hackathon.csv" in message and "Nhập" not in message


def test_a_day_excel_made_a_date_reads_as_it_was_typed(app):
    """Excel turns "29/11/2026" typed in a text column into a date cell: it comes back as typed."""
    from datetime import date, datetime

    from openpyxl import Workbook

    from services import tables
    book = Workbook()
    book.active.append(["Tiêu đề", "Từ khóa", "Nhóm"])
    book.active.append(["Hội chợ", date(2026, 11, 29), datetime(2026, 11, 29, 8, 30)])
    out = io.BytesIO()
    book.save(out)
    assert tables.read_table("x.xlsx", out.getvalue())[1] == [(2, ["Hội chợ", "29/11/2026", "29/11/2026 08:30"])]


def test_an_idea_names_its_author_as_the_file_does(app, client, staff, author):
    """A teacher's account enters the class's entries: each idea names its student, who is not the account."""
    headers = [*HEADERS, "Tác giả"]
    rows = [_row(1, author, **{"Tác giả": "Nguyễn  Thị Mai"}), _row(2, author, **{"Tác giả": ""})]
    job_id = _job_id(_upload(client, _csv(rows, headers)))
    page = client.get(f"/reports/import/{job_id}").get_data(as_text=True)
    assert "<td>Nguyễn Thị Mai</td>" in page and "Tác giả: Do hệ thống điền" not in page
    assert page.count('<td class="import-owner">Innovator Test &lt;') == 2
    client.post(f"/reports/import/{job_id}/confirm")
    assert _wait(app, job_id)["status"] == "done"
    from extensions import db
    from models import Idea
    with app.app_context():
        first, second = db.session.scalars(sa.select(Idea).order_by(Idea.id)).all()
        assert (first.author_name, second.author_name) == ("Nguyễn Thị Mai", None)
        ids = first.id, second.id
    assert "Nguyễn Thị Mai" in client.get(f"/ideas/{ids[0]}").get_data(as_text=True)
    assert "Innovator Test" in client.get(f"/ideas/{ids[1]}").get_data(as_text=True)  # the account's own name
    exported = _sheet_rows(client.get("/ideas/export.csv").data, "csv")
    column = exported[0].index("Tác giả")
    assert {r[column] for r in exported[1:]} == {"Nguyễn Thị Mai", "Innovator Test"}


def test_imported_ideas_alert_the_authors_of_the_needs_they_fit(app, client, staff, author, make_user, submit):
    """A hackathon's file is where most ideas come from: each imported idea is alerted for as a
    single publish is (services.alerts.match_alerts)."""
    from extensions import db
    from models import Notification
    from services import alerts
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, UNRELATED_IDEAS
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    need = submit("needs", business, **DRYER_NEED)
    for title, summary, sector in UNRELATED_IDEAS:  # a pool for the bands
        submit("ideas", make_user("innovator")[0], title=title, summary=summary, sector_codes=[sector])
    rows = [_row(1, author, **{"Tiêu đề": DRYER_IDEA["title"], "Tóm tắt": DRYER_IDEA["summary"],
                               "Mô tả": DRYER_IDEA["description"], "Loại": "research_proposal"})]
    job_id = _job_id(_upload(client, _csv(rows)))
    assert client.post(f"/reports/import/{job_id}/confirm").status_code == 302  # JOBS_SYNC: applied at once
    with app.app_context():
        links = list(db.session.scalars(sa.select(Notification.link).where(
            Notification.user_id == business, Notification.kind.in_(alerts.ALERT_KINDS))))
    assert len(links) == 1 and links[0].startswith(f"/needs/{need}#match-ideas-")
