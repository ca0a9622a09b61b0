"""Bulk import of ideas (e.g. a hackathon's entries) from .xlsx or .csv, for staff.

1. `preview()` reads the file, checks the columns, validates every row with the idea form's rules
   (given by the caller as `validate`), finds duplicates in the file and against existing ideas,
   and stores the result in an ImportJob with status "preview". No idea is written.
2. `confirm()` marks a preview that has no errors "queued" and queues `apply_import(job_id)` on
   the bulk queue (in a thread of the app process when the queue is down). The "queued" row is the
   durable record: should the queue lose the job, the worker's maintenance queues it again
   (`recover()`).
3. `apply_import()` writes every row in ONE transaction, committed once at the end together with
   the job's "done" status and the audit entry: on any error nothing is written and the job is
   "failed" with the reason. Progress (done_rows) is written on its own connection while the rows
   are prepared, before the transaction writes anything, so SQLite's single writer is never held.
   The job's row is versioned: of two runs of one job (a retry beside a slow first run), only one
   can commit its rows; the other's commit raises StaleDataError and writes nothing.
   The new ideas are embedded for matching after the commit; if that fails, the import stands.

Who owns an imported idea: the innovator account whose e-mail the row gives as the author's (told of
the import with its commit); else, for an author without an account, the staff member who imports
the file, who holds the idea for its author (`Idea.held_for_author`): its page and the exports name
the author as the file does, or the staff member when the file names no one.
"""
from __future__ import annotations

import json
import logging
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from extensions import db
from models import Idea, ImportJob, Place, Role, Sector, User
from models.people import canonical_email, utcnow
from services import audit, jobs, notifications, submissions, tables
from services.errors import ConflictError, ServiceError
from services.exports import IDEA_COLUMNS, IDEA_STAFF_COLUMNS
from services.labels import (
    AUTO_LANGUAGE,
    IDEA_KINDS,
    LANGUAGE_ENDONYMS,
    LANGUAGES,
    STAGES,
    VISIBILITIES,
    in_locale,
    label,
)
from services.submission_types import IDEA, engine_id

log = logging.getLogger(__name__)

# field -> (Vietnamese header, English header); the form's field names, plus the owner's e-mail.
COLUMNS: dict[str, tuple[str, str]] = {
    "title": (IDEA_COLUMNS["title"], "Title"),
    "kind": (IDEA_COLUMNS["kind"], "Kind"),
    "summary": (IDEA_COLUMNS["summary"], "Summary"),
    "description": (IDEA_COLUMNS["description"], "Description"),
    "sectors": (IDEA_COLUMNS["sectors"], "Sectors"),
    "owner_email": (IDEA_STAFF_COLUMNS["author_email"], "Author e-mail"),
    # The author's name as the file gives it: kept when it is not the account's own name.
    "author_name": (IDEA_COLUMNS["author"], "Author"),
    "keywords": (IDEA_COLUMNS["keywords"], "Keywords"),
    "stage": (IDEA_COLUMNS["stage"], "Stage"),
    "trl": (IDEA_COLUMNS["trl"], "TRL"),
    "place": (IDEA_COLUMNS["place"], "Commune or ward"),
    "language": (IDEA_COLUMNS["language"], "Language"),
    "team": (IDEA_COLUMNS["team"], "Team"),
    "organisation": (IDEA_COLUMNS["organisation"], "Organisation"),
    "event": (IDEA_COLUMNS["event"], "Event"),
    "visibility": (IDEA_STAFF_COLUMNS["visibility"], "Visibility"),
}
# The exports' columns that the system fills in: read past, with a note in the preview, so that an
# export imports as it is. The place's former district helps to tell apart two places of one name.
READ_ONLY: dict[str, tuple[str, ...]] = {
    "id": (IDEA_COLUMNS["id"], "ID"),
    "former_district": (IDEA_COLUMNS["former_district"], "Former district"),
    # with and without its zone: the exports before it was named
    "published_at": (IDEA_COLUMNS["published_at"], IDEA_COLUMNS["published_at"].split(" (")[0], "Published"),
    "status": (IDEA_STAFF_COLUMNS["status"], "Status"),
}
REQUIRED = ("title", "kind", "summary", "description", "sectors")
NOT_IN_FORM = ("owner_email", "author_name")  # columns about the author, not the idea form's fields
AUTHOR_NAME_MAX = 200  # Idea.author_name
MAX_ROWS = 10_000
PROGRESS_EVERY = 100
# The form's fields whose cells name a stored code, and the labels the pages name those codes by.
NAMED_CODES = {"kind": IDEA_KINDS, "stage": STAGES, "visibility": VISIBILITIES,
               "language": {**AUTO_LANGUAGE, **LANGUAGES}}
# Names people have written that the labels do not carry (any more): each language's name in itself,
# the stage word of the exports made before they used the pages' labels, and a short "tự động";
# so the files already made with them still import.
OTHER_NAMES = {"stage": {"Mẫu thử": "prototype"},
               "language": {"Tự động": "auto", **{name: code for code, name in LANGUAGE_ENDONYMS.items()}}}

# validate(values) -> (the form's data if valid, {field: [messages]})
Validator = Callable[[dict[str, Any]], tuple[dict[str, Any] | None, dict[str, list[str]]]]


class ImportFileError(ServiceError):
    """The file as a whole cannot be imported. `code`: a tables.TableError code, "columns" (params
    `missing` and `unknown`: lists of headers), "too_many_rows" (param `n`: the most rows a file may
    have) or "no_rows"."""


class ImportStateError(ServiceError):
    """A refused confirmation: "has_errors" or "not_yours" (a confirmed one raises ConflictError
    "not_preview")."""


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    message: str


def _key(text: str) -> str:
    """Names compared as people mean them: NFC, case and spacing ignored, a trailing '*' dropped."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().rstrip("*").split())


HEADER_FIELDS = {_key(name): field for field, names in {**READ_ONLY, **COLUMNS}.items() for name in (*names, field)}


def template_headers(locale: str = "vi") -> list[str]:
    """The headers of the template file, in Vietnamese or English; both are accepted."""
    return [names[1 if locale == "en" else 0] for names in COLUMNS.values()]


def template_table(locale: str = "vi") -> tuple[list[str], list[list[str]]]:
    """The template: headers and no rows (an example row would be imported by mistake)."""
    return template_headers(locale), []


# --- reading and checking ----------------------------------------------------------------

def read(filename: str, content: bytes) -> tables.Records:
    """The file's headers and rows as {field: text}, each with its spreadsheet row number, the cells
    filled down from merged ones and the hidden rows and columns left out (tables.read_records).
    Raises ImportFileError for a file that cannot be read or has missing or unknown columns."""
    try:
        return tables.read_records(filename, content, lambda h: HEADER_FIELDS.get(_key(h)),
                                   {f: COLUMNS[f][0] for f in REQUIRED}, MAX_ROWS)
    except tables.TableError as error:
        raise ImportFileError(error.code, **error.params) from error


def codes_by_name(group: str) -> dict[str, str]:
    """{name: code} for a field of NAMED_CODES, names as `_key` compares them: the pages' label of
    each code in Vietnamese and in English (the same Babel labels the pages and exports show), the
    OTHER_NAMES, and the code itself."""
    labels = NAMED_CODES[group]
    names: dict[str, str] = {}
    # Vietnamese last: should a word ever name one code in English and another in Vietnamese, the
    # Department's language decides.
    for locale in ("en", "vi"):
        names.update({_key(words): code for code, words in in_locale(labels, locale).items()})
    names.update({_key(name): code for name, code in OTHER_NAMES.get(group, {}).items()})
    names.update({_key(code): code for code in labels})
    return names


class _Lookups:
    """Codes for the names people type: kinds, stages, visibility, language, sectors, places (loaded
    once per file)."""

    def __init__(self):
        self.codes = {group: codes_by_name(group) for group in NAMED_CODES}
        self.sectors: dict[str, str] = {}
        for s in db.session.scalars(sa.select(Sector)):
            self.sectors.update({_key(s.code): s.code, _key(s.name_vi): s.code, _key(s.name_en): s.code})
        self.places: dict[str, str | None] = {}
        for p in db.session.scalars(sa.select(Place)):
            name = _key(p.name)
            # A name shared by two places is ambiguous: only its code or "name (former district)" will do.
            self.places[name] = None if name in self.places and self.places[name] != p.code else p.code
            self.places.update({_key(p.code): p.code, _key(p.label): p.code})

    def code(self, group: str, text: str) -> str:
        """The code `text` names; the text itself if it names none (the form then says it is not a choice)."""
        return self.codes[group].get(_key(text), text)

    def sector_codes(self, text: str) -> list[str]:
        parts = text.split(";") if ";" in text else text.replace("\n", ",").split(",")
        return [self.sectors.get(_key(p), p.strip()) for p in parts if p.strip()]

    def place_code(self, text: str) -> str:
        return self.places.get(_key(text)) or text


def _form_values(values: dict[str, str], lookups: _Lookups) -> dict[str, Any]:
    """The row as the idea form would receive it: names turned into codes, blanks left out."""
    out: dict[str, Any] = {f: v for f, v in values.items() if v and f in COLUMNS and f not in NOT_IN_FORM}
    for group in NAMED_CODES:
        if group in out:
            out[group] = lookups.code(group, out[group])
    if "sectors" in out:
        out["sectors"] = lookups.sector_codes(out["sectors"])
    if "place" in out:
        district = values.get("former_district")
        # An export names the place and its former district in two columns: together they tell
        # apart two communes of one name.
        out["place"] = (district and lookups.places.get(_key(f"{out['place']} ({district})"))) \
            or lookups.place_code(out["place"])
    return out


def title_key(title: str) -> str:
    return _key(title or "")


def _accounts(emails: set[str]) -> dict[str, User]:
    if not emails:
        return {}
    return {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(emails)))}


def _author_name(values: dict[str, str], owner: User) -> str | None:
    """The author's name as the file gives it, kept unless it is the owning account's own name."""
    name = " ".join(values.get("author_name", "").split())[:AUTHOR_NAME_MAX]
    return name if name and name != owner.full_name else None


def duplicate_key(owner_id: int, author_name: str | None, title: str) -> tuple[int, str, str]:
    """What makes two ideas the same: one owner, one named author (the staff member who imports
    holds the ideas of many authors), one title, as people compare them."""
    return owner_id, _key(author_name or ""), title_key(title)


def check_rows(rows: list[tuple[int, dict[str, str]]], headers: dict[str, str], importer: User,
               validate: Validator) -> tuple[list[dict], list[RowError]]:
    """Validate every row: the form's rules, the owner, duplicates in the file and in the database.
    A row whose author e-mail is an innovator account's is owned by that account; one without an
    e-mail, or whose e-mail no account has, by `importer` (an e-mail of an account of another role is
    an error). Returns the rows ready to apply ({row, owner_id, author_name, data, unknown_email})
    and every error found."""
    lookups = _Lookups()
    users = _accounts({canonical_email(v.get("owner_email", "")) for _, v in rows} - {""})
    ready, errors = [], []
    seen: dict[tuple[int, str, str], int] = {}
    owner_column = headers.get("owner_email", COLUMNS["owner_email"][0])
    for number, values in rows:
        data, field_errors = validate(_form_values(values, lookups))
        row_errors = [RowError(number, headers.get(f, f), m) for f, messages in field_errors.items() for m in messages]
        email = canonical_email(values["owner_email"]) if values.get("owner_email", "").strip() else ""
        account = users.get(email) if email else None
        owner = account or importer
        if account is not None and account.id != importer.id and account.role != Role.INNOVATOR.value:
            row_errors.append(RowError(number, owner_column, _("This account is not an innovator account.")))
        author_name = _author_name(values, owner)
        if not row_errors:
            key = duplicate_key(owner.id, author_name, values.get("title", ""))
            if key in seen:
                row_errors.append(RowError(number, headers["title"],
                                           _("Same title and author as row %(row)s.", row=seen[key])))
            else:
                seen[key] = number
        errors.extend(row_errors)
        if not row_errors:
            ready.append({"row": number, "owner_id": owner.id, "author_name": author_name, "data": data,
                          "unknown_email": email if email and account is None else None})
    existing = existing_duplicates({duplicate_key(r["owner_id"], r["author_name"], r["data"]["title"])
                                    for r in ready})
    duplicates = [r for r in ready if duplicate_key(r["owner_id"], r["author_name"], r["data"]["title"]) in existing]
    errors += [RowError(r["row"], headers["title"], _("This author already has an idea with this title."))
               for r in duplicates]
    ready = [r for r in ready if r not in duplicates]  # a row with an error is never among the ready ones
    errors.sort(key=lambda e: e.row)
    return ready, errors


def existing_duplicates(keys: set[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """The duplicate_key()s that already exist as ideas."""
    owners = {owner for owner, _author, _title in keys}
    if not owners:
        return set()
    found = db.session.execute(
        sa.select(Idea.owner_id, Idea.author_name, Idea.title).where(Idea.owner_id.in_(owners))).all()
    return {duplicate_key(*row) for row in found} & keys


def _notes(records: tables.Records, header_of: dict[str, str]) -> list[RowError]:
    """What the preview says of the file without refusing it: columns skipped (hidden in the file,
    or filled in by the system), rows hidden in the file, cells filled down from merged ones."""
    notes = [RowError(None, header, _("A hidden column in the file: it is not imported."))
             for header in records.hidden_columns]
    notes += [RowError(None, header, _("Filled in by the system: this column is not imported."))
              for field, header in header_of.items() if field in READ_ONLY]
    if records.hidden_rows:
        notes.append(RowError(None, "", ngettext(
            "Row %(rows)s is hidden in the file: it is not imported.",
            "Rows %(rows)s are hidden in the file: they are not imported.",
            len(records.hidden_rows), rows=", ".join(map(str, records.hidden_rows)))))
    notes += [RowError(cell.row, cell.header, _("A merged cell: the value of row %(row)s is used.", row=cell.from_row))
              for cell in records.filled if HEADER_FIELDS[_key(cell.header)] in COLUMNS]
    return notes


def preview(actor: User, filename: str, content: bytes, validate: Validator) -> ImportJob:
    """Check the whole file and keep the result as a job in "preview": no idea is written. `actor`
    (staff) owns the rows whose author has no account (see check_rows()). Raises ImportFileError
    when the file itself is unusable (then no job is kept either)."""
    records = read(filename, content)
    header_of = {HEADER_FIELDS[_key(h)]: h for h in records.headers}
    ready, errors = check_rows(records.rows, header_of, actor, validate)
    notes = _notes(records, header_of)
    job = ImportJob(created_by=actor, kind="ideas", filename=filename[:255], status="preview",
                    total_rows=len(records.rows), done_rows=0, error_count=len(errors),
                    rows_json=json.dumps(ready, ensure_ascii=False),
                    errors_json=json.dumps([e.__dict__ for e in errors], ensure_ascii=False),
                    notes_json=json.dumps([n.__dict__ for n in notes], ensure_ascii=False))
    db.session.add(job)
    db.session.commit()
    return job


def get(job_id: int) -> ImportJob | None:
    return db.session.get(ImportJob, job_id)


def errors_of(job: ImportJob) -> list[RowError]:
    return [RowError(**e) for e in json.loads(job.errors_json or "[]")]


def notes_of(job: ImportJob) -> list[RowError]:
    """What the preview says without refusing the file (a row of None: about the whole file)."""
    return [RowError(**n) for n in json.loads(job.notes_json or "[]")]


@dataclass(frozen=True)
class PreviewRow:
    """A row as it will be imported, in the words the idea's page will show: `author` is the name the
    page gives, `owner` the account that will own it ("name <e-mail>") and `owner_note` why (the
    author's account, told of the import; or the importer's, holding it for an author without one)."""

    row: int
    title: str
    kind: str
    stage: str
    sectors: str
    place: str
    event: str
    author: str
    owner: str
    owner_note: str


def preview_rows(job: ImportJob) -> list[PreviewRow]:
    """Every row of a preview that will be imported, in file order, named as the pages name things
    (none once the preview is confirmed)."""
    if job.status != "preview":
        return []
    rows = json.loads(job.rows_json or "[]")
    locale = str(get_locale())
    owners = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_({r["owner_id"] for r in rows})))}
    sectors = {s.code: s for s in db.session.scalars(sa.select(Sector))}
    places = {p.code: p for p in db.session.scalars(sa.select(Place))}
    out = []
    for r in rows:
        data = r["data"]
        place = places.get(data.get("place_code") or "")
        owner = owners.get(r["owner_id"])
        if owner is None:  # deleted since the preview: applying it fails and says so
            account, note = "", ""
        elif owner.id != job.created_by_id:
            account, note = f"{owner.full_name} <{owner.email}>", _("the author's account; told of the import")
        else:
            account = f"{owner.full_name} <{owner.email}>"
            note = (_("no account has %(email)s: you hold the idea for its author", email=r["unknown_email"])
                    if r.get("unknown_email") else _("no author's account: you hold the idea for its author"))
        out.append(PreviewRow(
            row=r["row"], title=data["title"], kind=label(IDEA_KINDS, data.get("kind")),
            stage=label(STAGES, data.get("stage")),
            sectors="; ".join(sectors[c].name(locale) if c in sectors else c for c in data.get("sector_codes") or []),
            place=place.label if place else "", event=data.get("event") or "",
            author=r.get("author_name") or (owner.full_name if owner else ""), owner=account, owner_note=note))
    return out


def rq_job_id(job_id: int) -> str:
    """The name of an import's job in the queue."""
    return f"import-{job_id}"


def confirm(job: ImportJob, actor: User) -> None:
    """Queue a preview for applying. Only its uploader confirms (the audit names them), and never
    while errors remain; a second confirmation of the same job (also at the same moment: its
    versioned UPDATE raises StaleDataError) is refused."""
    if job.created_by_id != actor.id:
        raise ImportStateError("not_yours")
    if job.error_count:
        raise ImportStateError("has_errors")
    if job.status != "preview":
        raise ConflictError("not_preview")
    job.status = "queued"
    db.session.commit()
    jobs.enqueue("apply_import", job.id, job_id=rq_job_id(job.id))


# A run that has not moved for this long died with its process (progress moves every 100 rows).
STALLED_AFTER = timedelta(minutes=10)


def recover() -> list[str]:
    """Queue again every import that the database says is waiting ("queued") or was cut off
    ("running" and unmoved for STALLED_AFTER) but that has no live job in the queue: the queue
    lost it (Redis restarted without its data) or the process running it died. Running one twice
    is harmless (see apply_import()). Returns the queue's ids of the jobs queued again."""
    from flask import current_app
    app = current_app._get_current_object()
    stalled = utcnow() - STALLED_AFTER
    pending = db.session.scalars(sa.select(ImportJob.id).where(sa.or_(
        ImportJob.status == "queued",
        sa.and_(ImportJob.status == "running", ImportJob.updated_at < stalled))).order_by(ImportJob.id)).all()
    db.session.rollback()  # no transaction held while talking to the queue
    again = []
    for job_id in pending:
        if not jobs.is_live(app, rq_job_id(job_id)):
            jobs.enqueue("apply_import", job_id, job_id=rq_job_id(job_id))
            again.append(rq_job_id(job_id))
    return again


# --- applying ----------------------------------------------------------------------------

def _progress(job_id: int, done: int) -> None:
    """On its own short transaction, so the job page sees it while the import is being prepared."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(done_rows=done, updated_at=utcnow()))


def apply_import(job_id: int) -> ImportJob:
    """Write a queued job's rows, all or nothing: the job task of services.jobs. A job found
    "running" was cut off by a crash before its single commit, so nothing of it is written and it
    is safe to run again (the job queue retries it). Two runs at once: both claim the job, and
    whichever commits last in the versioned row wins; the other's rows are rolled back."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in ("queued", "running"):
        return job
    job.status, job.done_rows, job.message = "running", 0, None
    try:
        db.session.commit()
    except StaleDataError:  # another run claimed it at the same moment: it does the work
        db.session.rollback()
        return db.session.get(ImportJob, job_id)
    rows = json.loads(job.rows_json)
    ideas: list[Idea] = []
    try:
        # the authors' innovator accounts, and the importer for the authors without one
        owners = {u.id: u for u in db.session.scalars(sa.select(User).where(
            User.id.in_({r["owner_id"] for r in rows}),
            sa.or_(User.role == Role.INNOVATOR.value, User.id == job.created_by_id)))}
        if len(owners) != len({r["owner_id"] for r in rows}):
            raise ValueError("an author's account is no longer an innovator account")
        if existing_duplicates({duplicate_key(r["owner_id"], r.get("author_name"), r["data"]["title"]) for r in rows}):
            raise ValueError("some ideas were created with the same titles since the preview")
        with db.session.no_autoflush:  # nothing reaches the database before the single flush below
            for done, row in enumerate(rows, start=1):
                idea = submissions.build(IDEA, owners[row["owner_id"]], row["data"], publish=True)
                idea.author_name = row.get("author_name")
                ideas.append(idea)
                if done % PROGRESS_EVERY == 0:
                    _progress(job.id, done)
        db.session.flush()
        audit.record(job.created_by, "import.apply", "import", job.id, None, {"rows": len(ideas)})
        _tell_authors(job, ideas)
        job.status, job.done_rows, job.finished_at = "done", len(ideas), utcnow()
        db.session.commit()
    except StaleDataError:  # another run claimed the job since: its rows count, not these
        db.session.rollback()
        log.warning("Import %s: another run of it took over; this one wrote nothing", job_id)
        return db.session.get(ImportJob, job_id)
    except Exception as exc:  # all or nothing: whatever went wrong, nothing stays written
        db.session.rollback()
        log.exception("Import %s failed", job_id)
        job = db.session.get(ImportJob, job_id)
        if job.status != "running":  # another run finished it meanwhile
            return job
        job.status, job.finished_at, job.message = "failed", utcnow(), str(exc)[:2000]
        try:
            db.session.commit()
        except StaleDataError:  # another run took over meanwhile: its outcome stands
            db.session.rollback()
        return job
    _embed(job, ideas)
    return job


def _tell_authors(job: ImportJob, ideas: list[Idea]) -> None:
    """Each author whose account now has imported ideas is told, once per import, with the import's
    commit (so a failed import tells no one)."""
    counts = Counter(idea.owner_id for idea in ideas)
    for owner in {idea.owner_id: idea.owner for idea in ideas}.values():
        if owner.id != job.created_by_id:
            notifications.notify(owner, "ideas_imported", {"name": job.created_by.full_name,
                                                           "count": counts[owner.id], "file": job.filename})


def _embed(job: ImportJob, ideas: list[Idea]) -> None:
    """Queue the new ideas' embedding on the bulk queue, in chunks: their texts first (so they are
    ranked as soon as possible; each chunk then queues its ideas' match alerts, as a single publish
    does: the authors of the needs and orders they fit are told), then their explanation texts.
    Pages never wait for it (a page ranks only what is embedded), and e-mail queued meanwhile goes
    out between chunks."""
    refs = [engine_id(idea) for idea in ideas]
    try:
        jobs.enqueue("embed", refs, False, True)
        jobs.enqueue("embed", refs, True)
    except Exception:  # the ideas are saved; `flask --app app reindex --missing` embeds them later
        db.session.rollback()
        log.exception("Import %s: embedding failed", job.id)
        job = db.session.get(ImportJob, job.id)
        job.message = "embedding_failed"
        db.session.commit()
