"""The recipients' template and the file of rejected rows, as spreadsheet programs read them."""

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from beneficiaries.imports.columns import COLUMNS, ERROR_HEADER
from beneficiaries.imports.reader import read_table
from beneficiaries.imports.workbooks import (
    CHOICES_SHEET,
    GUIDE_SHEET,
    HEADER_ROW,
    LIST_SHEET,
    TEXT_ROWS,
    rejects_workbook,
    template_workbook,
)
from beneficiaries.models import Beneficiary
from reference.ethnic_groups import EthnicGroup

HEADERS = [column.vietnamese for column in COLUMNS]
KEYS = [column.key for column in COLUMNS]
# Spreadsheet letters of the columns that must stay text, and of those with a list.
TEXT_LETTERS = {"personal_id": "F", "social_insurance_number": "G", "phone": "H"}
TEXT_LETTERS["commune_code"] = "I"
LIST_LETTERS = {"sex": "D", "ethnic_group": "E", "category": "M"}


def calamine_rows(content: bytes, sheet: str = LIST_SHEET) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def choices(workbook, validation) -> list[str]:
    """Return the values a list validation offers, read from the cells it points at."""
    sheet_name, cells = validation.formula1.rsplit("!", 1)
    assert sheet_name == f"'{CHOICES_SHEET}'"
    return [row[0].value for row in workbook[CHOICES_SHEET][cells.replace("$", "")]]


@pytest.fixture(scope="module")
def template() -> bytes:
    return template_workbook()


def test_the_template_has_the_title_then_the_headers_in_the_columns_order(template):
    rows = calamine_rows(template)
    assert rows[0][0] == "DANH SÁCH NGƯỜI ĐƯỢC TẶNG THẺ BHYT, SỔ BHXH"
    assert rows[1][0].startswith("Xã/Phường")
    assert not any(rows[HEADER_ROW - 2])
    assert rows[HEADER_ROW - 1] == HEADERS


def test_the_importer_finds_the_templates_header_and_no_rows(template):
    table = read_table(template, "mau.xlsx")
    assert table.header_row == HEADER_ROW
    assert list(table.columns) == KEYS
    assert list(table.rows) == []


def test_the_list_comes_first_the_guide_next_and_the_choices_are_hidden(template):
    sheets = CalamineWorkbook.from_filelike(io.BytesIO(template)).sheets_metadata
    assert [sheet.name for sheet in sheets] == [LIST_SHEET, GUIDE_SHEET, CHOICES_SHEET]
    visible = [str(sheet.visible).rsplit(".", 1)[-1].lower() for sheet in sheets]
    assert visible == ["visible", "visible", "hidden"]


def test_the_header_is_bold_frozen_and_sized(template):
    sheet = load_workbook(io.BytesIO(template))[LIST_SHEET]
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert all(cell.font.bold for cell in sheet[HEADER_ROW])
    assert sheet.column_dimensions["B"].width == COLUMNS[1].width


def test_number_columns_are_text_for_the_rows_to_fill(template):
    sheet = load_workbook(io.BytesIO(template))[LIST_SHEET]
    for letter in TEXT_LETTERS.values():
        for row in [HEADER_ROW + 1, HEADER_ROW + TEXT_ROWS]:
            assert sheet[f"{letter}{row}"].number_format == "@", f"{letter}{row}"
    assert sheet[f"B{HEADER_ROW + 1}"].number_format == "General"


def test_sex_ethnic_group_and_category_offer_their_lists(template):
    workbook = load_workbook(io.BytesIO(template))
    validations = {
        str(validation.sqref): validation
        for validation in workbook[LIST_SHEET].data_validations.dataValidation
    }
    last = HEADER_ROW + TEXT_ROWS
    offered = {
        key: choices(workbook, validations[f"{letter}{HEADER_ROW + 1}:{letter}{last}"])
        for key, letter in LIST_LETTERS.items()
    }
    with translation.override("vi"):
        categories = [str(label) for label in Beneficiary.Category.labels]
    assert offered == {
        "sex": ["Nam", "Nữ"],
        "ethnic_group": list(EthnicGroup.labels),
        "category": categories,
    }
    assert len(offered["ethnic_group"]) == 54
    assert all(v.type == "list" and v.errorStyle == "warning" for v in validations.values())


def test_the_guide_explains_every_column_and_the_general_rules(template):
    rows = calamine_rows(template, GUIDE_SHEET)
    described = {row[0]: row for row in rows if row and row[0] in HEADERS}
    assert list(described) == HEADERS
    assert described["Họ và tên"][1].startswith("Bắt buộc")
    assert described["Ghi chú"][1].startswith("Không bắt buộc")
    assert "dd/mm/yyyy" in described["Ngày sinh"][2]
    assert "Full name" in described["Họ và tên"][3]
    text = "\n".join(str(cell) for row in rows for cell in row)
    for rule in ["10 dòng tiêu đề", "Up to 10 title rows", "5 chữ số", "keeps what is on record"]:
        assert rule in text


def test_rejected_rows_keep_the_layout_and_add_the_error_column():
    rows = [
        (
            {"full_name": "Lò Văn Tư", "birth": "31/02/1970", "personal_id": "001234567890"},
            "Ngày sinh: the date 31/02/1970 does not exist",
        ),
        ({"full_name": '=HYPERLINK("http://x")', "commune_code": "00070"}, "Giới tính: empty"),
    ]
    content = rejects_workbook(iter(rows))
    read = calamine_rows(content)
    assert read[HEADER_ROW - 1] == [*HEADERS, ERROR_HEADER]
    first, second = read[HEADER_ROW], read[HEADER_ROW + 1]
    assert dict(zip(KEYS, first, strict=False)) == {key: rows[0][0].get(key, "") for key in KEYS}
    assert first[-1] == rows[0][1]
    assert second[KEYS.index("full_name")] == '=HYPERLINK("http://x")'
    assert second[KEYS.index("commune_code")] == "00070"

    sheet = load_workbook(io.BytesIO(content))[LIST_SHEET]
    error_letter = "O"
    assert sheet[f"{error_letter}{HEADER_ROW}"].value == ERROR_HEADER
    assert sheet[f"{error_letter}{HEADER_ROW + 1}"].alignment.wrap_text
    name = sheet[f"B{HEADER_ROW + 2}"]
    assert name.data_type == "s"  # text, never a formula
    assert sheet[f"F{HEADER_ROW + 1}"].data_type == "s"
    assert sheet[f"F{HEADER_ROW + 1}"].number_format == "@"
    assert len(sheet.data_validations.dataValidation) == 3


def test_rejected_rows_beyond_the_preformatted_ones_still_get_the_lists():
    many = (
        ({"full_name": f"Người {n}", "sex": "X"}, "Giới tính: “X”") for n in range(TEXT_ROWS + 5)
    )
    sheet = load_workbook(io.BytesIO(rejects_workbook(many)))[LIST_SHEET]
    last = HEADER_ROW + TEXT_ROWS + 5
    assert sheet[f"B{last}"].value == f"Người {TEXT_ROWS + 4}"
    assert sheet[f"F{last}"].number_format == "@"
    ranges = {str(validation.sqref) for validation in sheet.data_validations.dataValidation}
    assert f"D{HEADER_ROW + 1}:D{last}" in ranges


def test_a_rejects_file_goes_back_to_the_importer_without_its_error_column():
    content = rejects_workbook([({"full_name": "Lò Văn Tư", "birth": "1970"}, "Giới tính: empty")])
    table = read_table(content, "loi.xlsx")
    assert table.ignored_headers == []
    [(row_number, cells)] = list(table.rows)
    assert row_number == HEADER_ROW + 1
    assert cells[table.columns["full_name"]] == "Lò Văn Tư"
