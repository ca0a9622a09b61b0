"""What hostile import files cost: seconds and peak memory until services.tables refuses them.

Each file is built in memory, then read by ``tables.read_records`` with the import's limits (the
same call the staff's upload makes); printed per file: its size, the answer (the TableError code),
the wall time and the peak of Python allocations (tracemalloc) while reading. Before these checks
(issue 12), the 1.6 KB file declaring A1:XFD4000 took 12.4 s and 1.0 GB, and the 1,000,000-row
file 113 s.

    python bench/hostile_imports.py
"""
from __future__ import annotations

import io
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from services import tables  # noqa: E402

SHEET = "xl/worksheets/sheet1.xml"
HEADERS = ["Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực"]
MAX_ROWS = 10_000


def _workbook(rows_xml, dimension: str | None = None, extra: dict | None = None) -> bytes:
    book = Workbook()
    book.active.append(HEADERS)
    base = io.BytesIO()
    book.save(base)
    source = zipfile.ZipFile(base)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info, source.read(info.filename))
        with target.open(SHEET, "w") as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for chunk in rows_xml:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _header() -> str:
    return "<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADERS) + "</row>"


def _rows(n: int):
    yield _header()
    for start in range(0, n, 10_000):
        yield "<row><c><v>1</v></c></row>" * min(10_000, n - start)


def cases() -> dict[str, tuple[str, bytes]]:
    csv_rows = ",".join(HEADERS) + "\n" + "x\n" * 1_000_000
    return {
        "declares A1:XFD4000": ("ideas.xlsx", _workbook([_header()], dimension="A1:XFD4000")),
        "1,000,000 rows, declared": ("ideas.xlsx", _workbook(_rows(1_000_000), dimension="A1:E1000001")),
        "1,000,000 rows, declares A1:E2": ("ideas.xlsx", _workbook(_rows(1_000_000), dimension="A1:E2")),
        "1,000,000 rows, no dimension": ("ideas.xlsx", _workbook(_rows(1_000_000))),
        "one cell in column XFD": ("ideas.xlsx", _workbook(
            [_header().replace("</row>", '<c r="XFD1"><v>1</v></c></row>')])),
        "65 MB of zeros inside": ("ideas.xlsx", _workbook([_header()], extra={"xl/media/pad.bin": b"\0" * 65 * 2**20})),
        "CSV of 1,000,000 rows": ("ideas.csv", csv_rows.encode()),
    }


def main() -> None:
    print(f"{'file':34} {'size':>10} {'answer':>18} {'seconds':>8} {'peak MB':>8}")
    for name, (filename, content) in cases().items():
        tracemalloc.start()
        started = time.perf_counter()
        try:
            tables.read_records(filename, content, lambda h: h, {}, MAX_ROWS)
            answer = "read"
        except tables.TableError as error:
            answer = error.code
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{name:34} {len(content):>10,} {answer:>18} {seconds:>8.2f} {peak:>8.1f}")


if __name__ == "__main__":
    main()
