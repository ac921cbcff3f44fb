import datetime
import io
from dataclasses import dataclass

import openpyxl
import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from beneficiaries.models import Beneficiary
from distributions.minutes import handover_minutes
from distributions.models import Handover, Item, Plan, Pledge, Quota
from distributions.services import BookDetails, CardDetails, item_cancel, item_deliver, item_issue
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_handover,
    make_plan,
    make_pledge,
    make_quota,
    make_sponsor,
    unit,
)

pytestmark = pytest.mark.django_db

# A card starting in July 2024: 12 x 4.5% x 2,340,000.
CARD_FROM = datetime.date(2024, 7, 1)
CARD_VALUE = 1_263_600


@dataclass
class Event:
    plan: Plan
    quota: Quota
    pledge: Pledge
    handover: Handover


@pytest.fixture
def event() -> Event:
    plan = make_plan(number="4033/KH-BHXH", title="Kế hoạch trao tặng sổ BHXH, thẻ BHYT năm 2024")
    quota = make_quota(plan, unit("2024", "10"), cards=600, books=50)
    pledge = make_pledge(plan, make_sponsor("Agribank", name_en="Agribank Vietnam"), books=50)
    handover = make_handover(
        plan,
        title="Trao tặng sổ BHXH, thẻ BHYT tại xã Hợp Thành",
        # Blank lines and stray spaces, as typed into the admin.
        officials_present=(
            "Ông Nguyễn Văn A, Giám đốc BHXH tỉnh\n\n  Bà Trần Thị B, Chủ tịch UBND xã  \n"
        ),
    )
    handover.sponsors_present.add(pledge.sponsor)
    return Event(plan, quota, pledge, handover)


def person(full_name: str, personal_id: str | None = None) -> Beneficiary:
    # Female, born 1970: the 4th digit 1 and the 5th-6th digits 70 of the ID agree.
    return make_beneficiary(full_name=full_name, personal_id=personal_id)


def give(
    event: Event,
    beneficiary: Beneficiary,
    kind: str = Item.Kind.CARD,
    *,
    number: str = "",
    at_event: bool = True,
    delivered: bool = True,
) -> Item:
    details = (
        CardDetails(valid_from=CARD_FROM) if kind == Item.Kind.CARD else BookDetails(months_paid=12)
    )
    item = item_issue(
        beneficiary=beneficiary,
        quota=event.quota,
        pledge=event.pledge,
        details=details,
        issued_on=JAN_2024,
        number=number,
        handover=event.handover if at_event else None,
        actor=None,
    )
    if delivered:
        item = item_deliver(
            item=item,
            delivered_on=JAN_2024 if at_event else datetime.date(2024, 2, 1),
            method=(
                Item.DeliveryMethod.CEREMONY if at_event else Item.DeliveryMethod.PROVINCIAL_OFFICE
            ),
            actor=None,
        )
    return item


@pytest.fixture
def given(event: Event) -> dict[str, Item]:
    """Two cards and a book given at the event, and three items the minutes must leave out."""
    truc = person("Lương Thị Trúc", "010170001234")
    mai = person("Bàn Thị Mai", "010170005678")
    dung = person("Đỗ Thị Dung")
    items = {
        "truc_card": give(event, truc, number="GD4101234567890"),
        "mai_card": give(event, mai, number="GD4109876543210", delivered=False),
        "mai_book": give(event, mai, Item.Kind.BOOK, number="1012345678"),
        "dung_cancelled": give(event, dung),
        "later": give(event, person("An Thị Sau"), at_event=False),
    }
    item_cancel(item=items["dung_cancelled"], reason="Đã có thẻ BHYT khác", actor=None)
    return items


def test_the_minutes_describe_the_event(event):
    minutes = handover_minutes(event.handover)
    assert minutes.title == "Trao tặng sổ BHXH, thẻ BHYT tại xã Hợp Thành"
    assert minutes.held_on == JAN_2024
    assert minutes.place == "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai"
    assert (minutes.plan_number, minutes.plan_title) == (
        "4033/KH-BHXH",
        "Kế hoạch trao tặng sổ BHXH, thẻ BHYT năm 2024",
    )
    assert minutes.officials == [
        "Ông Nguyễn Văn A, Giám đốc BHXH tỉnh",
        "Bà Trần Thị B, Chủ tịch UBND xã",
    ]
    assert minutes.rows == []
    assert (minutes.cards, minutes.books, minutes.total_value) == (0, 0, 0)


@pytest.mark.parametrize(("language", "name"), [("vi", "Agribank"), ("en", "Agribank Vietnam")])
def test_the_minutes_name_sponsors_in_the_active_language(event, language, name):
    with translation.override(language):
        assert handover_minutes(event.handover).sponsors == [name]


def test_the_minutes_list_the_people_served_at_the_event_by_name_then_kind(event, given):
    rows = handover_minutes(event.handover).rows
    book, card = str(Item.Kind.BOOK.label), str(Item.Kind.CARD.label)
    assert [(row.number, row.full_name, row.kind, row.item_number) for row in rows] == [
        (1, "Bàn Thị Mai", book, "1012345678"),
        (2, "Bàn Thị Mai", card, "GD4109876543210"),
        (3, "Lương Thị Trúc", card, "GD4101234567890"),
    ]
    assert [row.masked_personal_id for row in rows] == [
        "********5678",
        "********5678",
        "********1234",
    ]
    assert {(row.birth_year, row.commune) for row in rows} == {(1970, "Xã Hợp Thành")}


def test_the_minutes_leave_out_cancelled_items_and_items_delivered_later(event, given):
    names = {row.full_name for row in handover_minutes(event.handover).rows}
    assert "Đỗ Thị Dung" not in names
    assert "An Thị Sau" not in names


def test_the_minutes_add_up_cards_books_and_value(event, given):
    minutes = handover_minutes(event.handover)
    assert (minutes.cards, minutes.books) == (2, 1)
    assert given["truc_card"].value == CARD_VALUE
    book_value = given["mai_book"].value
    assert book_value > 0
    assert minutes.total_value == 2 * CARD_VALUE + book_value


def test_the_minutes_take_the_same_few_queries_however_many_rows(
    event, given, django_assert_max_num_queries
):
    for n in range(10):
        give(event, person(f"Người Nhận {n}"))
    with django_assert_max_num_queries(3):
        minutes = handover_minutes(event.handover)
    assert len(minutes.rows) == 13


@pytest.mark.parametrize(("language", "expected"), [("vi", "1.263.600 ₫"), ("en", "1,263,600 VND")])
def test_money_is_written_the_way_each_language_writes_it(language, expected):
    with translation.override(language):
        rendered = Template("{% load money %}{{ amount|vnd }}").render(Context({"amount": 1263600}))
    assert rendered == expected


def page_url(handover: Handover) -> str:
    return reverse("admin:distributions_handover_minutes", args=[handover.pk])


def xlsx_url(handover: Handover) -> str:
    return reverse("admin:distributions_handover_minutes_xlsx", args=[handover.pk])


def test_the_minutes_page_lists_the_people_and_totals(admin_client, event, given):
    response = admin_client.get(page_url(event.handover))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert page.index("Bàn Thị Mai") < page.index("Lương Thị Trúc")
    assert "********1234" in page
    assert "010170001234" not in page
    assert "Đỗ Thị Dung" not in page and "An Thị Sau" not in page
    assert "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai" in page
    assert "16/01/2024" in page
    total = 2 * CARD_VALUE + given["mai_book"].value
    assert f"{total:,} ₫".replace(",", ".") in page
    assert xlsx_url(event.handover) in page
    # The print button works through a static script: the CSP allows no inline handler.
    assert 'data-action="print"' in page and "js/print.js" in page


def test_the_minutes_page_speaks_english_when_asked(admin_client, event, given):
    response = admin_client.get(page_url(event.handover), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "HAND-OVER MINUTES OF SOCIAL-INSURANCE BOOKS AND HEALTH-INSURANCE CARDS" in page
    assert f"{2 * CARD_VALUE + given['mai_book'].value:,} VND" in page


def test_the_minutes_download_as_a_spreadsheet_with_a_row_per_item(admin_client, event, given):
    response = admin_client.get(xlsx_url(event.handover), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        f'attachment; filename="bien-ban-ban-giao-{event.handover.pk}.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row[0] == "No.")
    assert values[header][-1] == "Signature"
    assert values[header + 1 : header + 4] == [
        [1, "Bàn Thị Mai", 1970, "Xã Hợp Thành", "********5678", "social-insurance book",
         "1012345678", None],
        [2, "Bàn Thị Mai", 1970, "Xã Hợp Thành", "********5678", "health-insurance card",
         "GD4109876543210", None],
        [3, "Lương Thị Trúc", 1970, "Xã Hợp Thành", "********1234", "health-insurance card",
         "GD4101234567890", None],
    ]  # fmt: skip
    totals = {row[1]: row[2] for row in values[header + 4 :] if row[1]}
    assert totals == {
        "Total": None,
        "Health-insurance cards": 2,
        "Social-insurance books": 1,
        "Total value (VND)": 2 * CARD_VALUE + given["mai_book"].value,
    }
    assert sheet.column_dimensions["B"].width == 28


def test_text_typed_by_people_stays_text_in_the_spreadsheet(admin_client, event):
    formula = '=HYPERLINK("http://example.com/x","Bấm vào đây")'
    give(event, person(formula), number="+GD4101234567890")
    event.handover.officials_present = "@SUM(A1:A2)\n-1+1"
    event.handover.save()
    response = admin_client.get(xlsx_url(event.handover))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value}
    for text in [formula, "+GD4101234567890"]:
        assert cells[text].data_type == "s"
    officials = next(cell for value, cell in cells.items() if "@SUM(A1:A2); -1+1" in str(value))
    assert officials.data_type == "s"
    assert not any(cell.data_type == "f" for cell in cells.values())
