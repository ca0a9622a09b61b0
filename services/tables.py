"""Tables in and out: every export is written here (.xlsx and .csv), every upload is read here.

A table is a list of headers and a list of rows (sequences of plain values: str, int, float,
date, datetime, bool or None). CSV is UTF-8 with a byte-order mark, so that Excel opens
Vietnamese text correctly; spreadsheet formulas are never written (a cell that starts with "="
stays text), so an exported title cannot run as a formula on a colleague's computer: in a CSV
such a text gets a leading "'", which :func:`read_table` takes off again. Days and times are
written 29/11/2026 and 29/11/2026 22:42 (cells of dates in an .xlsx, shown so); an .xlsx sheet has
a frozen header row, an autofilter and columns sized to their content.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils.cell import get_column_letter, range_boundaries

from services.errors import ServiceError

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # send_file adds "; charset=utf-8" to text types
}
# A CSV cell that starts with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = b"\xef\xbb\xbf"
# What an uploaded table may cost: columns read per row, and the bytes an .xlsx may unpack to (its
# sheet and shared strings; a 4 MB upload of real text unpacks to a few tens of MB).
MAX_COLUMNS = 100
MAX_UNPACKED_BYTES = 64 * 2**20


class TableError(ServiceError):
    """An upload that cannot be read as a table: "format" (not .xlsx/.csv), "encoding" (a CSV that
    is not UTF-8), "unreadable", "empty", "too_large" (param `mb`: an .xlsx that unpacks to more),
    "too_many_columns" (param `n`), "too_many_rows" (param `n`); or, from :func:`read_records`,
    "columns" (params `missing` and `unknown`: lists of headers), "no_rows"."""


# --- writing ---------------------------------------------------------------------

def _cell_text(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a workbook: its name on the tab, a header row and the rows below it."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


# How days and times are shown in a workbook: the way a civil servant writes them (29/11/2026 22:42).
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# Column widths, in characters: wide enough for a date or a short word, never wider than a screen.
MIN_WIDTH, MAX_WIDTH = 8, 60
_WIDTH_SAMPLE = 1000  # rows looked at to size the columns
_SHEET_NAME_BAD = re.compile(r"[\\/*?:\[\]]")


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("29/11/2026 22:42")
    if isinstance(value, date):
        return len("29/11/2026")
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Each column's width: its longest header or value (among the first rows), within MIN/MAX_WIDTH."""
    widths = [_width(h) + 2 for h in headers]  # the filter's arrow sits beside the header
    for row in rows[:_WIDTH_SAMPLE]:
        for i, value in enumerate(row[:len(widths)]):
            widths[i] = max(widths[i], _width(value))
    return [min(max(w + 1, MIN_WIDTH), MAX_WIDTH) for w in widths]


def _sheet_names(titles: Iterable[str]) -> list[str]:
    """Tab names Excel accepts: at most 31 characters, none of \\ / * ? : [ ], no two alike."""
    names: list[str] = []
    for title in titles:
        name = " ".join(_SHEET_NAME_BAD.sub(" ", title).split())
        if len(name) > 31:  # cut between words, not inside one
            name = name[:32].rsplit(" ", 1)[0] if " " in name[:32] else name[:31]
        name = name or "Sheet"
        base, n = name, 2
        while name.casefold() in (x.casefold() for x in names):
            suffix = f" ({n})"
            name, n = base[:31 - len(suffix)] + suffix, n + 1
        names.append(name)
    return names


def to_workbook(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx of these sheets, each with a bold, frozen header row, an autofilter over its table and
    columns as wide as their content; strings are always stored as text, days and times as dates."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet, name in zip(sheets, _sheet_names(s.title for s in sheets)):
        ws = book.create_sheet(name)
        rows = [list(r) for r in sheet.rows]
        for i, width in enumerate(column_widths(sheet.headers, rows), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        if sheet.headers:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.headers))}{len(rows) + 1}"
        head = []
        for title in sheet.headers:
            cell = WriteOnlyCell(ws, value=_cell_text(str(title)))
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in rows:
            ws.append([_xlsx_cell(ws, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(ws, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=_cell_text(value))
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Dữ liệu") -> bytes:
    """One worksheet (see :func:`to_workbook`)."""
    return to_workbook([Sheet(sheet, headers, list(rows))])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Comma-separated, UTF-8 with a byte-order mark, CRLF line ends (what Excel expects)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return _BOM + out.getvalue().encode("utf-8")


def write(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The table in `fmt` ("xlsx" or "csv")."""
    return to_xlsx(headers, rows) if fmt == "xlsx" else to_csv(headers, rows)


# --- reading ---------------------------------------------------------------------

def _plain(value: Any) -> str:
    """A cell as the text a person typed: 3.0 -> "3", dates as 29/11/2026, NFC Unicode, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, datetime):
        value = value.strftime("%d/%m/%Y %H:%M")
    elif isinstance(value, date):
        value = value.strftime("%d/%m/%Y")  # as a Vietnamese spreadsheet shows it, and as it was typed
    return unicodedata.normalize("NFC", str(value)).strip()


def decode_csv(content: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else raises TableError("encoding")."""
    if content.startswith(_BOM):
        content = content[len(_BOM):]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TableError("encoding") from exc


def read_table(filename: str, content: bytes, max_rows: int | None = None,
               max_columns: int = MAX_COLUMNS) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The headers and the non-blank rows of an uploaded .xlsx or .csv file (see :func:`read_sheet`)."""
    table = read_sheet(filename, content, max_rows, max_columns)
    return table.headers, table.rows


@dataclass(frozen=True)
class ReadTable:
    """A table as read: its headers and non-blank rows (each with its row number), the cells filled
    down from merged ranges, and what was hidden in the sheet and so left out: the rows with content
    (their numbers) and the columns (their headers, or letters when they have none)."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    filled: list[FilledCell]
    hidden_rows: list[int] = field(default_factory=list)
    hidden_columns: list[str] = field(default_factory=list)


def read_sheet(filename: str, content: bytes, max_rows: int | None = None,
               max_columns: int = MAX_COLUMNS) -> ReadTable:
    """The headers and the non-blank rows of an uploaded .xlsx (the sheet people see when they open
    it, :func:`_data_sheet`) or .csv file, every cell as trimmed text; each row comes with its row
    number as a spreadsheet shows it (the header is row 1); and the cells that were filled down from
    a merged range above them. Rows and columns hidden in the sheet are left out (what people see is
    what is read; a merged value still fills down across them), and named in ``hidden_rows`` and
    ``hidden_columns``; a hidden header row is still the header.

    A file is checked before it is parsed and while it is read, so that what it costs is bounded by
    the limits, not by what it declares: an .xlsx whose parts unpack to more than
    :data:`MAX_UNPACKED_BYTES`, or that declares (``<dimension ref="A1:XFD4000">``) more than
    ``max_columns`` columns or more rows than a sheet of ``max_rows`` rows may have, is refused
    before a row is read; then rows are streamed and reading stops at the first row over the limits
    ("too_many_rows", "too_many_columns"). Blank rows count towards the sheet's rows (at most as
    many as the rows with content), not towards ``max_rows``."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    layout = SheetLayout()
    if ext == "csv":
        raw = _read_csv(decode_csv(content))
    elif ext == "xlsx":
        raw = _read_xlsx(content, max_rows, max_columns, layout)
    else:
        raise TableError("format")
    last_row = None if max_rows is None else 2 * max_rows + 1
    rows: list[list[str]] = []
    content_rows = 0
    for number, row in enumerate(raw, start=1):
        if last_row is not None and number > last_row:
            raise TableError("too_many_rows", n=max_rows)
        while row and (row[-1] is None or row[-1] == ""):
            row = row[:-1]
        if len(row) > max_columns:
            raise TableError("too_many_columns", n=max_columns)
        cells = [_plain(v) for v in row]
        content_rows += number > 1 and any(cells)
        if max_rows is not None and content_rows > max_rows:
            raise TableError("too_many_rows", n=max_rows)
        rows.append(cells)
    if not rows or not any(rows[0]):
        raise TableError("empty")
    filled = _fill_down(rows, layout.merged)
    headers = rows[0]
    while headers and not headers[-1]:
        headers.pop()
    shown = [c for c in range(1, len(headers) + 1) if c not in layout.hidden_columns]
    hidden_columns = [headers[c - 1] or get_column_letter(c) for c in range(1, len(headers) + 1)
                      if c in layout.hidden_columns]
    body, hidden_rows = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if number in layout.hidden_rows:
            hidden_rows.append(number)
        else:
            body.append((number, [row[c - 1] if c <= len(row) else "" for c in shown] + row[len(headers):]))
    filled = [FilledCell(f.row, f.column, f.from_row, headers[f.column - 1]) for f in filled
              if f.row > 1 and f.column <= len(headers) and f.row not in layout.hidden_rows
              and f.column not in layout.hidden_columns]
    return ReadTable([headers[c - 1] for c in shown], body, filled, hidden_rows, hidden_columns)


@dataclass(frozen=True)
class Records:
    """A table read as records: the headers, each row as {field: text} with its row number, and what
    :class:`ReadTable` says besides (cells filled down, hidden rows and columns left out)."""

    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]
    filled: list[FilledCell]
    hidden_rows: list[int]
    hidden_columns: list[str]


def read_records(filename: str, content: bytes, field_of: Callable[[str], str | None],
                 required: Mapping[str, str], max_rows: int) -> Records:
    """The headers and the rows of an uploaded table as {field: text}, each with its spreadsheet row
    number (:func:`read_sheet`: hidden rows and columns left out, merged cells filled down).
    ``field_of`` names the field a header stands for (None: an unknown column); ``required``: field
    -> the header to name when it is missing. Raises TableError (see there) for a file that cannot be
    read, has missing or unknown columns, more than ``max_rows`` rows, or none."""
    table = read_sheet(filename, content, max_rows)
    headers, body = table.headers, table.rows
    fields = [field_of(h) for h in headers]
    unknown = [h or f"#{i + 1}" for i, (h, f) in enumerate(zip(headers, fields)) if f is None]
    missing = [header for f, header in required.items() if f not in fields]
    if unknown or missing:
        raise TableError("columns", missing=missing, unknown=unknown)
    if not body:
        raise TableError("no_rows")
    rows = [(number, {f: (cells[i] if i < len(cells) else "") for i, f in enumerate(fields)})
            for number, cells in body]
    return Records(headers, rows, table.filled, table.hidden_rows, table.hidden_columns)


def _unguarded(cell: str) -> str:
    """A CSV cell without the "'" that :func:`to_csv` puts before a text that starts like a formula
    ("'-20% chi phí" -> "-20% chi phí"), so an export imports as it was."""
    return cell[1:] if cell.startswith("'") and cell[1:2] and cell[1] in _FORMULA_START else cell


def _read_csv(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line[:10_000], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [_unguarded(cell) for cell in row]
    except csv.Error as exc:
        raise TableError("unreadable") from exc


def _check_archive(content: bytes, max_rows: int | None, max_columns: int) -> None:
    """Refuse an .xlsx before openpyxl reads it: parts that would unpack to more than
    MAX_UNPACKED_BYTES (a "zip bomb"; zipfile never unpacks a part beyond the size its directory
    declares), or a worksheet over the limits (see :func:`_check_sheet`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise TableError("too_large", mb=MAX_UNPACKED_BYTES // 2**20)
            for info in archive.infolist():
                if info.filename.endswith(".xml"):
                    with archive.open(info) as part:
                        _check_sheet(part, max_rows, max_columns)
    except (zipfile.BadZipFile, ElementTree.ParseError, ValueError, OSError, EOFError) as exc:
        raise TableError("unreadable") from exc


def _check_sheet(part, max_rows: int | None, max_columns: int) -> None:
    """A worksheet's declared dimension (``<dimension ref="A1:XFD4000">``) within the limits; for a
    worksheet that declares none, its rows counted as they stream by. openpyxl itself parses a
    whole sheet that lacks a dimension just to size it (a million rows: half a minute, 80 MB), so
    such a sheet reaches it only once it is known to be small. Parts that are not worksheets are
    left after their first tag."""
    last_row = None if max_rows is None else 2 * max_rows + 1
    rows = 0
    events = ElementTree.iterparse(part, events=("start", "end"))
    _, root = next(events)
    if root.tag.rpartition("}")[2] != "worksheet":
        return
    for event, element in events:
        name = element.tag.rpartition("}")[2]
        if event == "end" and name == "dimension":
            _min_col, _min_row, max_col, max_row = range_boundaries(element.get("ref", "A1").split(":")[-1])
            if max_col is not None and max_col > max_columns:
                raise TableError("too_many_columns", n=max_columns)
            if last_row is not None and max_row is not None and max_row > last_row:
                raise TableError("too_many_rows", n=max_rows)
            return  # openpyxl reads the dimension and no further; the rows are counted as they are read
        if event == "end" and name == "row":
            rows += 1
            if last_row is not None and rows > last_row:
                raise TableError("too_many_rows", n=max_rows)
            element.clear()
        elif event == "end" and name == "sheetData":
            return


# Merged ranges read from a sheet at most: a form has a few dozen; more is not a table people typed.
MAX_MERGED = 10_000


@dataclass(frozen=True)
class FilledCell:
    """A cell of a merged range that was given its range's value: row and column (1-based) as the
    spreadsheet shows them, the row the value comes from, and the column's header."""

    row: int
    column: int
    from_row: int
    header: str = ""


@dataclass
class SheetLayout:
    """What a sheet's XML says beside its values: merged ranges over more than one row
    ((min_col, min_row, max_col, max_row)), and the rows and columns (1-based) hidden in it."""

    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)


def _data_sheet(book):
    """The sheet people see when they open the file: the active one, unless it is hidden (then the
    first visible one). A hidden sheet (instructions, lists for drop-downs) is never read."""
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    if not visible:
        raise TableError("empty")
    active = book.active
    return active if active in visible else visible[0]


def _hidden(element) -> bool:
    return element.get("hidden", "").lower() in ("1", "true")


def _sheet_layout(ws, max_columns: int) -> SheetLayout:
    """The sheet's merged ranges and hidden rows and columns, read from its XML as it streams by:
    openpyxl's read-only mode reads neither (its worksheet has no ``row_dimensions``,
    ``column_dimensions`` or ``merged_cells``). A column range (``<col min="2" max="16384">``) counts
    only up to ``max_columns``: no more are read."""
    layout = SheetLayout()
    ranges = []
    row_number = 0
    with ws._get_source() as source:
        for _event, element in ElementTree.iterparse(source):
            name = element.tag.rpartition("}")[2]
            if name == "row":
                # "r" may be left out: then the row follows the one before (as openpyxl reads it)
                row_number = int(element.get("r") or row_number + 1)
                if _hidden(element):
                    layout.hidden_rows.add(row_number)
                element.clear()
            elif name == "col" and _hidden(element):
                first, last = int(element.get("min", "0")), int(element.get("max", "0"))
                layout.hidden_columns.update(range(max(first, 1), min(last, max_columns) + 1))
            elif name == "mergeCell":
                ranges.append(range_boundaries(element.get("ref", "")))
                if len(ranges) > MAX_MERGED:
                    raise TableError("unreadable")
                element.clear()
    # only ranges over more than one row matter
    layout.merged = [r for r in ranges if None not in r and r[3] > r[1]]
    return layout


def _fill_down(rows: list[list[str]], ranges: list[tuple[int, int, int, int]]) -> list[FilledCell]:
    """Copy each merged range's value (a spreadsheet keeps it only in the range's first row) down into
    the rows it covers that hold something else; `rows` are the sheet's rows from row 1, changed in
    place. Returns the cells filled."""
    filled = []
    for min_col, min_row, max_col, max_row in ranges:
        top = rows[min_row - 1] if min_row <= len(rows) else []
        for number in range(min_row + 1, min(max_row, len(rows)) + 1):
            row = rows[number - 1]
            if not any(row):
                continue
            for column in range(min_col, max_col + 1):
                value = top[column - 1] if column <= len(top) else ""
                if not value or (column <= len(row) and row[column - 1]):
                    continue
                row.extend([""] * (column - len(row)))
                row[column - 1] = value
                filled.append(FilledCell(number, column, min_row))
    return sorted(filled, key=lambda f: (f.row, f.column))


def _read_xlsx(content: bytes, max_rows: int | None, max_columns: int,
               layout: SheetLayout) -> Iterator[list[Any]]:
    """The rows of the sheet people see (:func:`_data_sheet`), streamed (openpyxl's read-only mode);
    once they are all read (so only a sheet within the limits is read twice), its merged ranges and
    hidden rows and columns are put in `layout` (:func:`_sheet_layout`). The declared dimension is checked
    (:func:`_check_archive`), then ignored (a WPS file that declares "A1" is read whole): a row is
    padded only up to its own last cell, so a cell far to the right costs one row's padding before
    read_table refuses it, and a declared size costs nothing."""
    _check_archive(content, max_rows, max_columns)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors on a bad file
        raise TableError("unreadable") from exc
    try:
        ws = _data_sheet(book)
        ws.reset_dimensions()
        try:
            for row in ws.iter_rows(values_only=True):
                yield list(row)
            found = _sheet_layout(ws, max_columns)
            layout.merged, layout.hidden_rows, layout.hidden_columns = \
                found.merged, found.hidden_rows, found.hidden_columns
        except TableError:
            raise
        except Exception as exc:  # a sheet that breaks off, or XML that is not a sheet
            raise TableError("unreadable") from exc
    finally:
        book.close()
