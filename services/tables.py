"""Tables in and out: every export is written here (.xlsx and .csv), every upload is read here.

A table is a list of headers and a list of rows (sequences of plain values: str, int, float,
date, datetime, bool or None). CSV is UTF-8 with a byte-order mark, so that Excel opens
Vietnamese text correctly; spreadsheet formulas are never written (a cell that starts with "="
stays text), so an exported title cannot run as a formula on a colleague's computer.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from services.errors import ServiceError

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# A CSV cell that starts with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = b"\xef\xbb\xbf"


class TableError(ServiceError):
    """An upload that cannot be read as a table: "format" (not .xlsx/.csv), "encoding" (a CSV that
    is not UTF-8), "unreadable", "empty"; or, from :func:`read_records`, "columns" (params
    `missing` and `unknown`: lists of headers), "too_many_rows" (param `n`), "no_rows"."""


# --- writing ---------------------------------------------------------------------

def _cell_text(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Dữ liệu") -> bytes:
    """One worksheet: a bold header row, then the rows; strings are always stored as text."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    bold = Font(bold=True)
    head = []
    for title in headers:
        cell = WriteOnlyCell(ws, value=_cell_text(str(title)))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=_cell_text(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
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
    """A cell as the text a person typed: 3.0 -> "3", dates as ISO, NFC Unicode, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def decode_csv(content: bytes) -> str:
    """UTF-8 with or without a byte-order mark; anything else raises TableError("encoding")."""
    if content.startswith(_BOM):
        content = content[len(_BOM):]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TableError("encoding") from exc


def read_table(filename: str, content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The headers and the non-blank rows of an uploaded .xlsx (first sheet) or .csv file, every
    cell as trimmed text; each row comes with its row number as a spreadsheet shows it (the header
    is row 1)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "csv":
        raw = _read_csv(decode_csv(content))
    elif ext == "xlsx":
        raw = _read_xlsx(content)
    else:
        raise TableError("format")
    rows = [[_plain(v) for v in row] for row in raw]
    if not rows or not any(rows[0]):
        raise TableError("empty")
    headers = rows[0]
    while headers and not headers[-1]:
        headers.pop()
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(row)]
    return headers, body


def read_records(filename: str, content: bytes, field_of: Callable[[str], str | None],
                 required: Mapping[str, str], max_rows: int) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The headers and the rows of an uploaded table as {field: text}, each with its spreadsheet row
    number. ``field_of`` names the field a header stands for (None: an unknown column);
    ``required``: field -> the header to name when it is missing. Raises TableError (see there)
    for a file that cannot be read, has missing or unknown columns, more than ``max_rows`` rows,
    or none."""
    headers, body = read_table(filename, content)
    fields = [field_of(h) for h in headers]
    unknown = [h or f"#{i + 1}" for i, (h, f) in enumerate(zip(headers, fields)) if f is None]
    missing = [header for f, header in required.items() if f not in fields]
    if unknown or missing:
        raise TableError("columns", missing=missing, unknown=unknown)
    if len(body) > max_rows:
        raise TableError("too_many_rows", n=max_rows)
    if not body:
        raise TableError("no_rows")
    return headers, [(number, {f: (cells[i] if i < len(cells) else "") for i, f in enumerate(fields)})
                     for number, cells in body]


def _read_csv(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise TableError("unreadable") from exc


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors on a bad file
        raise TableError("unreadable") from exc
    try:
        ws = book.worksheets[0]
        return [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()

