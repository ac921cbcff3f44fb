"""Reading of single spreadsheet cells into a recipient's values.

A cell is what python-calamine or the csv module returns: None, str, int, float,
bool, date, datetime, or a time or duration (never valid here).  Each parser
returns the value to store or raises ValidationError with a short message that
quotes what was typed; the caller prefixes the row and the column.  They run a
million times per file, so look-up tables are built once and repeated values
(sex, ethnic group, category) are looked up through small caches.
"""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from reference.ethnic_groups import EthnicGroup
from reference.text import fold, normalize

from ..identifiers import (
    normalize_phone,
    validate_personal_id,
    validate_phone,
    validate_social_insurance_number,
)
from ..models import Beneficiary

FULL_NAME_MAX_LENGTH = Beneficiary._meta.get_field("full_name").max_length
PERSONAL_ID_LENGTH = 12
SOCIAL_INSURANCE_NUMBER_LENGTH = 10
COMMUNE_CODE_LENGTH = 5
# Years before this are typing errors, as the database's constraint says.
FIRST_BIRTH_YEAR = 1900


def is_blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _is_number(cell) -> bool:
    # bool is a subclass of int, but TRUE in a cell is no number.
    return isinstance(cell, int | float) and not isinstance(cell, bool)


def _day_text(day: datetime.date) -> str:
    # strftime("%Y") drops the zeros of years before 1000.
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def text_of(cell) -> str:
    """Return the cell as the user reads it in the spreadsheet, for messages and rejected rows.

    Excel stores every number as a float: 1970.0 reads "1970", and a 12-digit
    ID "123456789012", not "1.23456789012e+11".
    """
    if isinstance(cell, str):
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime.datetime):
        if cell.time() == datetime.time():
            return _day_text(cell)
        return f"{_day_text(cell)} {cell:%H:%M}"
    if isinstance(cell, datetime.date):
        return _day_text(cell)
    return str(cell)


def _too_long(length: int, max_length: int) -> ValidationError:
    return ValidationError(
        _("this is %(count)d characters long; at most %(max)d are allowed")
        % {"count": length, "max": max_length}
    )


def parse_full_name(cell) -> str:
    """Return the name in NFC with single spaces; a name typed all in capitals or all in
    small letters gets a capital at each word, as official lists write names."""
    name = normalize(text_of(cell))
    if not name:
        raise ValidationError(_("enter the person's full name"))
    if len(name) > FULL_NAME_MAX_LENGTH:
        raise _too_long(len(name), FULL_NAME_MAX_LENGTH)
    if not any(char.isalpha() for char in name):
        raise ValidationError(_("“%(value)s” is not a name: it has no letters") % {"value": name})
    if name.isupper() or name.islower():
        # title() also capitalises after hyphens and apostrophes: "H'Hen Niê", "Y-Moan".
        name = name.title()
    return name


_YEAR = re.compile(r"[0-9]{4}")
_DAY_FIRST = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_YEAR_FIRST = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def _birth_year(year: int, today: datetime.date) -> tuple[None, int]:
    if year < FIRST_BIRTH_YEAR:
        raise ValidationError(
            _("the year %(year)d is before %(first)d") % {"year": year, "first": FIRST_BIRTH_YEAR}
        )
    if year > today.year:
        raise ValidationError(_("the year %(year)d is in the future") % {"year": year})
    return None, year


def _birth_date(day: datetime.date, text: str, today: datetime.date) -> tuple[datetime.date, int]:
    if day.year < FIRST_BIRTH_YEAR:
        raise ValidationError(
            _("the date %(value)s is before %(first)d") % {"value": text, "first": FIRST_BIRTH_YEAR}
        )
    if day > today:
        raise ValidationError(_("the date %(value)s is in the future") % {"value": text})
    return day, day.year


def _make_date(year: str, month: str, day: str, text: str) -> datetime.date:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ValidationError(_("the date %(value)s does not exist") % {"value": text}) from None


def parse_birth(cell, *, today: datetime.date) -> tuple[datetime.date | None, int]:
    """Return (date of birth, year of birth); the date is None when only the year is given.

    Reads a date cell, dd/mm/yyyy (d/m/yyyy, with / - or .), yyyy-mm-dd, or a
    year alone as text or number.  Other numbers are refused: 25569 is more
    likely a date that lost its format than a year.
    """
    if isinstance(cell, datetime.datetime):
        return _birth_date(cell.date(), text_of(cell), today)
    if isinstance(cell, datetime.date):
        return _birth_date(cell, text_of(cell), today)
    text = text_of(cell)
    if not text:
        raise ValidationError(_("enter the date of birth, or the year alone"))
    if _YEAR.fullmatch(text):
        return _birth_year(int(text), today)
    if match := _DAY_FIRST.fullmatch(text):
        day, _separator, month, year = match.groups()
        return _birth_date(_make_date(year, month, day, text), text, today)
    if match := _YEAR_FIRST.fullmatch(text):
        return _birth_date(_make_date(*match.groups(), text), text, today)
    raise ValidationError(
        _("“%(value)s” is not a date: write dd/mm/yyyy or the year") % {"value": text}
    )


_SEXES = {
    "nam": Beneficiary.Sex.MALE.value,
    "male": Beneficiary.Sex.MALE.value,
    "m": Beneficiary.Sex.MALE.value,
    "nu": Beneficiary.Sex.FEMALE.value,
    "female": Beneficiary.Sex.FEMALE.value,
    "f": Beneficiary.Sex.FEMALE.value,
}
# The words of the file format, the same whatever the user's language.
_SEXES_ACCEPTED = "Nam, Nữ, Male, Female, M, F"


@functools.lru_cache(maxsize=256)
def _sex_of(text: str) -> str | None:
    return _SEXES.get(fold(text))


def parse_sex(cell) -> str:
    """Return Beneficiary.Sex's value for Nam/Nữ, Male/Female or M/F in any case."""
    text = text_of(cell)
    if not text:
        raise ValidationError(_("enter the sex: %(accepted)s") % {"accepted": _SEXES_ACCEPTED})
    sex = _sex_of(text)
    if sex is None:
        raise ValidationError(
            _("“%(value)s” is not a sex: write %(accepted)s")
            % {"value": text, "accepted": _SEXES_ACCEPTED}
        )
    return sex


def _ethnic_key(name: str) -> str:
    # Without spaces, so that "Khơ-me", "Khơ me" and "Khome" meet, and "H'Mông" meets "Hmong".
    return fold(name).replace(" ", "")


# Other names the groups go by: older Vietnamese names, the groups' own names
# and their usual English spellings.
_ETHNIC_ALIASES = {
    EthnicGroup.KINH: ["Việt"],
    EthnicGroup.HOA: ["Hán"],
    EthnicGroup.KHMER: ["Khmer", "Khmer Krom", "Khơ-me Krôm"],
    EthnicGroup.MONG: ["H'Mông", "Hmong", "Mèo"],
    EthnicGroup.DAO: ["Mán", "Yao"],
    EthnicGroup.GIA_RAI: ["Jrai", "Jarai"],
    EthnicGroup.E_DE: ["Ede", "Rhade", "Ra-đê"],
    EthnicGroup.BA_NA: ["Bahnar"],
    EthnicGroup.XO_DANG: ["Sedang", "Xê-đăng"],
    EthnicGroup.SAN_CHAY: ["Cao Lan", "Sán Chỉ", "Cao Lan-Sán Chỉ"],
    EthnicGroup.CO_HO: ["K'Ho", "Koho"],
    EthnicGroup.CHAM: ["Chàm"],
    EthnicGroup.SAN_DIU: ["Sán Dẻo"],
    EthnicGroup.MNONG: ["M'Nông"],
    EthnicGroup.RA_GLAI: ["Raglai"],
    EthnicGroup.XTIENG: ["Stiêng"],
    EthnicGroup.BRU_VAN_KIEU: ["Bru", "Vân Kiều"],
    EthnicGroup.GIAY: ["Nhắng"],
    EthnicGroup.CO_TU: ["Katu", "Ca-tu"],
    EthnicGroup.GIE_TRIENG: ["Giẻ-Triêng", "Triêng"],
    EthnicGroup.KHO_MU: ["Khmu", "Kmhmu", "Xá Cẩu"],
    EthnicGroup.TA_OI: ["Pa Cô", "Pa Kô"],
    EthnicGroup.CHO_RO: ["Chro", "Châu Ro"],
    EthnicGroup.HA_NHI: ["Hani"],
    EthnicGroup.BRAU: ["Brao"],
}
_ETHNIC_GROUPS = {
    _ethnic_key(alias): group.value
    for group, aliases in _ETHNIC_ALIASES.items()
    for alias in aliases
} | {_ethnic_key(group.label): group.value for group in EthnicGroup}
_ETHNIC_CODES = frozenset(EthnicGroup.values)
_ETHNIC_PREFIXES = ("nguoi ", "dan toc ")


@functools.lru_cache(maxsize=256)
def _ethnic_group_of(text: str) -> str | None:
    if text.isascii() and text.isdigit():
        code = text.zfill(2)
        return code if code in _ETHNIC_CODES else None
    folded = fold(text)
    for prefix in _ETHNIC_PREFIXES:
        folded = folded.removeprefix(prefix)
    return _ETHNIC_GROUPS.get(folded.replace(" ", ""))


def parse_ethnic_group(cell) -> str:
    """Return the 2-digit code of the ethnic group named (any spelling in _ETHNIC_ALIASES,
    with or without "dân tộc") or coded (8 or "08"); "" for a blank cell."""
    text = text_of(cell)
    if not text:
        return ""
    group = _ethnic_group_of(text)
    if group is None:
        raise ValidationError(
            _(
                "“%(value)s” is not one of the 54 ethnic groups: write its name, e.g. Mông, "
                "or its code, e.g. 08"
            )
            % {"value": text}
        )
    return group


def _identifier_digits(cell, length: int) -> str | None:
    """Return the digits of an identifier cell, None when blank.

    A number cell lost its leading zeros in Excel, so it gets them back; text
    is taken as typed, since padding "1234" would invent an identifier.
    """
    text = text_of(cell)
    if not text:
        return None
    if _is_number(cell):
        digits = text.zfill(length)
    else:
        digits = "".join(text.split()).replace(".", "")
    if not (digits.isascii() and digits.isdigit()):
        raise ValidationError(
            _("“%(value)s” contains characters other than digits") % {"value": text}
        )
    if len(digits) != length:
        raise ValidationError(
            _("“%(value)s” has %(count)d digits, not %(length)d")
            % {"value": text, "count": len(digits), "length": length}
        )
    return digits


def parse_personal_id(cell) -> str | None:
    """Return the 12-digit personal identification number, or None for a blank cell."""
    number = _identifier_digits(cell, PERSONAL_ID_LENGTH)
    if number is not None:
        validate_personal_id(number)
    return number


def parse_social_insurance_number(cell) -> str | None:
    """Return the 10-digit social-insurance number, or None for a blank cell."""
    number = _identifier_digits(cell, SOCIAL_INSURANCE_NUMBER_LENGTH)
    if number is not None:
        validate_social_insurance_number(number)
    return number


def parse_phone(cell) -> str:
    """Return the phone number as digits from 0 ("0912345678"), or "" for a blank cell."""
    text = text_of(cell)
    if not text:
        return ""
    phone = normalize_phone(text)
    if _is_number(cell) and not phone.startswith("0"):
        # Excel dropped the leading 0 of 0912345678: say what the number means.
        phone = text = "0" + phone
    validate_phone(text)
    return phone


def parse_commune_code(cell) -> str | None:
    """Return the 5-digit commune code (2680 from a number cell gives "02680"), or None."""
    text = text_of(cell)
    if not text:
        return None
    if not (len(text) <= COMMUNE_CODE_LENGTH and text.isascii() and text.isdigit()):
        raise ValidationError(
            _("“%(value)s” is not a commune code, which has 5 digits") % {"value": text}
        )
    return text.zfill(COMMUNE_CODE_LENGTH)


# Short forms seen on lists, beside the codes ("near_poor" also reads "near poor")
# and the labels in both languages.
_CATEGORY_SHORT_FORMS = {
    Beneficiary.Category.POOR: ["nghèo"],
    Beneficiary.Category.NEAR_POOR: ["cận nghèo"],
    Beneficiary.Category.OUT_OF_POVERTY: ["mới thoát nghèo", "thoát nghèo", "hộ thoát nghèo"],
    Beneficiary.Category.ETHNIC_MINORITY: ["dân tộc thiểu số", "người dân tộc thiểu số", "DTTS"],
    Beneficiary.Category.AVERAGE_LIVING: [
        "mức sống trung bình",
        "hộ mức sống trung bình",
        "hộ có mức sống trung bình",
        "average living standard",
    ],
    Beneficiary.Category.OTHER: ["khác"],
}


@functools.cache
def _category_names() -> dict[str, str]:
    """Return the category of each folded name; built on first use, when translations load."""
    names = {}
    for category in Beneficiary.Category:
        names[fold(category.value)] = category.value
        for language in ("vi", "en"):
            with translation.override(language):
                names[fold(str(category.label))] = category.value
        for short_form in _CATEGORY_SHORT_FORMS[category]:
            names[fold(short_form)] = category.value
    return names


@functools.lru_cache(maxsize=256)
def _category_of(text: str) -> str | None:
    return _category_names().get(fold(text))


def parse_category(cell) -> str:
    """Return the Beneficiary.Category value named by its code, label or a short form."""
    text = text_of(cell)
    category = _category_of(text) if text else None
    if category is None:
        labels = "; ".join(str(label) for label in Beneficiary.Category.labels)
        if not text:
            raise ValidationError(_("enter the category, one of: %(labels)s") % {"labels": labels})
        raise ValidationError(
            _("“%(value)s” is not a category; write one of: %(labels)s")
            % {"value": text, "labels": labels}
        )
    return category


def parse_text(cell, *, max_length: int) -> str:
    """Return the text in NFC with single spaces, or "" for a blank cell."""
    text = normalize(text_of(cell))
    if len(text) > max_length:
        raise _too_long(len(text), max_length)
    return text
