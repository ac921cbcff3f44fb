"""The plain path the import benchmark compares with: a default django-import-export resource.

What most projects ship: the workbook read with tablib (openpyxl), its headers
renamed to the model's fields, the values a resource cannot guess computed with
dict look-ups (commune and province ids from the commune code or name, codes
from the Vietnamese words for sex, ethnic group and category), then
``ModelResource.import_data`` row by row, with its defaults (no bulk writes, a
diff per row, one transaction).

Two settings beyond the defaults, without which even a clean file would not
import, so that the comparison is with code a project could ship: dates read
as dd/mm/yyyy, and blank ID numbers kept NULL (their columns are unique; the
default widget writes "" and the second person without a number collides).

Needs Django set up (the resource reads the model when its class is made).
"""

import datetime

import tablib
from django.utils import translation
from import_export import fields, resources, widgets

from beneficiaries.imports.columns import COLUMNS
from beneficiaries.models import Beneficiary
from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, UnitLevel

# Official lists put a title above the header; tablib is told to skip it.
TITLE_ROWS = 2
HEADERS = (
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "ethnic_group",
    "personal_id",
    "social_insurance_number",
    "phone",
    "commune",
    "province",
    "address_line",
    "category",
    "notes",
)
_KEYS = {column.vietnamese: column.key for column in COLUMNS}
_SEXES = {"nam": Beneficiary.Sex.MALE, "nữ": Beneficiary.Sex.FEMALE}
# The other spellings the benchmark's file uses, as a project adds them after its first import.
_ETHNIC_ALIASES = {"h'mông": EthnicGroup.MONG, "khmer": EthnicGroup.KHMER}


class PlainBeneficiaryResource(resources.ModelResource):
    """Beneficiary's fields under their own names; only the two settings the docstring names."""

    personal_id = fields.Field(
        attribute="personal_id",
        column_name="personal_id",
        widget=widgets.CharWidget(allow_blank=False),
    )
    social_insurance_number = fields.Field(
        attribute="social_insurance_number",
        column_name="social_insurance_number",
        widget=widgets.CharWidget(allow_blank=False),
    )

    class Meta:
        model = Beneficiary
        widgets = {"birth_date": {"format": "%d/%m/%Y"}}


class _Lookups:
    """The dicts a typical project fills once before its loop (one query)."""

    def __init__(self):
        communes = AdminUnit.objects.filter(edition__code="2025", level=UnitLevel.COMMUNE)
        communes = communes.select_related("province")
        self.by_code = {}
        self.by_name = {}
        for unit in communes:
            self.by_code[unit.code] = unit
            for name in (unit.name, unit.short_name):
                for province in (unit.province.name, unit.province.short_name):
                    self.by_name[name, province] = unit
        self.ethnic_groups = {label.lower(): code for code, label in EthnicGroup.choices}
        self.ethnic_groups.update(_ETHNIC_ALIASES)
        with translation.override("vi"):
            self.categories = {str(c.label).lower(): c.value for c in Beneficiary.Category}


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _number(value, length: int) -> str | None:
    """Return an ID number as text; a number cell gets back the zeros Excel dropped."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return str(int(value)).zfill(length)
    return str(value).strip()


def _birth(value) -> tuple[object, int | None]:
    """Return (what the date widget reads, year of birth)."""
    if isinstance(value, datetime.date):
        return value, value.year
    if isinstance(value, int | float):
        return None, int(value)
    text = _text(value)
    if text.isdigit():
        return None, int(text)
    try:
        return text, int(text[-4:])
    except ValueError:
        return text, None


def _row(cells: dict, lookups: _Lookups) -> list:
    birth_date, birth_year = _birth(cells.get("birth"))
    code = cells.get("commune_code")
    if code is not None and code != "":
        code = _text(code).zfill(5)
        unit = lookups.by_code.get(code)
    else:
        unit = lookups.by_name.get((_text(cells.get("commune")), _text(cells.get("province"))))
    sex = _text(cells.get("sex"))
    ethnic_group = _text(cells.get("ethnic_group"))
    category = _text(cells.get("category"))
    return [
        cells.get("full_name"),
        birth_date,
        birth_year,
        _SEXES.get(sex.lower(), sex),
        lookups.ethnic_groups.get(ethnic_group.lower(), ethnic_group),
        _number(cells.get("personal_id"), 12),
        _number(cells.get("social_insurance_number"), 10),
        _text(cells.get("phone")),
        # No commune: the resource fails on the row when it saves it.
        unit.pk if unit else None,
        unit.province_id if unit else None,
        _text(cells.get("village")),
        lookups.categories.get(category.lower(), category),
        _text(cells.get("note")),
    ]


def plain_dataset(content: bytes, rows: int | None = None) -> tablib.Dataset:
    """Return the file's first ``rows`` rows (all by default) under the model's field names."""
    raw = tablib.Dataset().load(content, format="xlsx", skip_lines=TITLE_ROWS)
    keys = [_KEYS.get(header, header) for header in raw.headers]
    lookups = _Lookups()
    dataset = tablib.Dataset(headers=list(HEADERS))
    for index, values in enumerate(raw):
        if rows is not None and index >= rows:
            break
        dataset.append(_row(dict(zip(keys, values, strict=False)), lookups))
    return dataset
