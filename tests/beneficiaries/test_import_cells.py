import datetime
import unicodedata

import pytest
from django.core.exceptions import ValidationError

from beneficiaries.imports.cells import (
    is_blank,
    parse_birth,
    parse_category,
    parse_commune_code,
    parse_ethnic_group,
    parse_full_name,
    parse_personal_id,
    parse_phone,
    parse_sex,
    parse_social_insurance_number,
    parse_text,
    text_of,
)
from beneficiaries.models import Beneficiary
from reference.ethnic_groups import EthnicGroup

TODAY = datetime.date(2025, 8, 15)
# Cells a spreadsheet never holds in these columns.
TIME = datetime.time(10, 30)
DURATION = datetime.timedelta(hours=3)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def message_of(parse, cell, **options) -> str:
    with pytest.raises(ValidationError) as error:
        parse(cell, **options)
    [message] = error.value.messages
    return message


@pytest.mark.parametrize("cell", [None, "", "   ", "\xa0\t"])
def test_empty_cells_are_blank(cell):
    assert is_blank(cell)


@pytest.mark.parametrize("cell", ["x", " 0 ", 0, 0.0, False, datetime.date(1970, 5, 2)])
def test_cells_with_a_value_are_not_blank(cell):
    assert not is_blank(cell)


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, ""),
        ("  Lương Thị Trúc ", "Lương Thị Trúc"),
        (1970, "1970"),
        (1970.0, "1970"),
        (123456789012.0, "123456789012"),
        (1.2345678901e11, "123456789010"),
        (1.5, "1.5"),
        (True, "TRUE"),
        (datetime.date(1970, 5, 2), "02/05/1970"),
        (datetime.datetime(1970, 5, 2), "02/05/1970"),
        (datetime.datetime(1970, 5, 2, 14, 5), "02/05/1970 14:05"),
        (TIME, "10:30:00"),
    ],
)
def test_text_of_gives_the_cell_as_the_user_reads_it(cell, text):
    assert text_of(cell) == text


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("LƯƠNG THỊ TRÚC", "Lương Thị Trúc"),
        ("lương thị trúc", "Lương Thị Trúc"),
        ("  Lương   Thị\tTrúc ", "Lương Thị Trúc"),
        (nfd("LƯƠNG THỊ TRÚC"), "Lương Thị Trúc"),
        (nfd("Lương Thị Trúc"), "Lương Thị Trúc"),
        ("ĐỖ THỊ Ý", "Đỗ Thị Ý"),
        ("H'HEN NIÊ", "H'Hen Niê"),
        # Mixed case is the person's own spelling.
        ("Lương thị Trúc", "Lương thị Trúc"),
        ("Y-Moan Enuôl", "Y-Moan Enuôl"),
    ],
)
def test_a_name_is_stored_in_nfc_and_capitals_are_restored(cell, name):
    parsed = parse_full_name(cell)
    assert parsed == name
    assert unicodedata.is_normalized("NFC", parsed)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (None, "enter the person's full name"),
        ("   ", "enter the person's full name"),
        ("123", "“123” is not a name: it has no letters"),
        (1970.0, "“1970” is not a name: it has no letters"),
        ("A" * 151, "this is 151 characters long; at most 150 are allowed"),
    ],
)
def test_a_name_without_letters_or_too_long_is_refused(cell, message):
    assert message_of(parse_full_name, cell) == message


def test_a_name_of_150_characters_is_accepted():
    assert len(parse_full_name("A" * 150)) == 150


@pytest.mark.parametrize(
    ("cell", "birth"),
    [
        ("02/05/1970", (datetime.date(1970, 5, 2), 1970)),
        ("2/5/1970", (datetime.date(1970, 5, 2), 1970)),
        (" 02-05-1970 ", (datetime.date(1970, 5, 2), 1970)),
        ("02.05.1970", (datetime.date(1970, 5, 2), 1970)),
        ("1970-05-02", (datetime.date(1970, 5, 2), 1970)),
        ("1970-5-2", (datetime.date(1970, 5, 2), 1970)),
        (datetime.date(1970, 5, 2), (datetime.date(1970, 5, 2), 1970)),
        (datetime.datetime(1970, 5, 2), (datetime.date(1970, 5, 2), 1970)),
        ("29/02/2024", (datetime.date(2024, 2, 29), 2024)),
        ("15/08/2025", (TODAY, 2025)),
        ("1970", (None, 1970)),
        (1970, (None, 1970)),
        (1970.0, (None, 1970)),
        ("1900", (None, 1900)),
        (2025.0, (None, 2025)),
    ],
)
def test_a_birth_is_a_date_or_a_year_alone(cell, birth):
    assert parse_birth(cell, today=TODAY) == birth


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("31/02/1970", "the date 31/02/1970 does not exist"),
        ("29/02/2023", "the date 29/02/2023 does not exist"),
        ("02/13/1970", "the date 02/13/1970 does not exist"),
        ("1970-02-30", "the date 1970-02-30 does not exist"),
        ("1850", "the year 1850 is before 1900"),
        (1899.0, "the year 1899 is before 1900"),
        ("31/12/1899", "the date 31/12/1899 is before 1900"),
        ("2026", "the year 2026 is in the future"),
        (2030, "the year 2030 is in the future"),
        ("16/08/2025", "the date 16/08/2025 is in the future"),
        (datetime.date(2025, 12, 1), "the date 01/12/2025 is in the future"),
        ("abc", "“abc” is not a date: write dd/mm/yyyy or the year"),
        # Excel's serial number of 01/01/1970, from a cell that lost its date format.
        (25569.0, "“25569” is not a date: write dd/mm/yyyy or the year"),
        (25569, "“25569” is not a date: write dd/mm/yyyy or the year"),
        (70, "“70” is not a date: write dd/mm/yyyy or the year"),
        (1970.5, "“1970.5” is not a date: write dd/mm/yyyy or the year"),
        ("02/05/70", "“02/05/70” is not a date: write dd/mm/yyyy or the year"),
        ("02/05-1970", "“02/05-1970” is not a date: write dd/mm/yyyy or the year"),
        (True, "“TRUE” is not a date: write dd/mm/yyyy or the year"),
        (TIME, "“10:30:00” is not a date: write dd/mm/yyyy or the year"),
        (DURATION, "“3:00:00” is not a date: write dd/mm/yyyy or the year"),
        (None, "enter the date of birth, or the year alone"),
        (" ", "enter the date of birth, or the year alone"),
    ],
)
def test_an_impossible_or_unreadable_birth_is_refused(cell, message):
    assert message_of(parse_birth, cell, today=TODAY) == message


@pytest.mark.parametrize(
    ("cell", "sex"),
    [
        ("Nam", "M"),
        ("NAM", "M"),
        (" nam ", "M"),
        ("Male", "M"),
        ("m", "M"),
        ("Nữ", "F"),
        ("NỮ", "F"),
        (nfd("nữ"), "F"),
        ("Nu", "F"),
        ("female", "F"),
        ("F", "F"),
    ],
)
def test_sex_is_read_in_vietnamese_or_english(cell, sex):
    assert parse_sex(cell) == sex
    assert sex in Beneficiary.Sex.values


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("X", "“X” is not a sex: write Nam, Nữ, Male, Female, M, F"),
        (1, "“1” is not a sex: write Nam, Nữ, Male, Female, M, F"),
        (None, "enter the sex: Nam, Nữ, Male, Female, M, F"),
    ],
)
def test_another_sex_is_refused_with_what_is_accepted(cell, message):
    assert message_of(parse_sex, cell) == message


@pytest.mark.parametrize("group", list(EthnicGroup), ids=lambda group: group.value)
def test_each_ethnic_group_is_read_from_its_official_name(group):
    assert parse_ethnic_group(group.label) == group.value
    assert parse_ethnic_group(group.label.upper()) == group.value
    assert parse_ethnic_group(nfd(group.label)) == group.value


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("Khơ me", "05"),
        ("Khome", "05"),
        ("Khmer", "05"),
        ("H'Mông", "08"),
        ("Hmông", "08"),
        ("Hmong", "08"),
        ("HMÔNG", "08"),
        ("Mèo", "08"),
        ("dân tộc Mông", "08"),
        ("Dân tộc H'Mông", "08"),
        ("người Hoa", "04"),
        ("Việt", "01"),
        ("Ede", "12"),
        ("Ê đê", "12"),
        ("Rhade", "12"),
        ("Bahnar", "13"),
        ("Jrai", "10"),
        ("Gia Rai", "10"),
        ("Sedang", "14"),
        ("K'Ho", "16"),
        ("Koho", "16"),
        ("M'Nông", "20"),
        ("Stiêng", "22"),
        ("Vân Kiều", "23"),
        ("Khmu", "29"),
        ("Cao Lan", "15"),
        ("Tà Ôi", "31"),
        ("Gie Trieng", "27"),
        ("Bru Van Kieu", "23"),
        ("8", "08"),
        ("08", "08"),
        (8, "08"),
        (8.0, "08"),
        ("54", "54"),
    ],
)
def test_an_ethnic_group_is_read_from_common_spellings_and_its_code(cell, code):
    assert parse_ethnic_group(cell) == code


@pytest.mark.parametrize("cell", [None, "", "  "])
def test_a_blank_ethnic_group_is_empty(cell):
    assert parse_ethnic_group(cell) == ""


@pytest.mark.parametrize("cell", ["Kinhh", "55", 0, 8.5, "dân tộc"])
def test_an_unknown_ethnic_group_is_refused(cell):
    message = message_of(parse_ethnic_group, cell)
    assert message == (
        f"“{text_of(cell)}” is not one of the 54 ethnic groups: write its name, e.g. Mông, "
        "or its code, e.g. 08"
    )


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("010170123456", "010170123456"),
        (" 010 170 123 456 ", "010170123456"),
        ("010.170.123.456", "010170123456"),
        # Excel dropped the leading zero of a number cell.
        (10170123456.0, "010170123456"),
        (10170123456, "010170123456"),
        (1.0900123456e10, "010900123456"),
        (79205000001.0, "079205000001"),
    ],
)
def test_a_personal_id_is_read_from_text_or_a_number_cell(cell, number):
    assert parse_personal_id(cell) == number


@pytest.mark.parametrize("cell", [None, "", "  "])
def test_a_blank_personal_id_is_none(cell):
    assert parse_personal_id(cell) is None


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        # Text is never padded: a lost digit could be anywhere.
        ("10170123456", "“10170123456” has 11 digits, not 12"),
        ("0101701234567", "“0101701234567” has 13 digits, not 12"),
        (1010170123456.0, "“1010170123456” has 13 digits, not 12"),
        ("01017012345X", "“01017012345X” contains characters other than digits"),
        ("010-170-123-456", "“010-170-123-456” contains characters other than digits"),
        ("1.01701E+11", "“1.01701E+11” contains characters other than digits"),
        (10170123456.5, "“10170123456.5” contains characters other than digits"),
        (-10170123456, "“-10170123456” contains characters other than digits"),
        (True, "“TRUE” contains characters other than digits"),
    ],
)
def test_a_personal_id_of_another_shape_is_refused(cell, message):
    assert message_of(parse_personal_id, cell) == message


@pytest.mark.parametrize(
    ("cell", "province"),
    [
        # An 8-digit number padded to 12 starts with 000, no province's code.
        (12345678, "000"),
        ("099170123456", "099"),
    ],
)
def test_a_personal_id_is_checked_by_its_validator(cell, province):
    assert message_of(parse_personal_id, cell) == (
        f"{province} is not the code of a province (001 to 096) at the start of an ID number."
    )


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("0123456789", "0123456789"),
        ("01 2345 6789", "0123456789"),
        (123456789.0, "0123456789"),
        (123456789, "0123456789"),
        (None, None),
    ],
)
def test_a_social_insurance_number_has_ten_digits(cell, number):
    assert parse_social_insurance_number(cell) == number


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("123456789", "“123456789” has 9 digits, not 10"),
        ("012345678A", "“012345678A” contains characters other than digits"),
        (12345678901.0, "“12345678901” has 11 digits, not 10"),
    ],
)
def test_a_social_insurance_number_of_another_shape_is_refused(cell, message):
    assert message_of(parse_social_insurance_number, cell) == message


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        (912345678.0, "0912345678"),
        (912345678, "0912345678"),
        (84912345678.0, "0912345678"),
        # A landline: 11 digits from 02.
        (2143123456.0, "02143123456"),
        (None, ""),
        ("  ", ""),
    ],
)
def test_a_phone_number_is_normalised(cell, phone):
    assert parse_phone(cell) == phone


@pytest.mark.parametrize(
    ("cell", "value"),
    [("12345", "12345"), ("09123", "09123"), (12345.0, "012345"), ("abc", "abc")],
)
def test_a_phone_number_of_another_shape_is_refused(cell, value):
    assert message_of(parse_phone, cell) == (
        f"“{value}” is not a Vietnamese phone number (10 digits from 0, or 11 for a landline)."
    )


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("02680", "02680"),
        ("2680", "02680"),
        (2680.0, "02680"),
        (2680, "02680"),
        (" 4 ", "00004"),
        (None, None),
        ("", None),
    ],
)
def test_a_commune_code_is_padded_to_five_digits(cell, code):
    assert parse_commune_code(cell) == code


@pytest.mark.parametrize(
    ("cell", "value"),
    [("026800", "026800"), ("Hợp Thành", "Hợp Thành"), (26.8, "26.8"), (-2680, "-2680")],
)
def test_a_commune_code_of_another_shape_is_refused(cell, value):
    message = message_of(parse_commune_code, cell)
    assert message == f"“{value}” is not a commune code, which has 5 digits"


@pytest.mark.parametrize(
    ("cell", "category"),
    [
        ("poor", "poor"),
        ("near_poor", "near_poor"),
        ("hộ nghèo", "poor"),
        ("HỘ NGHÈO", "poor"),
        (nfd("Hộ nghèo"), "poor"),
        ("ho ngheo", "poor"),
        ("nghèo", "poor"),
        ("Poor household", "poor"),
        ("hộ cận nghèo", "near_poor"),
        ("cận nghèo", "near_poor"),
        ("near-poor household", "near_poor"),
        ("hộ mới thoát nghèo", "out_of_poverty"),
        ("mới thoát nghèo", "out_of_poverty"),
        ("thoát nghèo", "out_of_poverty"),
        ("just out of poverty", "out_of_poverty"),
        ("dân tộc thiểu số", "ethnic_minority"),
        ("DTTS", "ethnic_minority"),
        ("người dân tộc thiểu số chưa được ngân sách nhà nước đóng BHYT", "ethnic_minority"),
        ("ethnic minority not covered by the state", "ethnic_minority"),
        ("mức sống trung bình", "average_living"),
        ("hộ có mức sống trung bình, chưa tham gia bảo hiểm", "average_living"),
        ("average living standard, not insured", "average_living"),
        ("khác", "other"),
        ("hoàn cảnh khó khăn khác", "other"),
        ("other difficult circumstance", "other"),
    ],
)
def test_a_category_is_read_from_its_code_its_labels_and_short_forms(cell, category):
    assert parse_category(cell) == category


ENGLISH_CATEGORIES = (
    "poor household; near-poor household; just out of poverty; "
    "ethnic minority not covered by the state; average living standard, not insured; "
    "other difficult circumstance"
)


def test_an_unknown_category_is_refused_with_the_labels_accepted():
    assert message_of(parse_category, "giàu") == (
        f"“giàu” is not a category; write one of: {ENGLISH_CATEGORIES}"
    )
    assert message_of(parse_category, None) == (f"enter the category, one of: {ENGLISH_CATEGORIES}")


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, ""),
        ("   ", ""),
        (nfd("  Thôn  Cốc Sâm "), "Thôn Cốc Sâm"),
        (12.0, "12"),
    ],
)
def test_text_is_stored_in_nfc_with_single_spaces(cell, text):
    parsed = parse_text(cell, max_length=20)
    assert parsed == text
    assert unicodedata.is_normalized("NFC", parsed)


def test_text_too_long_is_refused():
    assert parse_text("x" * 5, max_length=5) == "xxxxx"
    assert message_of(parse_text, "x" * 6, max_length=5) == (
        "this is 6 characters long; at most 5 are allowed"
    )
