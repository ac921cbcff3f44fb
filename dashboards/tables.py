"""Tables of figures: one description gives the HTML table, its chart and its XLSX file.

So the file a user downloads holds exactly the cells the page shows, in the
same order, as numbers and dates a spreadsheet can sum.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from beneficiaries.imports.workbooks import set_text
from distributions.templatetags.money import grouped

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """A column: its heading, how to read a row's value, and how to show it."""

    title: str
    value: Callable[[Any], Any]
    format: str = "text"  # text, count, vnd, share (0..1), date
    group: str = ""  # a heading above several columns: "Health-insurance cards"
    link: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Cell:
    value: Any
    text: str
    numeric: bool
    link: str | None = None


def formatted(value: Any, kind: str) -> str:
    """Return ``value`` as the page shows it, in the active language."""
    if value is None:
        return "–"
    if kind in ("count", "vnd"):
        return grouped(value)
    if kind == "share":
        return f"{formats.number_format(round(value * 100, 1), 1)} %"
    if kind == "date":
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


@dataclass
class Chart:
    """A chart drawn from a table's columns (Chart.js, from the page's own static files)."""

    label: Column
    series: list[Column]
    kind: str = "bar"  # bar, line


@dataclass
class Table:
    name: str  # the export's name in the URL: ?export=<name>
    title: str
    columns: list[Column]
    rows: list[Any]
    total: Any = None
    chart: Chart | None = None
    note: str = ""
    page: Any = None  # a long list's page (django.core.paginator.Page)
    empty: str = field(default_factory=lambda: _("Nothing to show for these filters."))

    @property
    def groups(self) -> list[tuple[str, int]]:
        """Return the heading groups with the number of columns each spans."""
        spans: list[tuple[str, int]] = []
        for column in self.columns:
            if spans and spans[-1][0] == column.group:
                spans[-1] = (column.group, spans[-1][1] + 1)
            else:
                spans.append((column.group, 1))
        return spans

    @property
    def wide(self) -> bool:
        """Whether the table needs the page's width: its chart goes above it, not beside."""
        return len(self.columns) > 7

    @property
    def grouped(self) -> bool:
        return any(column.group for column in self.columns)

    def _cells(self, row: Any, links: bool) -> list[Cell]:
        cells = []
        for column in self.columns:
            value = column.value(row)
            cells.append(
                Cell(
                    value=value,
                    text=formatted(value, column.format),
                    numeric=column.format != "text",
                    link=column.link(row) if links and column.link and value else None,
                )
            )
        return cells

    @property
    def body(self) -> list[list[Cell]]:
        return [self._cells(row, links=True) for row in self.rows]

    @property
    def footer(self) -> list[Cell] | None:
        return None if self.total is None else self._cells(self.total, links=True)

    def chart_data(self) -> dict | None:
        """Return the chart as Chart.js reads it: labels and one dataset per series."""
        if self.chart is None or not self.rows:
            return None
        return {
            "type": self.chart.kind,
            "labels": [str(self.chart.label.value(row)) for row in self.rows],
            "datasets": [
                {
                    "label": f"{column.group}: {column.title}" if column.group else column.title,
                    "data": [column.value(row) or 0 for row in self.rows],
                }
                for column in self.chart.series
            ],
        }

    def xlsx(self, filename: str) -> HttpResponse:
        """Return the table as an Excel workbook: headings, then values as numbers and dates."""
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = self.title[:31]  # Excel's limit
        # As the page writes them: the group above, the title capitalised.
        headings = [
            f"{column.group}: {capfirst(column.title)}" if column.group else capfirst(column.title)
            for column in self.columns
        ]
        for index, heading in enumerate(headings, start=1):
            cell = sheet.cell(row=1, column=index)
            set_text(cell, heading)
            cell.font = Font(bold=True)
        rows = [*self.rows, *([] if self.total is None else [self.total])]
        for row_index, row in enumerate(rows, start=2):
            for index, column in enumerate(self.columns, start=1):
                cell = sheet.cell(row=row_index, column=index)
                value = column.value(row)
                if column.format == "text" and value is not None:
                    set_text(cell, value)  # names typed by people never run as formulas
                else:
                    cell.value = value
        for index, column in enumerate(self.columns, start=1):
            letter = get_column_letter(index)
            number_format = {
                "count": "#,##0",
                "vnd": "#,##0",
                "share": "0.0%",
                "date": "dd/mm/yyyy",
            }.get(column.format)
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
            width = max(len(headings[index - 1]), 10) if column.format != "text" else 30
            sheet.column_dimensions[letter].width = min(width, 40)
        sheet.freeze_panes = "A2"
        content = io.BytesIO()
        workbook.save(content)
        response = HttpResponse(content.getvalue(), content_type=XLSX_TYPE)
        name = slugify(f"{filename}-{self.name}-{timezone.localdate():%Y-%m-%d}")
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
