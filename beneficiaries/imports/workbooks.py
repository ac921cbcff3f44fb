"""The recipients' workbooks that users fill in: the template and the file of rejected rows.

Both share one "Danh sách" sheet, so a rejected row is corrected where it
stands and the file is imported again.  The words in them belong to the file
format, not to the user interface: they are written here in Vietnamese with an
English line, not translated.  Normal (not write-only) openpyxl: write-only
files lack the dimension record, and some readers then return short rows.
"""

import io
from collections.abc import Iterable, Sequence

from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from reference.ethnic_groups import EthnicGroup

from ..models import Beneficiary
from .columns import (
    BIRTH,
    CATEGORY,
    COLUMNS,
    COMMUNE,
    COMMUNE_CODE,
    ERROR_HEADER,
    ETHNIC_GROUP,
    FULL_NAME,
    NOTE,
    NUMBER,
    PERSONAL_ID,
    PHONE,
    PROVINCE,
    SEX,
    SOCIAL_INSURANCE_NUMBER,
    VILLAGE,
)

LIST_SHEET = "Danh sách"
GUIDE_SHEET = "Hướng dẫn"
CHOICES_SHEET = "Danh mục"
TITLE = "DANH SÁCH NGƯỜI ĐƯỢC TẶNG THẺ BHYT, SỔ BHXH"
AREA_LINE = "Xã/Phường/Đặc khu: ........................   Tỉnh/Thành phố: ........................"
# Two title rows and a blank one, as official lists start: the importer skips them.
HEADER_ROW = 4
# Numbers that Excel would turn into numbers, dropping their leading zeros.
TEXT_KEYS = frozenset(
    column.key for column in (PERSONAL_ID, SOCIAL_INSURANCE_NUMBER, PHONE, COMMUNE_CODE)
)
# Rows of the template whose number cells are text before anything is typed.
TEXT_ROWS = 5000
SEXES = ("Nam", "Nữ")
ERROR_WIDTH = 60

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)

_REQUIRED = "Bắt buộc\nRequired"
_OPTIONAL = "Không bắt buộc\nOptional"
_COMMUNE_REQUIRED = (
    "Mã xã, hoặc tên xã kèm tỉnh\nThe commune code, or the commune's name with the province"
)
# What each column accepts: Vietnamese, then English.
_GUIDANCE = {
    NUMBER.key: (
        "Số thứ tự; không được đọc khi nhập.",
        "Running number; not read on import.",
    ),
    FULL_NAME.key: (
        "Họ và tên đầy đủ, có dấu, ví dụ Lương Thị Trúc.",
        "Full name with its diacritics, e.g. Lương Thị Trúc.",
    ),
    BIRTH.key: (
        "Ngày sinh dd/mm/yyyy (08/03/1975), hoặc chỉ năm sinh (1975) khi không biết ngày.",
        "Date of birth as dd/mm/yyyy (08/03/1975), or the year alone (1975).",
    ),
    SEX.key: ("Nam hoặc Nữ (chọn trong danh sách).", "Nam (male) or Nữ (female), from the list."),
    ETHNIC_GROUP.key: (
        "Một trong 54 dân tộc (chọn trong danh sách), ví dụ Mông, Dao, Tày.",
        "One of the 54 ethnic groups, from the list, e.g. Mông, Dao, Tày.",
    ),
    PERSONAL_ID.key: (
        "Số định danh cá nhân (CCCD) 12 chữ số, giữ cả số 0 ở đầu.",
        "Personal identification number: 12 digits, leading zeros included.",
    ),
    SOCIAL_INSURANCE_NUMBER.key: (
        "Mã số BHXH 10 chữ số, nếu có.",
        "Social-insurance number: 10 digits, if the person has one.",
    ),
    PHONE.key: ("Số điện thoại, ví dụ 0912345678.", "Phone number, e.g. 0912345678."),
    COMMUNE_CODE.key: (
        "Mã xã/phường/đặc khu 5 chữ số theo danh mục hiện hành, ví dụ 02680.",
        "5-digit code of the commune, ward or special zone in today's units, e.g. 02680.",
    ),
    COMMUNE.key: (
        "Tên xã/phường/đặc khu nơi người đó đang sống, ví dụ Xã Hợp Thành.",
        "Commune, ward or special zone where the person lives, e.g. Xã Hợp Thành.",
    ),
    PROVINCE.key: (
        "Tên tỉnh/thành phố; cần khi xã được ghi bằng tên, ví dụ Lào Cai.",
        "Province; needed when the commune is given by its name, e.g. Lào Cai.",
    ),
    VILLAGE.key: (
        "Thôn, bản, tổ dân phố, hoặc số nhà và đường phố.",
        "Village, residential group, or house number and street.",
    ),
    CATEGORY.key: (
        "Diện đối tượng (chọn trong danh sách).",
        "Hardship category, from the list.",
    ),
    NOTE.key: ("Ghi chú, nếu có.", "Any note."),
}
_RULES = (
    (
        "Ngày tháng ghi theo dạng dd/mm/yyyy, hoặc chỉ ghi năm sinh.",
        "Dates are written dd/mm/yyyy, or the year of birth alone.",
    ),
    (
        "Xã được nhận biết bằng mã 5 chữ số, hoặc bằng tên xã kèm tên tỉnh.",
        "A commune is given by its 5-digit code, or by its name together with the province.",
    ),
    (
        "Phía trên dòng tên cột được có tối đa 10 dòng tiêu đề.",
        "Up to 10 title rows may stand above the header row.",
    ),
    (
        "Với người đã có trong hệ thống, ô để trống giữ nguyên thông tin đã lưu.",
        "For a person already on record, an empty cell keeps what is on record.",
    ),
    (
        "Các cột số định danh, mã số BHXH, số điện thoại và mã xã được định dạng văn bản để giữ "
        "số 0 ở đầu; khi dán từ tệp khác, hãy dán giá trị (Paste Values).",
        "The personal ID, social-insurance number, phone and commune code columns are text, "
        "so that leading zeros stay; when pasting from another file, paste values only.",
    ),
    (
        "Tên cột có thể ghi bằng tiếng Việt hoặc tiếng Anh; mỗi người một dòng.",
        "Headers may be in Vietnamese or English; one person per row.",
    ),
)


def set_text(cell: Cell, value: object) -> None:
    """Write ``value`` as a text cell: "001..." stays text and "=..." never runs as a formula.

    Control characters, which XLSX cannot hold, are dropped.
    """
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    cell.data_type = "s"


def template_workbook() -> bytes:
    """Return the XLSX template that communes fill in: the list, the guide and the choices."""
    return _list_workbook((), with_errors=False)


def rejects_workbook(rows: Iterable[tuple[dict[str, str], str]]) -> bytes:
    """Return the rows an import refused, as typed, each with its error in a last column.

    ``rows`` are (cells keyed by column key, error) and may be many: they are
    written as they come.
    """
    return _list_workbook(
        ([*(cells.get(column.key) for column in COLUMNS), error] for cells, error in rows),
        with_errors=True,
    )


def _list_workbook(rows: Iterable[Sequence[object]], *, with_errors: bool) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = LIST_SHEET
    last_row = _write_list(sheet, rows, with_errors=with_errors)
    _write_guide(workbook.create_sheet(GUIDE_SHEET))
    _add_choices(workbook, sheet, last_row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_list(sheet: Worksheet, rows: Iterable[Sequence[object]], *, with_errors: bool) -> int:
    """Write the title, the header and ``rows``; return the last row the validations cover."""
    headers = [column.vietnamese for column in COLUMNS] + ([ERROR_HEADER] if with_errors else [])
    last_column = get_column_letter(len(headers))
    for row, text in [(1, TITLE), (2, AREA_LINE)]:
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font = Font(bold=True, size=14) if row == 1 else _BOLD
        cell.alignment = Alignment(horizontal="center")
        sheet.merge_cells(f"A{row}:{last_column}{row}")

    widths = [column.width for column in COLUMNS] + ([ERROR_WIDTH] if with_errors else [])
    for index, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index)
        set_text(cell, header)
        cell.font = _BOLD
        cell.alignment = _HEADER_ALIGNMENT
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"

    text_indexes = {i for i, column in enumerate(COLUMNS, start=1) if column.key in TEXT_KEYS}
    error_index = len(COLUMNS) + 1
    row = HEADER_ROW
    for row, values in enumerate(rows, start=HEADER_ROW + 1):
        for index, value in enumerate(values, start=1):
            empty = value is None or value == ""
            if empty and index not in text_indexes:
                continue  # a cell costs memory; empty number cells are made text though
            cell = sheet.cell(row=row, column=index)
            if not empty:
                set_text(cell, value)
            if index in text_indexes:
                cell.number_format = "@"  # so that a number typed over it stays text
            elif index == error_index:
                cell.alignment = _WRAP
    # Below the rows, empty number cells that are already text.
    for empty_row in range(row + 1, HEADER_ROW + TEXT_ROWS + 1):
        for index in text_indexes:
            sheet.cell(row=empty_row, column=index).number_format = "@"
    return max(row, HEADER_ROW + TEXT_ROWS)


def _add_choices(workbook: Workbook, sheet: Worksheet, last_row: int) -> None:
    """Offer drop-down lists of sexes, ethnic groups and categories, from a hidden sheet.

    Only a warning on other text: the importer also reads "Male", "Khmer" or "cận nghèo".
    """
    with translation.override("vi"):
        categories = [str(label) for label in Beneficiary.Category.labels]
    choices = workbook.create_sheet(CHOICES_SHEET)
    choices.sheet_state = "hidden"
    lists = [
        (SEX, list(SEXES)),
        (ETHNIC_GROUP, [str(label) for label in EthnicGroup.labels]),
        (CATEGORY, categories),
    ]
    keys = [column.key for column in COLUMNS]
    for list_index, (column, values) in enumerate(lists, start=1):
        letter = get_column_letter(list_index)
        set_text(choices.cell(row=1, column=list_index), column.vietnamese)
        for row, value in enumerate(values, start=2):
            set_text(choices.cell(row=row, column=list_index), value)
        choices.column_dimensions[letter].width = max(len(value) for value in values) + 2
        validation = DataValidation(
            type="list",
            formula1=f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=column.vietnamese,
            error="Chọn một giá trị trong danh sách.\nChoose a value from the list.",
        )
        target = get_column_letter(keys.index(column.key) + 1)
        validation.add(f"{target}{HEADER_ROW + 1}:{target}{last_row}")
        sheet.add_data_validation(validation)


def _write_guide(sheet: Worksheet) -> None:
    title = sheet.cell(row=1, column=1, value="HƯỚNG DẪN ĐIỀN DANH SÁCH / HOW TO FILL IN THE LIST")
    title.font = Font(bold=True, size=14)
    headers = [
        "Cột\nColumn",
        "Bắt buộc\nRequired",
        "Cách ghi\nWhat to write",
        "Tên cột khác cũng được nhận\nOther headers accepted",
    ]
    for index, (header, width) in enumerate(zip(headers, [24, 22, 70, 40], strict=True), start=1):
        cell = sheet.cell(row=3, column=index, value=header)
        cell.font = _BOLD
        cell.alignment = _HEADER_ALIGNMENT
        sheet.column_dimensions[get_column_letter(index)].width = width
    row = 3
    for column in COLUMNS:
        row += 1
        if column.key in (COMMUNE_CODE.key, COMMUNE.key):
            required = _COMMUNE_REQUIRED
        else:
            required = _REQUIRED if column.required else _OPTIONAL
        vietnamese, english = _GUIDANCE[column.key]
        values = [
            column.vietnamese,
            required,
            f"{vietnamese}\n{english}",
            ", ".join((column.english, *column.aliases)),
        ]
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=index)
            set_text(cell, value)
            cell.alignment = _WRAP
        sheet.cell(row=row, column=1).font = _BOLD

    row += 2
    sheet.cell(row=row, column=1, value="Quy tắc chung / General rules").font = _BOLD
    for vietnamese, english in _RULES:
        row += 1
        cell = sheet.cell(row=row, column=1)
        set_text(cell, f"{vietnamese}\n{english}")
        cell.alignment = _WRAP
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
        sheet.row_dimensions[row].height = 32
