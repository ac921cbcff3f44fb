"""Exports of recipients (django-import-export) in the template's columns, to be imported again."""

import io
import itertools

from django.utils import translation
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reference.ethnic_groups import EthnicGroup

from .imports import columns
from .imports.workbooks import LIST_SHEET, set_text
from .models import Beneficiary

# The template's words, not the user's language: the file is read back by the importer.
SEX_NAMES = {Beneficiary.Sex.MALE: "Nam", Beneficiary.Sex.FEMALE: "Nữ"}
_MAX_WIDTH = 50


class XLSX(base_formats.XLSX):
    """XLSX whose text cells stay text: IDs keep their leading zeros, "=..." never runs.

    tablib writes a string that starts with "=" as a formula; names and notes are
    typed by people.  Numbers (a running number, an amount) stay numbers.
    """

    def export_data(self, dataset, **kwargs) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        if dataset.title:
            sheet.title = dataset.title[:31]  # Excel's limit on sheet names
        widths = [len(header) for header in dataset.headers]
        for index, header in enumerate(dataset.headers, start=1):
            cell = sheet.cell(row=1, column=index)
            set_text(cell, header)
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row, values in enumerate(dataset, start=2):
            for index, value in enumerate(values, start=1):
                if value is None or value == "":
                    continue
                cell = sheet.cell(row=row, column=index)
                if isinstance(value, str):
                    set_text(cell, value)
                    cell.number_format = "@"
                else:
                    cell.value = value
                widths[index - 1] = max(widths[index - 1], len(str(value)))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_WIDTH)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


# XLSX first: it is what communes open; CSV is read in Excel only through its BOM
# (the admin's to_encoding "utf-8-sig").
EXPORT_FORMATS = [XLSX, base_formats.CSV]


class BeneficiaryExportResource(resources.ModelResource):
    """Recipients in the template's columns and words, with their ID numbers in full.

    Every value but the running number is text, so that leading zeros survive
    in XLSX and CSV.  The queryset is read in chunks with the commune and its province joined: no
    query per row.
    """

    number = Field(column_name=columns.NUMBER.vietnamese)
    full_name = Field(attribute="full_name", column_name=columns.FULL_NAME.vietnamese)
    birth = Field(column_name=columns.BIRTH.vietnamese)
    sex = Field(column_name=columns.SEX.vietnamese)
    ethnic_group = Field(column_name=columns.ETHNIC_GROUP.vietnamese)
    personal_id = Field(attribute="personal_id", column_name=columns.PERSONAL_ID.vietnamese)
    social_insurance_number = Field(
        attribute="social_insurance_number",
        column_name=columns.SOCIAL_INSURANCE_NUMBER.vietnamese,
    )
    phone = Field(attribute="phone", column_name=columns.PHONE.vietnamese)
    commune_code = Field(attribute="commune__code", column_name=columns.COMMUNE_CODE.vietnamese)
    commune = Field(attribute="commune__name", column_name=columns.COMMUNE.vietnamese)
    province = Field(attribute="commune__province__name", column_name=columns.PROVINCE.vietnamese)
    village = Field(attribute="address_line", column_name=columns.VILLAGE.vietnamese)
    category = Field(column_name=columns.CATEGORY.vietnamese)
    note = Field(attribute="notes", column_name=columns.NOTE.vietnamese)

    class Meta:
        model = Beneficiary
        fields = tuple(column.key for column in columns.COLUMNS)
        export_order = fields
        # Rows fetched per round trip of the server-side cursor.
        chunk_size = 2000

    def before_export(self, queryset, **kwargs):
        self._numbers = itertools.count(1)
        with translation.override("vi"):
            self._categories = {value: str(label) for value, label in Beneficiary.Category.choices}

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("commune__province")

    def after_export(self, queryset, dataset, **kwargs):
        dataset.title = LIST_SHEET

    def dehydrate_number(self, person: Beneficiary) -> int:
        return next(self._numbers)

    def dehydrate_birth(self, person: Beneficiary) -> str:
        if person.birth_date:
            return person.birth_date.strftime("%d/%m/%Y")
        return str(person.birth_year)

    def dehydrate_sex(self, person: Beneficiary) -> str:
        return SEX_NAMES.get(person.sex, "")

    def dehydrate_ethnic_group(self, person: Beneficiary) -> str:
        return EthnicGroup(person.ethnic_group).label if person.ethnic_group else ""

    def dehydrate_category(self, person: Beneficiary) -> str:
        return self._categories.get(person.category, "")
