"""Import files shaped like the ones people send, built with openpyxl (and, where a tool writes what
openpyxl would not, by editing the written XML): each function returns the bytes of an .xlsx.

- ``instructions_first``: a hidden "Hướng dẫn" (instructions) sheet first, the entries on the
  active sheet after it (how a Department template is usually made);
- ``declared_a1``: a sheet that declares its size as ``A1`` (WPS Office and some exporters do), so
  a reader trusting the declaration sees one cell;
- ``merged_event``: the "Cuộc thi/hackathon" cell merged over the two rows of one event's entries;
- ``pages_words``: every choice column in the words the pages show, in Vietnamese and English;
- ``hidden_rows``: entries hidden in Excel (rows 3 and 5: one by hand, one by the autofilter's choice),
  which the people who send the file do not see;
- ``hidden_columns``: an internal notes column (B, a header the import does not know) and the stage
  column (H) hidden, beside a merged event cell (I2:I3) to the right of them.
"""
from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook

HEADERS = ["Tiêu đề", "Loại", "Tóm tắt", "Mô tả", "Lĩnh vực", "E-mail tác giả", "Giai đoạn", "Cuộc thi/hackathon"]
HIDDEN_TEXT = "Chỉ dành cho cán bộ: không nhập trang này"


def _entry(n: int, email: str, **over) -> list:
    row = {"Tiêu đề": f"Ý tưởng số {n} về sấy quế", "Loại": "Ý tưởng khởi nghiệp", "Tóm tắt": "Tóm tắt ngắn gọn.",
           "Mô tả": "Mô tả chi tiết giải pháp sấy quế.", "Lĩnh vực": "Nông nghiệp đặc sản vùng cao",
           "E-mail tác giả": email, "Giai đoạn": "Ý tưởng", "Cuộc thi/hackathon": ""}
    row.update(over)
    return [row[h] for h in HEADERS]


def _save(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def instructions_first(email: str) -> bytes:
    book = Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    guide.append(["Cột", "Cách điền"])  # headers that are not the import's: read, they would be refused
    guide.append([HIDDEN_TEXT, "…"])
    guide.sheet_state = "hidden"
    data = book.create_sheet("Danh sách")
    data.append(HEADERS)
    data.append(_entry(1, email))
    data.append(_entry(2, email))
    book.active = 1
    return _save(book)


def declared_a1(email: str) -> bytes:
    book = Workbook()
    book.active.append(HEADERS)
    for n in range(1, 4):
        book.active.append(_entry(n, email))
    content = _save(book)
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', data)
                assert n == 1
            target.writestr(info, data)
    return out.getvalue()


def merged_event(email: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    ws.append(_entry(1, email, **{"Cuộc thi/hackathon": "Hackathon Lào Cai 2026"}))
    ws.append(_entry(2, email))
    ws.append(_entry(3, email, **{"Cuộc thi/hackathon": "Ngày hội STEM Bảo Thắng"}))
    ws.merge_cells("H2:H3")
    return _save(book)


def pages_words(email: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append([*HEADERS, "Ai được xem", "Ngôn ngữ"])
    ws.append([*_entry(1, email, **{"Loại": "Dự án hackathon", "Giai đoạn": "Sản phẩm mẫu"}),
               "Chỉ thành viên đã đăng nhập", "Tiếng Việt"])
    ws.append([*_entry(2, email, **{"Loại": "Hackathon project", "Giai đoạn": "Prototype",
                                    "Lĩnh vực": "Highland agriculture & specialty crops"}), "Everyone", "Vietnamese"])
    return _save(book)


def hidden_rows(email: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for n in range(1, 5):
        ws.append(_entry(n, email))
    ws.auto_filter.ref = f"A1:H{ws.max_row}"
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[5].hidden = True
    return _save(book)


def hidden_columns(email: str) -> bytes:
    book = Workbook()
    ws = book.active
    headers = [HEADERS[0], "Ghi chú nội bộ", *HEADERS[1:]]
    ws.append(headers)
    notes = ["Đã gọi điện, chờ hồ sơ", "Trùng với năm ngoái?"]
    for n, note in enumerate(notes, start=1):
        entry = _entry(n, email, **{"Giai đoạn": "Sản phẩm mẫu", "Cuộc thi/hackathon": "Hackathon Lào Cai 2026"
                                    if n == 1 else ""})
        ws.append([entry[0], note, *entry[1:]])
    ws.column_dimensions["B"].hidden = True
    ws.column_dimensions["H"].hidden = True
    ws.merge_cells("I2:I3")
    return _save(book)
