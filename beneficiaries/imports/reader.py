"""Reading a recipients' spreadsheet: find the header row below any title rows, then the rows.

Workbooks (XLSX, XLS, ODS) are read with python-calamine, about ten times
faster than openpyxl on a 100,000-row file; CSV with the csv module.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from .cells import is_blank, text_of
from .columns import BY_KEY, COMMUNE, COMMUNE_CODE, ERROR_HEADER, column_for_header

# Official lists start with a letterhead and a title.
MAX_TITLE_ROWS = 10
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
SUFFIXES = WORKBOOK_SUFFIXES | CSV_SUFFIXES
# "(1)", "1" ... under the header: the columns' numbers, as official forms print them.
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


class FileError(ValidationError):
    """The file as a whole cannot be read: nothing in it is imported."""


@dataclass
class Table:
    # Column key -> index of the cell in each row.
    columns: dict[str, int]
    # Spreadsheet number of the header row (1 = the first row).
    header_row: int
    # (spreadsheet row number, cells) for every row below the header that is not blank.
    rows: Iterator[tuple[int, list]]
    # Headers the file has that no column of the template has: shown, not read.
    ignored_headers: list[str] = field(default_factory=list)
    # Rows below the header, blank ones included: for the progress bar.
    height: int = 0


def _sheets(content: bytes, suffix: str) -> Iterator[tuple[Iterator[list], int]]:
    """Yield (rows, number of rows) for each visible sheet, or for the CSV."""
    if suffix in CSV_SUFFIXES:
        try:
            # PostgreSQL text holds no NUL: a stray one (workbooks cannot have any) is dropped.
            text = content.decode("utf-8-sig").replace("\x00", "")
        except UnicodeDecodeError:
            raise FileError(
                _("The CSV file is not in UTF-8. In Excel, save it as “CSV UTF-8”.")
            ) from None
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        yield csv.reader(io.StringIO(text, newline=""), dialect), text.count("\n") + 1
        return
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except (CalamineError, ValueError, OSError) as error:
        raise FileError(
            _("The file could not be read as a spreadsheet (%(reason)s).") % {"reason": error}
        ) from None
    for metadata in workbook.sheets_metadata:
        if str(metadata.visible).rsplit(".", 1)[-1].lower() != "visible":
            continue
        sheet = workbook.get_sheet_by_name(metadata.name)
        # to_python keeps the empty rows above the data, so row i is spreadsheet row i + 1.
        rows = sheet.to_python(skip_empty_area=False)
        yield iter(rows), len(rows)


def _header(cells: list) -> tuple[dict[str, int], list[str]] | None:
    """Return (column key -> index, unknown headers) when ``cells`` is the header row."""
    columns: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(cells):
        if is_blank(cell):
            continue
        text = text_of(cell)
        column = column_for_header(text)
        if column is None:
            if text != ERROR_HEADER:
                unknown.append(text)
        elif column.key in columns:
            raise FileError(_("Two columns are headed “%(header)s”: keep one.") % {"header": text})
        else:
            columns[column.key] = index
    # A title row may contain a word such as "Xã"; a header row names the person.
    if "full_name" in columns and len(columns) >= 3:
        return columns, unknown
    return None


def _is_column_numbers(cells: list) -> bool:
    filled = [text_of(cell) for cell in cells if not is_blank(cell)]
    return len(filled) >= 3 and all(_COLUMN_NUMBER.match(text) for text in filled)


def _data_rows(rows: Iterator[list], header_row: int) -> Iterator[tuple[int, list]]:
    number = header_row
    for cells in rows:
        number += 1
        if all(is_blank(cell) for cell in cells):
            continue
        if number == header_row + 1 and _is_column_numbers(cells):
            continue
        yield number, cells


def require_spreadsheet(content: bytes, file_name: str) -> None:
    """Refuse, before reading it, a file that cannot be a list of recipients."""
    if PurePath(file_name).suffix.lower() not in SUFFIXES:
        raise FileError(
            _("“%(name)s” is not a spreadsheet: upload an XLSX, XLS or CSV file.")
            % {"name": file_name}
        )
    if not content:
        raise FileError(_("The file is empty."))


def read_table(content: bytes, file_name: str) -> Table:
    """Return the table of recipients in a file; raise FileError when there is none."""
    require_spreadsheet(content, file_name)
    suffix = PurePath(file_name).suffix.lower()
    for rows, height in _sheets(content, suffix):
        for number, cells in enumerate(rows, start=1):
            if number > MAX_TITLE_ROWS + 1:
                break
            found = _header(cells)
            if found is None:
                continue
            columns, unknown = found
            _require_columns(columns)
            return Table(
                columns=columns,
                header_row=number,
                rows=_data_rows(rows, number),
                ignored_headers=unknown,
                height=height - number,
            )
    raise FileError(
        _(
            "No header row was found in the first %(count)d rows. The header row names the "
            "columns, e.g. “Họ và tên”, “Ngày sinh”, “Giới tính”: download the template."
        )
        % {"count": MAX_TITLE_ROWS + 1}
    )


def _require_columns(columns: dict[str, int]) -> None:
    missing = [
        column.vietnamese
        for key, column in BY_KEY.items()
        if column.required and key not in columns
    ]
    if COMMUNE_CODE.key not in columns and COMMUNE.key not in columns:
        missing.append(f"{COMMUNE_CODE.vietnamese} / {COMMUNE.vietnamese}")
    if missing:
        raise FileError(
            _("The file has no column %(columns)s.")
            % {"columns": get_text_list([f"“{name}”" for name in missing], _("and"))}
        )
