"""Who sees which figures, the tally kept in step with the items, and what bad filters do."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from beneficiaries.services import beneficiary_anonymise, beneficiary_save
from distributions.models import Item, ItemTally
from distributions.services import (
    CardDetails,
    item_cancel,
    item_deliver,
    item_issue,
    item_tally_differences,
    item_tally_rebuild,
    quota_set,
)
from tests.dashboards.pages import (
    assert_admin_lists_each_figure,
    body_rows,
    html_tables,
    number,
    row_of,
)
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_pledge,
    make_sponsor,
    make_user,
    unit,
)
from tests.worlds import two_provinces

pytestmark = pytest.mark.django_db

PAGES = ["overview", "sponsors", "timeline", "attention"]


@pytest.fixture
def world():
    return two_provinces()


def page(client, user, name, *args, status=200, **query):
    client.force_login(user)
    response = client.get(
        reverse(f"dashboards:{name}", args=args), query, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == status
    return response


def provinces(response) -> list[str]:
    return [row[0] for row in body_rows(html_tables(response.content)["provinces"])[:-1]]


def cards_issued(response, province: str) -> int:
    row = row_of(html_tables(response.content)["provinces"], province)
    return number(row["Health-insurance cards: Issued"]["text"])


def test_a_lao_cai_officer_sees_no_other_province(client, world):
    lao_cai = world["users"]["lao_cai"]
    assert provinces(page(client, lao_cai, "overview")) == ["Tỉnh Lào Cai"]
    assert cards_issued(page(client, lao_cai, "overview"), "Tỉnh Lào Cai") == 2
    page(client, lao_cai, "area", unit("2024", "01").pk, status=404)
    page(client, lao_cai, "commune", unit("2025", "00070").pk, status=404)
    sponsors = html_tables(page(client, lao_cai, "sponsors").content)["sponsors"]
    assert [row[0] for row in body_rows(sponsors)[:-1]] == ["Agribank"]
    # The province filter offers the 2024 provinces that today's Lào Cai took over only.
    choices = page(client, lao_cai, "overview").context["filters"].fields["province"].choices
    assert [label for _value, label in choices] == ["All provinces", "Tỉnh Lào Cai", "Tỉnh Yên Bái"]
    national = page(client, world["users"]["national"], "overview")
    assert provinces(national) == ["Thành phố Hà Nội", "Tỉnh Lào Cai"]


def test_commune_staff_count_their_communes_people_only(client, world):
    hop_thanh = world["users"]["commune"]
    response = page(client, hop_thanh, "overview")
    # Lương Thị Trúc lives in Hợp Thành; Vàng Thị Mai in another commune of the city.
    assert cards_issued(response, "Tỉnh Lào Cai") == 1
    page(client, hop_thanh, "commune", unit("2025", "02680").pk)
    page(client, hop_thanh, "commune", unit("2025", "02647").pk, status=404)


def test_a_sponsor_sees_what_its_pledges_paid_for(client, world):
    agribank = world["users"]["sponsor"]
    assert provinces(page(client, agribank, "overview")) == ["Tỉnh Lào Cai"]
    sponsors = html_tables(page(client, agribank, "sponsors").content)["sponsors"]
    assert [row[0] for row in body_rows(sponsors)[:-1]] == ["Agribank"]
    # Its role lists no items: the figures link nowhere, and no list of people is shown.
    response = page(client, agribank, "overview")
    assert "/admin/distributions/item/" not in response.content.decode()


def test_a_sponsor_paying_from_a_pledge_for_anywhere_is_named_in_a_province(client, world):
    """With a province chosen, only that province's pledges are listed; what a pledge for
    anywhere paid there still counts, under its sponsor's name."""
    post = make_sponsor("Vietnam Post")
    anywhere = make_pledge(world["plan"], post, cards=10, books=0)
    item_issue(
        beneficiary=make_beneficiary(),
        quota=world["truc_card"].quota,
        pledge=anywhere,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )
    national = world["users"]["national"]
    response = page(client, national, "sponsors", province=unit("2024", "10").pk)
    sponsors = html_tables(response.content)["sponsors"]
    post_row = row_of(sponsors, "Vietnam Post")
    assert number(post_row["Health-insurance cards: Issued"]["text"]) == 1
    assert post_row["Cards pledged"]["text"] == "0"  # its pledge is not Lào Cai's


def test_the_dashboards_need_their_permission_and_a_sign_in(client, world):
    nobody = make_user("khach")
    for name in PAGES:
        page(client, nobody, name, status=403)
    client.logout()
    response = client.get(reverse("dashboards:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_each_page_takes_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    lao_cai = world["users"]["lao_cai"]
    client.force_login(lao_cai)
    urls = [reverse(f"dashboards:{name}") for name in PAGES] + [
        reverse("dashboards:area", args=[unit("2024", "10").pk]),
        reverse("dashboards:commune", args=[unit("2025", "02680").pk]),
        reverse("dashboards:overview") + "?export=provinces",
    ]
    for url in urls:
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200


def test_the_tally_and_the_items_give_the_same_figures(client, world):
    national = world["users"]["national"]
    # A whole week (Monday to Sunday) is read from the tally; other days from the items.
    by_tally = page(client, national, "overview", **{"from": "2024-01-15", "to": "2024-01-21"})
    by_items = page(client, national, "overview", **{"from": "2024-01-16", "to": "2024-01-16"})
    for name in ("totals", "provinces"):
        tables = [html_tables(response.content)[name] for response in (by_tally, by_items)]
        assert body_rows(tables[0]) == body_rows(tables[1])
    assert cards_issued(by_tally, "Tỉnh Lào Cai") == 2


def test_the_tally_stays_in_step_with_every_write(world):
    assert item_tally_differences() == []
    item_deliver(item=world["city_card"], delivered_on=JAN_2024, method="post", actor=None)
    item_cancel(item=world["ha_noi_card"], reason="Người nhận đã có thẻ khác", actor=None)
    assert item_tally_differences() == []
    # One statement over many rows, outside the services.
    Item.objects.filter(status=Item.Status.DELIVERED).update(value=1)
    assert item_tally_differences() == []
    # A write that bypassed the triggers is found, and a rebuild repairs it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE distributions_itemtally SET items = items + 1")
    assert item_tally_differences() != []
    assert item_tally_rebuild() > 0
    assert item_tally_differences() == []


def test_cards_and_books_follow_their_recipient_to_a_new_commune(client, world):
    truc, card = world["truc"], world["truc_card"]
    assert Item.objects.get(pk=card.pk).commune_id == truc.commune_id  # set on issue
    truc.commune = unit("2025", "02647")
    beneficiary_save(beneficiary=truc, actor=None)
    assert Item.objects.get(pk=card.pk).commune_id == truc.commune_id
    national = world["users"]["national"]
    moved_to = html_tables(page(client, national, "commune", truc.commune_id).content)["summary"]
    assert number(row_of(moved_to, "Health-insurance cards")["Issued"]["text"]) == 2
    # An item given to another person, however it is written, takes that person's commune.
    other = make_beneficiary(commune=unit("2025", "00070"))
    Item.objects.filter(pk=card.pk).update(beneficiary=other)
    assert Item.objects.get(pk=card.pk).commune_id == other.commune_id


def test_a_filter_it_cannot_take_is_shown_and_left_out(client, world):
    national = world["users"]["national"]
    response = page(client, national, "overview", province="999999", to="not a day")
    errors = response.context["filters"].errors
    assert "province" in errors and "to" in errors
    assert provinces(response) == ["Thành phố Hà Nội", "Tỉnh Lào Cai"]
    response = page(client, national, "overview", **{"from": "2024-02-01", "to": "2024-01-01"})
    assert "to" in response.context["filters"].errors


def test_a_split_quota_and_a_moved_recipient_link_to_what_they_count(client, world):
    """A quota's line counts its own items, its sub-unit's line the rest; a recipient who
    moved to another province still counts where the quota was, and the admin agrees."""
    hop_thanh_quota = quota_set(
        plan=world["plan"], unit=unit("2024", "02680"), cards=10, books=0, actor=None
    )
    item_issue(
        beneficiary=make_beneficiary(),
        quota=hop_thanh_quota,
        pledge=world["truc_card"].pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )
    mai = world["city"]
    mai.commune = unit("2025", "00070")  # to Hà Nội
    beneficiary_save(beneficiary=mai, actor=None)
    lao_cai = world["users"]["lao_cai"]
    client.force_login(lao_cai)
    response = page(client, lao_cai, "area", unit("2024", "080").pk)
    quotas = html_tables(response.content)["quotas"]
    assert (
        number(row_of(quotas, "Thành phố Lào Cai")["Health-insurance cards: Issued"]["text"]) == 2
    )
    assert number(row_of(quotas, "Xã Hợp Thành")["Health-insurance cards: Issued"]["text"]) == 1
    communes = [row[0] for row in body_rows(html_tables(response.content)["communes"])]
    assert unit("2025", "00070").name in communes  # where Mai lives now
    assert assert_admin_lists_each_figure(client, response.content) >= 10
    for name in PAGES:
        assert_admin_lists_each_figure(client, page(client, lao_cai, name).content)


def test_commune_staff_follow_their_figures_to_the_admin(client, world):
    hop_thanh = world["users"]["commune"]
    for name in PAGES:
        response = page(client, hop_thanh, name)
        assert_admin_lists_each_figure(client, response.content)
        # No link to a province page they may not open.
        assert "/dashboards/area/" not in response.content.decode()


def test_hand_overs_count_what_the_filters_and_the_viewer_count(client, world):
    national = world["users"]["national"]
    hop_thanh = unit("2025", "02680").pk
    everyone = body_rows(
        html_tables(page(client, national, "commune", hop_thanh).content)["handovers"]
    )
    assert everyone[0][3:] == ["1", "0", "1"]  # Lương Thị Trúc's card, delivered there
    bidv = world["ha_noi_card"].pledge.sponsor
    others = page(client, national, "commune", hop_thanh, sponsor=bidv.pk)
    assert body_rows(html_tables(others.content)["handovers"])[0][3:] == ["0", "0", "0"]


def test_text_cells_never_run_as_formulas_in_excel(client, world):
    truc = world["truc"]
    truc.full_name = '=HYPERLINK("http://evil.example","Lương")'
    beneficiary_save(beneficiary=truc, actor=None)
    national = world["users"]["national"]
    response = page(client, national, "commune", unit("2025", "02680").pk, export="items")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=1)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


def test_people_without_an_id_link_to_the_same_people(client, world):
    national = world["users"]["national"]
    beneficiary_anonymise(beneficiary=world["ha_noi"], actor=None)
    response = page(client, national, "attention")
    without_id = html_tables(response.content)["without_id"]
    for row in without_id[1:]:
        cell = row[1]
        if cell["link"]:
            listed = client.get(cell["link"])
            assert listed.context["cl"].queryset.count() == number(cell["text"])


def test_emptying_the_items_empties_their_tally(world):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no check
        cursor.execute("TRUNCATE distributions_item CASCADE")
    assert not ItemTally.objects.exists()
    assert item_tally_differences() == []


def test_possible_duplicates_are_grouped_named_and_linked_to_the_same_people(client, world):
    commune = world["truc"].commune  # Lương Thị Trúc, born 1975
    for name in ["Lương Thị Trúc", "LUONG THI TRUC"]:  # folded alike: her group
        make_beneficiary(full_name=name, birth_year=1975, commune=commune)
    make_beneficiary(full_name="Sùng Mỷ Ánh", birth_year=1990, commune=commune)
    make_beneficiary(full_name="Sùng Mỷ Ánh", birth_year=1990, commune=commune)
    make_beneficiary(full_name="Sùng Mỷ Ánh", birth_year=1991, commune=commune)  # another year
    lao_cai = world["users"]["lao_cai"]
    response = page(client, lao_cai, "attention")
    rows = body_rows(html_tables(response.content)["duplicates"])
    assert [row[0] for row in rows] == ["LUONG THI TRUC", "Sùng Mỷ Ánh"]
    assert {row[2] for row in rows} == {commune.name}
    assert [row[3] for row in rows] == ["3", "2"]
    table = html_tables(response.content)["duplicates"]
    for row in table[1:]:
        listed = client.get(row[0]["link"])
        assert listed.context["cl"].queryset.count() == number(row[3]["text"])
