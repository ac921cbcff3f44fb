"""The export of cards and books from the admin list: a report, masked, scoped like the list."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import CalamineWorkbook

from accounts.roles import Role
from distributions.models import Item
from distributions.services import BookDetails, CardDetails, item_deliver, item_issue
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_handover,
    make_plan,
    make_pledge,
    make_quota,
    make_sponsor,
    make_user,
    unit,
)

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("admin:distributions_item_export")
CHANGELIST_URL = reverse("admin:distributions_item_changelist")
XLSX, CSV = "0", "1"
TRUC_ID = "010175000123"
HEADERS = [
    "Recipient",
    "Personal ID",
    "Commune",
    "Kind",
    "Card or book number",
    "Quota area",
    "Plan",
    "Pledge",
    "Sponsor",
    "Hand-over date",
    "Hand-over place",
    "Status",
    "Value (VND)",
    "Issued on",
    "Delivered on",
]


@pytest.fixture
def world():
    """Ms. Trúc's card, given at the Hợp Thành hand-over, and book; a Hà Nội card."""
    plan = make_plan(number="4033/KH-BHXH")
    lao_cai_quota = make_quota(plan, unit("2024", "080"), 600, 50)
    ha_noi_quota = make_quota(plan, unit("2024", "01"), 100, 10)
    agribank = make_sponsor("Agribank", name_vi="Ngân hàng Nông nghiệp", name_en="Agribank Ltd")
    lao_cai_pledge = make_pledge(plan, agribank, unit=unit("2024", "080"))
    ha_noi_pledge = make_pledge(plan, make_sponsor("BIDV"), unit=unit("2024", "01"))
    truc = make_beneficiary(full_name="Lương Thị Trúc", birth_year=1975, personal_id=TRUC_ID)
    card = item_issue(
        beneficiary=truc,
        quota=lao_cai_quota,
        pledge=lao_cai_pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        handover=make_handover(plan),
        number="GD4101012345678",
        actor=None,
    )
    item_deliver(item=card, delivered_on=JAN_2024, method="ceremony", actor=None)
    book = item_issue(
        beneficiary=truc,
        quota=lao_cai_quota,
        pledge=lao_cai_pledge,
        details=BookDetails(months_paid=12),
        issued_on=JAN_2024,
        actor=None,
    )
    item_issue(
        beneficiary=make_beneficiary(full_name="Nguyễn Văn Hà", commune=unit("2025", "00070")),
        quota=ha_noi_quota,
        pledge=ha_noi_pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )
    users = {
        "national": make_user("tw", role=Role.NATIONAL_OFFICIAL),
        "lao_cai": make_user("laocai", unit("2025", "15"), role=Role.PROVINCIAL_STAFF),
        "sponsor": make_user("nhataitro", role=Role.SPONSOR_VIEWER, sponsor=agribank),
    }
    return {"users": users, "card": card, "book": book}


def export(client, user, file_format=XLSX, language="en", query=""):
    client.force_login(user)
    return client.post(
        EXPORT_URL + query,
        {"format": file_format, "resource": "0"},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def xlsx_rows(response) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    return workbook.get_sheet_by_index(0).to_python()


def test_one_row_per_item_with_the_masked_id_and_what_paid_for_it(client, world):
    response = export(client, world["users"]["national"], query="?status__exact=delivered")
    assert response.status_code == 200
    header, *rows = xlsx_rows(response)
    assert header == HEADERS
    card = world["card"]
    [row] = rows
    assert row == [
        "Lương Thị Trúc",
        "********0123",
        "Xã Hợp Thành",
        "health-insurance card",
        "GD4101012345678",
        "Thành phố Lào Cai",
        "4033/KH-BHXH",
        "Agribank – 4033/KH-BHXH",
        "Agribank Ltd",
        "16/01/2024",
        "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai",
        "delivered",
        card.value,
        "16/01/2024",
        "16/01/2024",
    ]
    assert card.value > 0
    assert TRUC_ID.encode() not in response.content


def test_labels_and_names_follow_the_users_language(client, world):
    rows = xlsx_rows(
        export(client, world["users"]["national"], language="vi", query="?kind__exact=book")
    )
    [book] = rows[1:]
    assert (book[3], book[8], book[11]) == ("sổ BHXH", "Ngân hàng Nông nghiệp", "đã cấp")
    assert book[9:11] == ["", ""]  # not handed over at a ceremony
    assert book[14] == ""


def test_the_csv_has_a_bom_and_the_same_columns(client, world):
    response = export(client, world["users"]["national"], CSV, query="?kind__exact=book")
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, row = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    assert header == HEADERS
    assert row[0] == "Lương Thị Trúc" and row[12] == str(world["book"].value)
    assert row[13] == "16/01/2024"


def test_a_provincial_user_exports_only_their_provinces_items(client, world):
    rows = xlsx_rows(export(client, world["users"]["lao_cai"]))[1:]
    assert sorted(row[0] for row in rows) == ["Lương Thị Trúc", "Lương Thị Trúc"]
    everything = xlsx_rows(export(client, world["users"]["national"]))[1:]
    assert len(everything) == Item.objects.count() == 3


def test_the_search_of_the_list_narrows_the_export(client, world):
    rows = xlsx_rows(export(client, world["users"]["national"], query="?q=nguyen+van"))[1:]
    assert [row[0] for row in rows] == ["Nguyễn Văn Hà"]


def test_who_may_not_view_items_cannot_export_them(client, world):
    sponsor = world["users"]["sponsor"]
    assert export(client, sponsor).status_code == 403
    client.force_login(world["users"]["lao_cai"])
    assert f'href="{EXPORT_URL}?"' in client.get(CHANGELIST_URL).content.decode()
    assert client.get(EXPORT_URL, HTTP_ACCEPT_LANGUAGE="vi").status_code == 200


def test_the_export_costs_the_same_queries_whatever_the_number_of_items(client, world):
    national = world["users"]["national"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert export(client, national).status_code == 200
        return len(captured)

    queries()  # the first request of a session also reads the user's permissions
    few = queries()
    card = world["card"]
    for _n in range(5):
        item_issue(
            beneficiary=make_beneficiary(),
            quota=card.quota,
            pledge=card.pledge,
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            handover=card.handover,
            actor=None,
        )
    assert queries() == few
