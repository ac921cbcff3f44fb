"""Checks of Vietnamese personal identifiers (see DOMAIN.md, "Identifiers")."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Birth-registration province codes of personal ID numbers: the 63 provinces
# before 2025 (001 Hà Nội ... 096 Cà Mau), whose codes people keep for life.
PROVINCE_CODES = frozenset(
    f"{code:03d}"
    for code in [
        1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35,
        36, 37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70,
        72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
    ]
)  # fmt: skip

_TWELVE_DIGITS = re.compile(r"^[0-9]{12}$")
_TEN_DIGITS = re.compile(r"^[0-9]{10}$")


def has_personal_id_shape(number: str) -> bool:
    """Return whether ``number`` is 12 digits, the shape the other checks can read."""
    return bool(_TWELVE_DIGITS.match(number))


def personal_id_parts(number: str) -> tuple[str, int, bool]:
    """Return (birth-registration province code, birth year, is female) read from an ID.

    The fourth digit gives century and sex: 0/1 for the 1900s, 2/3 for the
    2000s, then 4/5, 6/7, 8/9 for the following centuries; even is male.
    """
    century_sex = int(number[3])
    century = 1900 + (century_sex // 2) * 100
    return number[:3], century + int(number[4:6]), century_sex % 2 == 1


def validate_personal_id(number: str) -> None:
    """Check the structure of a 12-digit personal identification number."""
    if not has_personal_id_shape(number):
        raise ValidationError(
            _("A personal identification number has exactly 12 digits; “%(value)s” does not."),
            code="personal_id_length",
            params={"value": number},
        )
    if number[:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("%(code)s is not the code of a province (001 to 096) at the start of an ID number."),
            code="personal_id_province",
            params={"code": number[:3]},
        )


def personal_id_mismatches(number: str, *, birth_year: int, is_female: bool) -> dict[str, str]:
    """Return, by field, what in the ID contradicts the person's year of birth or sex."""
    _province, id_year, id_female = personal_id_parts(number)
    errors = {}
    if id_female != is_female:
        century = 1900 + (int(number[3]) // 2) * 100
        message = (
            _(
                "The 4th digit of the ID number (%(digit)s) is for a woman born in "
                "%(start)s–%(end)s."
            )
            if id_female
            else _(
                "The 4th digit of the ID number (%(digit)s) is for a man born in %(start)s–%(end)s."
            )
        )
        errors["sex"] = message % {"digit": number[3], "start": century, "end": century + 99}
    if id_year != birth_year:
        errors["birth_year"] = _("The ID number says born in %(id_year)s, not %(birth_year)s.") % {
            "id_year": id_year,
            "birth_year": birth_year,
        }
    return errors


def validate_social_insurance_number(number: str) -> None:
    if not _TEN_DIGITS.match(number):
        raise ValidationError(
            _("A social-insurance number has exactly 10 digits; “%(value)s” does not."),
            code="social_insurance_number_length",
            params={"value": number},
        )


_PHONE = re.compile(r"^0[0-9]{9,10}$")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(number: str) -> str:
    """Return a phone number as digits with a leading 0: "+84 912.345.678" -> "0912345678"."""
    digits = _PHONE_SEPARATORS.sub("", number)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def validate_phone(number: str) -> None:
    if not _PHONE.match(normalize_phone(number)):
        raise ValidationError(
            _(
                "“%(value)s” is not a Vietnamese phone number (10 digits from 0, or 11 for a "
                "landline)."
            ),
            code="phone",
            params={"value": number},
        )
