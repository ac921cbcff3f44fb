"""One row of a recipients' spreadsheet turned into a recipient's values, or into errors."""

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.scope import Scope
from reference.models import AdminUnit
from reference.text import fold

from ..identifiers import has_personal_id_shape, personal_id_mismatches
from ..models import Beneficiary
from . import cells
from .columns import BY_KEY
from .communes import CommuneError, CommuneResolver

# Left empty in a row, these keep what an existing record holds.
OPTIONAL_FIELDS = (
    "ethnic_group",
    "personal_id",
    "social_insurance_number",
    "phone",
    "address_line",
    "notes",
)

# What an empty optional cell gives, as its parser would.
_EMPTY = {
    "ethnic_group": "",
    "personal_id": None,
    "social_insurance_number": None,
    "phone": "",
    "address_line": "",
    "notes": "",
}

_MAX_LENGTH = {f.name: f.max_length for f in Beneficiary._meta.concrete_fields}

Errors = list[tuple[str, str]]


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


class RowChecker:
    """Checks rows of one file: the look-ups it needs are loaded once, not per row."""

    def __init__(
        self,
        *,
        columns: dict[str, int],
        resolver: CommuneResolver,
        province: AdminUnit | None,
        scope: Scope,
        today: datetime.date,
        current_resolver: CommuneResolver | None = None,
    ):
        self.columns = columns
        self.resolver = resolver
        # Set when rows name communes of an older list: today's communes, by code.
        self.current_resolver = current_resolver
        self.province = province
        self.scope = scope
        self.today = today
        self._allowed: dict[int, str | None] = {}
        self._communes: dict[tuple, tuple[AdminUnit | None, tuple | None]] = {}
        # Rows get blank cells added at their end: a short row's missing cells and a
        # column the file lacks (index -1, the last added) read as blank.
        self._padding = [None] * (max(columns.values()) + 2)
        absent = -1

        def index(key: str) -> int:
            return columns.get(key, absent)

        # (column key, value name, parser, cell index) for the cells read one by one.
        self._plan = [
            ("full_name", "full_name", cells.parse_full_name, index("full_name")),
            ("birth", "birth", partial(cells.parse_birth, today=today), index("birth")),
            ("sex", "sex", cells.parse_sex, index("sex")),
            ("ethnic_group", "ethnic_group", cells.parse_ethnic_group, index("ethnic_group")),
            ("personal_id", "personal_id", cells.parse_personal_id, index("personal_id")),
            (
                "social_insurance_number",
                "social_insurance_number",
                cells.parse_social_insurance_number,
                index("social_insurance_number"),
            ),
            ("phone", "phone", cells.parse_phone, index("phone")),
            (
                "village",
                "address_line",
                partial(cells.parse_text, max_length=_MAX_LENGTH["address_line"]),
                index("village"),
            ),
            ("category", "category", cells.parse_category, index("category")),
            ("note", "notes", partial(cells.parse_text, max_length=2000), index("note")),
        ]
        self._commune_columns = (index("commune_code"), index("commune"), index("province"))

    def cells_of(self, row: list) -> dict[str, str]:
        """Return the row's cells as text by column key, as the user typed them."""
        width = len(row)
        return {
            key: cells.text_of(row[index])
            for key, index in self.columns.items()
            if index < width and not cells.is_blank(row[index])
        }

    def check(self, row: list) -> tuple[dict | None, Errors]:
        """Return (values by Beneficiary column, []) or (None, [(column key, message), ...])."""
        row = [*row, *self._padding]
        errors: Errors = []
        values: dict = {}
        for key, field, parse, index in self._plan:
            cell = row[index]
            # An empty optional cell needs no parser (most rows leave several empty).
            if (cell is None or cell == "") and field in _EMPTY:
                values[field] = _EMPTY[field]
                continue
            try:
                values[field] = parse(cell)
            except ValidationError as error:
                errors.append((key, _message(error)))
                values[field] = None
        commune = self._commune(row, errors)

        birth = values.pop("birth")
        if birth is not None:
            birth_date, birth_year = birth
            values["birth_date"] = birth_date
            values["birth_year"] = birth_year
            personal_id = values["personal_id"]
            if personal_id and values["sex"] and has_personal_id_shape(personal_id):
                mismatches = personal_id_mismatches(
                    personal_id,
                    birth_year=birth_year,
                    is_female=values["sex"] == Beneficiary.Sex.FEMALE,
                )
                errors.extend(("personal_id", message) for message in mismatches.values())
        if errors:
            return None, errors
        values["search_name"] = fold(values["full_name"])
        values["commune_id"] = commune.pk
        values["province_id"] = commune.province_id
        return values, errors

    def _commune(self, row: list, errors: Errors) -> AdminUnit | None:
        # Lists repeat a few communes thousands of times: each spelling is read once.
        code_index, name_index, province_index = self._commune_columns
        key = (row[code_index], row[name_index], row[province_index])
        found = self._communes.get(key)
        if found is None:
            found = self._communes[key] = self._find_commune(*key)
        unit, error = found
        if error is not None:
            errors.append(error)
        return unit

    def _find_commune(self, code, name, province) -> tuple[AdminUnit | None, tuple | None]:
        """Return (commune, None) or (None, (column key, message)) for the three cells."""
        try:
            code = cells.parse_commune_code(code)
        except ValidationError as error:
            return None, ("commune_code", _message(error))
        name = "" if cells.is_blank(name) else cells.text_of(name)
        province = "" if cells.is_blank(province) else cells.text_of(province)
        try:
            unit = self.resolver.resolve(code=code, name=name, province=province)
            if self.current_resolver is not None:
                unit = self._today_commune(unit)
        except CommuneError as error:
            return None, (error.column, _message(error))
        refusal = self._refusal(unit)
        if refusal:
            return None, ("commune_code" if code else "commune", refusal)
        return unit, None

    def _today_commune(self, old: AdminUnit) -> AdminUnit:
        """Return today's commune that carries an older commune's code (how codes were reused)."""
        try:
            unit = self.current_resolver.resolve(code=old.code, name="", province="")
        except CommuneError:
            unit = None
        if unit is None or unit.province_id != old.current_province_id:
            raise CommuneError(
                _(
                    "%(commune)s (code %(code)s) of the 2024 list has no commune with its code "
                    "in today's list: write the commune of today."
                )
                % {"commune": old.name, "code": old.code},
                column="commune",
            )
        return unit

    def _refusal(self, unit: AdminUnit) -> str | None:
        """Return why rows of this commune may not be imported here, or None."""
        if unit.pk not in self._allowed:
            refusal = None
            if self.province is not None and unit.current_province_id != self.province.pk:
                refusal = _("%(commune)s lies in %(province)s, not in %(chosen)s.") % {
                    "commune": unit.name,
                    "province": unit.province.name,
                    "chosen": self.province.name,
                }
            elif not self.scope.allows_unit(unit):
                refusal = _("%(commune)s lies outside the areas you work for.") % {
                    "commune": unit.name
                }
            self._allowed[unit.pk] = refusal
        return self._allowed[unit.pk]


def column_label(key: str) -> str:
    """Return a column's header in the user's language."""
    return BY_KEY[key].label
