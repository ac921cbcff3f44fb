"""Spreadsheets as communes send them, built for the import tests."""

import io

from openpyxl import Workbook

from beneficiaries.imports.columns import COLUMNS

HEADERS = [column.vietnamese for column in COLUMNS]


def person(**cells) -> dict:
    """Return a valid row of Hợp Thành (02680, Lào Cai) by column key, with ``cells`` over it."""
    return {
        "full_name": "Lương Thị Trúc",
        "birth": "12/03/1970",
        "sex": "Nữ",
        "ethnic_group": "Mông",
        "commune_code": "02680",
        "village": "Thôn Cóc",
        "category": "hộ nghèo",
    } | cells


def xlsx(rows: list[dict], *, headers: list[str] = HEADERS, title_rows: list[list] = ()) -> bytes:
    """Return an XLSX file: title rows, a header row, then ``rows`` (cells as given: numbers,
    dates and text stay what they are, as Excel stores them)."""
    keys = [column.key for column in COLUMNS]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    for title in title_rows:
        sheet.append(title)
    sheet.append(headers)
    for number, row in enumerate(rows, start=1):
        sheet.append([number if key == "number" else row.get(key) for key in keys[: len(headers)]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict], *, bom: bool = True, separator: str = ",") -> bytes:
    keys = [column.key for column in COLUMNS]
    lines = [separator.join(HEADERS)]
    for number, row in enumerate(rows, start=1):
        cells = [str(number) if key == "number" else str(row.get(key) or "") for key in keys]
        lines.append(separator.join(cells))
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()
