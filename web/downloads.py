"""Tables as file downloads: every export and every report table goes out through here."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask import Response, send_file

from services import tables


def table_response(fmt: str, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """`name` is an ASCII file name without extension; `fmt` is "xlsx" or "csv"."""
    return _attachment(tables.write(fmt, headers, rows), name, fmt)


def workbook_response(name: str, sheets: Sequence[tables.Sheet]) -> Response:
    """Several tables as the sheets of one .xlsx; `name` as in table_response."""
    return _attachment(tables.to_workbook(sheets), name, "xlsx")


def _attachment(content: bytes, name: str, fmt: str) -> Response:
    return send_file(io.BytesIO(content), mimetype=tables.MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{name}.{fmt}", max_age=0)
