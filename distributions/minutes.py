"""Hand-over minutes (biên bản bàn giao): a print-ready page and an XLSX download.

The admin checks permissions and looks the hand-over up, then calls these views.
"""

import datetime
import io
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from accounts.models import User
from accounts.scope import scoped

from .models import Handover, Item

# What was handed over and not taken back: the items the minutes list.
_GIVEN = (Item.Status.ISSUED, Item.Status.DELIVERED)


@dataclass(frozen=True)
class MinutesRow:
    number: int
    full_name: str
    birth_year: int
    commune: str
    masked_personal_id: str
    kind: str
    item_number: str


@dataclass(frozen=True)
class Minutes:
    handover_id: int
    title: str
    held_on: datetime.date
    place: str
    plan_number: str
    plan_title: str
    officials: list[str]
    sponsors: list[str]
    rows: list[MinutesRow]
    cards: int
    books: int
    total_value: int


def handover_minutes(handover: Handover, viewer: User | None = None) -> Minutes:
    """Return what the minutes of ``handover`` show, in three queries.

    One for the event with its plan and place (the place's parents too, so that
    ``full_path`` costs nothing), one for the sponsors present, one for the items.
    Labels (kinds, sponsor names) are in the active language; with ``viewer``, only
    the people that viewer may see are listed.
    """
    handover = (
        Handover.objects.select_related("plan", "place__parent__parent")
        .prefetch_related("sponsors_present")
        .get(pk=handover.pk)
    )
    items = scoped(Item.objects.all(), viewer) if viewer is not None else Item.objects.all()
    items = (
        items.filter(handover=handover, status__in=_GIVEN)
        .select_related("beneficiary__commune")
        # The person's pk keeps the items of two namesakes apart.
        .order_by("beneficiary__search_name", "beneficiary_id", "kind", "pk")
    )
    rows, cards, books, total_value = [], 0, 0, 0
    for number, item in enumerate(items, start=1):
        person = item.beneficiary
        rows.append(
            MinutesRow(
                number=number,
                full_name=person.full_name,
                birth_year=person.birth_year,
                commune=person.commune.name,
                masked_personal_id=person.masked_personal_id,
                kind=item.get_kind_display(),
                item_number=item.number,
            )
        )
        if item.kind == Item.Kind.CARD:
            cards += 1
        else:
            books += 1
        total_value += item.value
    english = (get_language() or "").startswith("en")
    return Minutes(
        handover_id=handover.pk,
        title=handover.title,
        held_on=handover.held_on,
        place=handover.place.full_path,
        plan_number=handover.plan.number,
        plan_title=handover.plan.title,
        officials=[
            line.strip() for line in handover.officials_present.splitlines() if line.strip()
        ],
        sponsors=[
            (sponsor.name_en if english and sponsor.name_en else sponsor.name_vi)
            for sponsor in handover.sponsors_present.all()
        ],
        rows=rows,
        cards=cards,
        books=books,
        total_value=total_value,
    )


def minutes_page(request: HttpRequest, handover: Handover) -> HttpResponse:
    """Render the minutes as a standalone page that prints on A4."""
    return render(
        request,
        "distributions/handover_minutes.html",
        {
            "minutes": handover_minutes(handover, request.user),
            "xlsx_url": reverse("admin:distributions_handover_minutes_xlsx", args=[handover.pk]),
            "admin_url": reverse("admin:distributions_handover_change", args=[handover.pk]),
        },
    )


def _columns() -> list[tuple[str, int]]:
    """Return the XLSX table's headers, in the active language, and widths in characters."""
    return [
        (_("No."), 6),
        (_("Full name"), 28),
        (_("Year of birth"), 10),
        (_("Commune of residence"), 22),
        (_("Personal ID"), 16),
        (_("Kind"), 24),
        (_("Card or book number"), 18),
        (_("Signature"), 20),
    ]


def _as_text(sheet) -> None:
    """Keep every text cell text: openpyxl would store "=HYPERLINK(...)" as a formula.

    Names, officials and numbers are typed by people; none of them may run in Excel.
    """
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def minutes_xlsx(request: HttpRequest, handover: Handover) -> HttpResponse:
    """Return the minutes as an XLSX file, built in memory, with an empty signature column."""
    minutes = handover_minutes(handover, request.user)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Minutes")[:31]  # Excel's limit on sheet names
    columns = _columns()
    last_column = get_column_letter(len(columns))
    bold = Font(bold=True)

    # Header block: the agency on the left, the national motto on the right.
    sheet["A1"] = _("Vietnam Social Security").upper()
    sheet["A1"].font = bold
    sheet.merge_cells("A1:C1")
    sheet["E1"] = _("Socialist Republic of Vietnam").upper()
    sheet["E1"].font = bold
    sheet["E2"] = _("Independence - Freedom - Happiness")
    sheet["E2"].font = bold
    for cell in ("E1", "E2"):
        sheet.merge_cells(f"{cell}:{last_column}{cell[1:]}")
        sheet[cell].alignment = Alignment(horizontal="center")

    sheet["A4"] = _("HAND-OVER MINUTES OF SOCIAL-INSURANCE BOOKS AND HEALTH-INSURANCE CARDS")
    sheet["A4"].font = Font(bold=True, size=14)
    sheet["A4"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A4:{last_column}4")
    sheet["A5"] = minutes.title
    sheet["A5"].font = bold
    sheet["A5"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A5:{last_column}5")

    details = [
        (_("Date"), minutes.held_on.strftime("%d/%m/%Y")),
        (_("Place"), minutes.place),
        (_("Plan"), f"{minutes.plan_number} – {minutes.plan_title}"),
        (_("Officials present"), "; ".join(minutes.officials)),
        (_("Sponsors present"), ", ".join(minutes.sponsors)),
    ]
    row = 7
    for label, value in details:
        sheet.cell(row=row, column=1, value=f"{label}: {value}")
        sheet.merge_cells(f"A{row}:{last_column}{row}")
        row += 1

    row += 1
    header_row = row
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, (header, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=column, value=header)
        cell.font = bold
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    for entry in minutes.rows:
        row += 1
        values = [
            entry.number,
            entry.full_name,
            entry.birth_year,
            entry.commune,
            entry.masked_personal_id,
            entry.kind,
            entry.item_number,
            None,  # signed by hand on the printout
        ]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value).border = border
        # Room for a signature.
        sheet.row_dimensions[row].height = 30

    row += 1
    sheet.cell(row=row, column=2, value=_("Total")).font = bold
    for label, value, number_format in [
        (_("Health-insurance cards"), minutes.cards, "0"),
        (_("Social-insurance books"), minutes.books, "0"),
        (_("Total value (VND)"), minutes.total_value, "#,##0"),
    ]:
        row += 1
        sheet.cell(row=row, column=2, value=label)
        cell = sheet.cell(row=row, column=3, value=value)
        cell.number_format = number_format
        cell.font = bold

    # Print on A4, one page wide, the table header on every page.
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"

    _as_text(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="bien-ban-ban-giao-{minutes.handover_id}.xlsx"'
    )
    return response
