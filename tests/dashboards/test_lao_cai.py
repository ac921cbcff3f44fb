"""The dashboards tell the Lào Cai case of the article: 600 cards and 50 books for the city,
45 and 10 handed over in Hợp Thành on 16 January 2024, the rest waiting for delivery."""

import datetime
import re

import pytest
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from accounts.roles import Role
from distributions.demo import demo_load
from distributions.models import Item
from reference.models import AdminUnit
from sponsors.models import Sponsor
from tests.dashboards.pages import (
    assert_admin_lists_each_figure,
    body_rows,
    html_tables,
    number,
    row_of,
    xlsx_rows,
)
from tests.factories import make_user, unit

pytestmark = pytest.mark.django_db

SEVEN_SPONSORS = ["Agribank", "BIDV", "MB", "PVI", "Vietcombank", "VietinBank", "Vietnam Post"]
# A card of 12 months in January 2024: 4.5% of the base salary of 1,800,000 VND, 12 times.
CARD_VALUE = 972_000


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo (Lào Cai and Hà Giang), loaded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo_load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def national(demo, client):
    client.force_login(make_user("tw", role=Role.NATIONAL_OFFICIAL))
    return client


def get(client, name, *args, language="en", **query):
    response = client.get(
        reverse(f"dashboards:{name}", args=args), query, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200, response.content[:500]
    return response


def lao_cai_2024() -> AdminUnit:
    return unit("2024", "10")


def figures_of(row: dict, kind: str) -> dict[str, int]:
    group = {"card": "Health-insurance cards", "book": "Social-insurance books"}[kind]
    return {
        name: number(row[f"{group}: {name}"]["text"])
        for name in (
            "Allocated",
            "Issued",
            "Delivered",
            "Pending delivery",
            "Cancelled or returned",
        )
        if f"{group}: {name}" in row
    }


def test_the_overview_gives_lao_cai_its_600_cards_and_50_books(national):
    tables = html_tables(get(national, "overview").content)
    lao_cai = row_of(tables["provinces"], "Tỉnh Lào Cai")
    assert figures_of(lao_cai, "card") == {
        "Allocated": 600,
        "Issued": 600,
        "Delivered": 45,
        "Pending delivery": 555,
        "Cancelled or returned": 0,
    }
    assert figures_of(lao_cai, "book") == {
        "Allocated": 50,
        "Issued": 50,
        "Delivered": 10,
        "Pending delivery": 40,
        "Cancelled or returned": 0,
    }
    assert lao_cai["Health-insurance cards: Issued / allocated"]["text"] == "100.0 %"
    books_value = Item.objects.filter(province__code="15", kind=Item.Kind.BOOK).aggregate(
        total=Sum("value")
    )["total"]
    assert number(lao_cai["Value (VND)"]["text"]) == 600 * CARD_VALUE + books_value
    # Hà Giang, the demo's second province, and the total of both.
    ha_giang = row_of(tables["provinces"], "Tỉnh Hà Giang")
    assert figures_of(ha_giang, "card")["Delivered"] == 90  # 30 at the ceremony, 60 by communes
    total = row_of(tables["provinces"], "Total")
    assert figures_of(total, "card")["Issued"] == 750
    assert figures_of(total, "book")["Allocated"] == 70


def test_the_totals_compare_with_the_plans_target(national):
    plan = Item.objects.first().plan
    plan.target_cards, plan.target_books = 1000, 100
    plan.save()
    totals = html_tables(get(national, "overview").content)["totals"]
    cards = row_of(totals, "Health-insurance cards")
    assert number(cards["Target"]["text"]) == 1000
    assert number(cards["Allocated"]["text"]) == 800
    assert cards["Allocated / target"]["text"] == "80.0 %"
    assert cards["Delivered / allocated"]["text"] == f"{135 / 800 * 100:.1f} %"


def test_a_province_lists_its_quotas_and_the_communes_its_people_live_in(national):
    tables = html_tables(get(national, "area", lao_cai_2024().pk).content)
    city = row_of(tables["quotas"], "Thành phố Lào Cai")
    assert figures_of(city, "card")["Allocated"] == 600
    assert figures_of(city, "book")["Pending delivery"] == 40
    hop_thanh = row_of(tables["communes"], "Xã Hợp Thành")
    assert hop_thanh["Commune (today)"]["link"].startswith(
        reverse("dashboards:commune", args=[unit("2025", "02680").pk])
    )
    # The communes share out the city's 600 cards and 50 books.
    total = row_of(tables["communes"], "Total")
    assert figures_of(total, "card")["Issued"] == 600
    assert figures_of(total, "book")["Issued"] == 50


def test_hop_thanh_shows_the_hand_over_of_16_january_2024_and_its_items(national):
    hop_thanh = unit("2025", "02680")
    tables = html_tables(get(national, "commune", hop_thanh.pk).content)
    [event] = body_rows(tables["handovers"])[0:1]
    assert event[0] == "16/01/2024"
    assert "Hợp Thành" in event[1]
    assert event[3:] == ["45", "10", "55"]
    living_here = Item.objects.filter(beneficiary__commune=hop_thanh).count()
    summary = body_rows(tables["summary"])
    assert sum(number(row[1]) for row in summary) == living_here
    # The list of items masks ID numbers; its first page holds 100 of them.
    items = body_rows(tables["items"])
    assert len(items) == min(living_here, 100)
    ids = [row[2] for row in items if row[2] not in ("", "–")]
    assert ids and all(re.fullmatch(r"\*{8}\d{4}", masked) for masked in ids)


def test_the_sponsors_page_shows_each_of_lao_cais_seven_sponsors(national):
    tables = html_tables(get(national, "sponsors", province=lao_cai_2024().pk).content)
    names = [row[0] for row in body_rows(tables["sponsors"])[:-1]]
    assert names == SEVEN_SPONSORS
    agribank = row_of(tables["sponsors"], "Agribank")
    assert number(agribank["Cards pledged"]["text"]) == 100
    assert number(agribank["Books pledged"]["text"]) == 10
    assert figures_of(agribank, "card")["Issued"] == 100
    pvi = row_of(tables["sponsors"], "PVI")
    assert number(pvi["Cards pledged"]["text"]) == 50
    assert number(pvi["Books pledged"]["text"]) == 0
    total = row_of(tables["sponsors"], "Total")
    assert figures_of(total, "card") == {
        "Issued": 600,
        "Delivered": 45,
        "Pending delivery": 555,
        "Cancelled or returned": 0,
    }
    received = Sponsor.objects.filter(pledges__unit__code="080").aggregate(
        total=Sum("pledges__amount_received")
    )["total"]
    assert number(total["Amount received (VND)"]["text"]) == received
    by_province = body_rows(tables["by_province"])
    assert {row[1] for row in by_province[:-1]} == {"Tỉnh Lào Cai"}


def test_the_timeline_counts_the_weeks_of_issue_and_delivery(national):
    rows = body_rows(html_tables(get(national, "timeline").content)["weeks"])
    # Both hand-overs fell in the week starting Monday 15 January 2024.
    first = rows[0]
    assert first[0] == "15/01/2024"
    cards_issued, cards_delivered = number(first[1]), number(first[2])
    assert (cards_issued, cards_delivered) == (750, 45 + 30)
    # The running totals end on what the overview shows.
    last = rows[-1]
    assert [number(text) for text in (last[3], last[4], last[7], last[8])] == [750, 135, 70, 20]


def test_the_period_filter_keeps_the_items_issued_in_it(national):
    tables = html_tables(
        get(national, "overview", **{"from": "2024-01-17", "to": "2024-01-31"}).content
    )
    # Only Hà Giang's items (18 January) were issued in that period.
    assert [row[0] for row in body_rows(tables["provinces"])] == [
        "Tỉnh Hà Giang",
        "Tỉnh Lào Cai",
        "Total",
    ]
    assert figures_of(row_of(tables["provinces"], "Tỉnh Lào Cai"), "card")["Issued"] == 0
    assert figures_of(row_of(tables["provinces"], "Tỉnh Hà Giang"), "card")["Issued"] == 150


def test_needs_attention_lists_what_waits_too_long(national):
    tables = html_tables(get(national, "attention").content)
    late = row_of(tables["overdue"], "Tỉnh Lào Cai")
    assert number(late["Cards"]["text"]) == 555
    assert number(late["Books"]["text"]) == 40
    assert late["Issued since"]["text"] == "16/01/2024"
    # Today is long after the plan's end (31/12/2024): the idle quotas are listed, and
    # every quota of the demo is more than half used, so none is.
    assert "Every quota is at least half used." in get(national, "attention").content.decode()
    without_id = row_of(tables["without_id"], "Total")
    from beneficiaries.models import Beneficiary

    assert (
        number(without_id["People"]["text"])
        == Beneficiary.objects.filter(personal_id__isnull=True).count()
    )


def test_every_linked_figure_is_the_number_of_rows_the_admin_lists(national):
    """Follow each figure's link to the admin's list of cards and books, filtered alike."""
    pages = [
        get(national, "overview"),
        get(national, "area", lao_cai_2024().pk),
        get(national, "area", unit("2024", "080").pk),
        get(national, "commune", unit("2025", "02680").pk),
        get(national, "sponsors"),
        get(national, "sponsors", province=lao_cai_2024().pk, **{"from": "2024-01-16"}),
        get(national, "attention"),
    ]
    # Each table's first links and its total: the admin's list pages are slow to render.
    checked = sum(assert_admin_lists_each_figure(national, page.content, 4) for page in pages)
    assert checked > 30


def test_exports_hold_the_cells_of_their_tables(national):
    pages = [
        ("overview", ()),
        ("area", (lao_cai_2024().pk,)),
        ("commune", (unit("2025", "02680").pk,)),
        ("sponsors", ()),
        ("timeline", ()),
        ("attention", ()),
    ]
    exported = 0
    for name, args in pages:
        tables = html_tables(get(national, name, *args).content)
        for table_name, table in tables.items():
            if len(table) < 2:
                continue  # an empty table offers no file
            response = get(national, name, *args, export=table_name)
            assert response["Content-Type"].startswith("application/vnd.openxmlformats")
            rows = xlsx_rows(response.content)
            html_rows = body_rows(table)
            if table_name == "items":
                # The page shows 100 items; the file has all of them.
                assert (
                    len(rows) - 1
                    == Item.objects.filter(beneficiary__commune=unit("2025", "02680")).count()
                )
                rows = rows[: len(html_rows) + 1]
            assert len(rows) - 1 == len(html_rows), table_name
            for cells, texts in zip(rows[1:], html_rows, strict=True):
                for value, text in zip(cells, texts, strict=True):
                    assert _same(value, text), (table_name, value, text)
            exported += 1
    assert exported >= 10


def _same(value, text: str) -> bool:
    """Whether an exported value is what the page shows."""
    if value is None:
        return text in ("", "–")
    if isinstance(value, bool):
        return str(value) == text
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%d/%m/%Y") == text
    if text.endswith(" %"):
        return f"{value * 100:.1f} %" == text
    if isinstance(value, int) and text and text[0].isdigit() and "/" not in text:
        return value == number(text)
    return str(value) == text


def test_figures_follow_the_language(national):
    vi = html_tables(get(national, "overview", language="vi").content)["provinces"]
    en = html_tables(get(national, "overview", language="en").content)["provinces"]
    assert "972.000" in vi[-1][-1]["text"] or "." in vi[-1][-1]["text"]
    assert vi[-1][-1]["text"].replace(".", ",") == en[-1][-1]["text"]
    assert vi[0][1]["text"] == "Thẻ BHYT" and en[0][1]["text"] == "Health-insurance cards"
