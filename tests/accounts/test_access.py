"""Who may see and change what: one table of (user, page, method) -> status, and what leaks."""

import json

import pytest
from django.urls import reverse

from distributions.models import Item
from distributions.services import CardDetails, item_issue
from tests.admin_forms import change_form_data
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    unit,
)
from tests.worlds import two_provinces

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return two_provinces()


def change(model: str, key: str):
    return lambda w: reverse(f"admin:{model}_change", args=[w[key].pk])


def page(name: str, key: str | None = None):
    return lambda w: reverse(f"admin:{name}", args=[w[key].pk] if key else [])


# The users: national official, Lao Cai provincial staff, Hà Nội provincial staff,
# Hợp Thành commune staff, Agribank's sponsor viewer.
USERS = ["national", "lao_cai", "other", "commune", "sponsor"]
TABLE = [
    # (what, URL, expected status per user in USERS order)
    ("recipients", page("beneficiaries_beneficiary_changelist"), [200, 200, 200, 200, 403]),
    ("Trúc", change("beneficiaries_beneficiary", "truc"), [200, 200, 404, 200, 403]),
    (
        "a Lao Cai City recipient",
        change("beneficiaries_beneficiary", "city"),
        [200, 200, 404, 404, 403],
    ),
    (
        "a Hà Nội recipient",
        change("beneficiaries_beneficiary", "ha_noi"),
        [200, 404, 200, 404, 403],
    ),
    ("add a recipient", page("beneficiaries_beneficiary_add"), [200, 200, 200, 200, 403]),
    (
        "Trúc's full ID",
        page("beneficiaries_beneficiary_personal_id", "truc"),
        [200, 200, 404, 200, 403],
    ),
    (
        "Trúc's data",
        page("beneficiaries_beneficiary_personal_data", "truc"),
        [200, 200, 404, 200, 403],
    ),
    (
        "the Hà Nội recipient's data",
        page("beneficiaries_beneficiary_personal_data", "ha_noi"),
        [200, 404, 200, 404, 403],
    ),
    ("cards and books", page("distributions_item_changelist"), [200, 200, 200, 200, 403]),
    ("Trúc's card", change("distributions_item", "truc_card"), [200, 200, 404, 200, 403]),
    ("the Hà Nội card", change("distributions_item", "ha_noi_card"), [200, 404, 200, 404, 403]),
    ("issue a card", page("distributions_item_add"), [200, 200, 200, 200, 403]),
    ("hand-overs", page("distributions_handover_changelist"), [200, 200, 200, 200, 403]),
    (
        "the Hợp Thành hand-over",
        change("distributions_handover", "event"),
        [200, 200, 404, 200, 403],
    ),
    ("its minutes", page("distributions_handover_minutes", "event"), [200, 200, 404, 200, 403]),
    ("its XLSX", page("distributions_handover_minutes_xlsx", "event"), [200, 200, 404, 200, 403]),
    ("quotas", page("distributions_quota_changelist"), [200, 200, 200, 200, 403]),
    (
        "Lao Cai City's quota",
        change("distributions_quota", "lao_cai_quota"),
        [200, 200, 404, 200, 403],
    ),
    ("Hà Nội's quota", change("distributions_quota", "ha_noi_quota"), [200, 404, 200, 404, 403]),
    ("pledges", page("distributions_pledge_changelist"), [200, 200, 200, 200, 200]),
    (
        "Agribank's pledge",
        change("distributions_pledge", "lao_cai_pledge"),
        [200, 200, 404, 200, 200],
    ),
    ("BIDV's pledge", change("distributions_pledge", "ha_noi_pledge"), [200, 404, 200, 404, 404]),
    ("plans", page("distributions_plan_changelist"), [200, 200, 200, 200, 200]),
    ("the plan", change("distributions_plan", "plan"), [200, 200, 200, 200, 200]),
    ("add a plan", page("distributions_plan_add"), [200, 403, 403, 403, 403]),
    ("users", page("accounts_user_changelist"), [403, 403, 403, 403, 403]),
    ("rates", page("reference_rate_changelist"), [200, 200, 200, 200, 403]),
]


@pytest.mark.parametrize("user_index", range(len(USERS)), ids=USERS)
@pytest.mark.parametrize(("what", "url", "statuses"), TABLE, ids=[row[0] for row in TABLE])
def test_each_user_reaches_exactly_their_pages(client, world, user_index, what, url, statuses):
    client.force_login(world["users"][USERS[user_index]])
    response = client.get(url(world))
    assert response.status_code == statuses[user_index], (USERS[user_index], what)
    if response.status_code in (403, 404):
        # A refusal tells nothing about the record it refused.
        for detail in ["Lương Thị Trúc", "Vàng Thị Mai", "Nguyễn Văn Hà", "010175000123"]:
            assert detail not in response.content.decode()


def names_in(response) -> str:
    if response.headers["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


@pytest.mark.parametrize(
    ("user", "visible", "hidden"),
    [
        ("lao_cai", ["Lương Thị Trúc", "Vàng Thị Mai"], ["Nguyễn Văn Hà"]),
        ("other", ["Nguyễn Văn Hà"], ["Lương Thị Trúc", "Vàng Thị Mai"]),
        ("commune", ["Lương Thị Trúc"], ["Vàng Thị Mai", "Nguyễn Văn Hà"]),
        ("national", ["Lương Thị Trúc", "Vàng Thị Mai", "Nguyễn Văn Hà"], []),
    ],
)
def test_lists_search_and_autocomplete_show_only_the_users_people(
    client, world, user, visible, hidden
):
    client.force_login(world["users"][user])
    listings = [
        client.get(reverse("admin:beneficiaries_beneficiary_changelist")),
        client.get(reverse("admin:distributions_item_changelist")),
        client.get(
            "/admin/autocomplete/",
            {"app_label": "distributions", "model_name": "item", "field_name": "beneficiary"},
        ),
    ]
    search = client.get(reverse("admin:beneficiaries_beneficiary_changelist"), {"q": "van"})
    for response in [*listings, search]:
        assert response.status_code == 200
        for name in hidden:
            assert name not in names_in(response)
    for response in listings:
        for name in visible:
            assert name in names_in(response)


def test_the_minutes_list_only_the_people_a_commune_may_see(client, world):
    other_commune_person = make_beneficiary(full_name="Giàng A Lử", commune=unit("2025", "02647"))
    card = item_issue(
        beneficiary=other_commune_person,
        quota=world["lao_cai_quota"],
        pledge=world["lao_cai_pledge"],
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        handover=world["event"],
        actor=None,
    )
    assert card.pk
    url = reverse("admin:distributions_handover_minutes", args=[world["event"].pk])
    client.force_login(world["users"]["commune"])
    assert "Giàng A Lử" not in client.get(url).content.decode()
    client.force_login(world["users"]["lao_cai"])
    assert "Giàng A Lử" in client.get(url).content.decode()


def test_a_bulk_action_never_touches_another_provinces_items(client, world):
    client.force_login(world["users"]["other"])
    client.post(
        reverse("admin:distributions_item_changelist"),
        {
            "action": "deliver",
            "_selected_action": [world["city_card"].pk],
            "apply": "1",
            "delivered_on": "01/02/2024",
            "method": "commune",
        },
    )
    assert Item.objects.get(pk=world["city_card"].pk).status == Item.Status.ISSUED


def test_staff_cannot_record_a_recipient_outside_their_area(client, world):
    client.force_login(world["users"]["lao_cai"])
    url = reverse("admin:beneficiaries_beneficiary_add")
    data = change_form_data(client.get(url)) | {
        "full_name": "Người Hà Nội",
        "birth_year": 1980,
        "sex": "M",
        "category": "poor",
        "commune": unit("2025", "00070").pk,
    }
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not world["truc"].__class__.objects.filter(full_name="Người Hà Nội").exists()


def test_the_province_filter_offers_only_the_users_provinces(client, world):
    client.force_login(world["users"]["lao_cai"])
    response = client.get(reverse("admin:beneficiaries_beneficiary_changelist"))
    provinces = [
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "province"
    ]
    assert [label for _pk, label in provinces[0].lookup_choices] == ["Tỉnh Lào Cai (2025)"]


def test_a_sponsor_viewer_sees_counts_and_amounts_but_no_person(client, world):
    client.force_login(world["users"]["sponsor"])
    response = client.get(reverse("admin:distributions_pledge_changelist"))
    content = response.content.decode()
    assert "Agribank" in content and "BIDV" not in content
    for person in ["Lương Thị Trúc", "Vàng Thị Mai", "Nguyễn Văn Hà", "010175000123"]:
        assert person not in content


def test_services_refuse_work_outside_the_actors_areas(world):
    from distributions.services import OutOfScope, quota_set

    other = world["users"]["other"]
    with pytest.raises(OutOfScope):
        item_issue(
            beneficiary=world["city"],
            quota=world["lao_cai_quota"],
            pledge=world["lao_cai_pledge"],
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            actor=other,
        )
    with pytest.raises(OutOfScope):
        quota_set(plan=world["plan"], unit=unit("2024", "02680"), cards=5, books=0, actor=other)


def test_provincial_staff_split_their_quota_but_do_not_set_the_plans(client, world):
    from distributions.models import Quota
    from distributions.services import quota_set

    lao_cai = world["users"]["lao_cai"]
    hop_thanh = quota_set(
        plan=world["plan"], unit=unit("2024", "02680"), cards=45, books=10, actor=lao_cai
    )
    assert hop_thanh.parent == world["lao_cai_quota"]
    with pytest.raises(Exception, match="national office sets the quotas"):
        # Old Yên Bái, now part of Lào Cai: in the area, but a quota of the plan itself.
        quota_set(plan=world["plan"], unit=unit("2024", "15"), cards=100, books=0, actor=lao_cai)
    client.force_login(lao_cai)
    response = client.post(
        reverse("admin:distributions_quota_add"),
        {"plan": world["plan"].pk, "unit": unit("2024", "02647").pk, "cards": 10, "books": 0},
    )
    assert response.status_code == 302
    assert Quota.objects.get(plan=world["plan"], unit=unit("2024", "02647")).province.code == "15"


def test_the_address_picker_offers_only_communes_of_the_users_area(client, world):
    client.force_login(world["users"]["commune"])
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "beneficiaries",
            "model_name": "beneficiary",
            "field_name": "commune",
            "term": "",
        },
    )
    assert [result["text"] for result in response.json()["results"]] == ["Xã Hợp Thành"]


def test_a_card_goes_only_to_someone_living_in_the_quotas_area(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="outside the area of this quota"):
        item_issue(
            beneficiary=make_beneficiary(full_name="Người Hà Nội", commune=unit("2025", "00070")),
            quota=world["lao_cai_quota"],
            pledge=world["lao_cai_pledge"],
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            actor=None,
        )


def test_commune_staff_write_only_at_commune_level(world):
    from distributions.services import OutOfScope, quota_set

    commune = world["users"]["commune"]
    with pytest.raises(OutOfScope):
        quota_set(plan=world["plan"], unit=unit("2024", "080"), cards=700, books=50, actor=commune)
    with pytest.raises(OutOfScope):
        # Another commune of the same city.
        quota_set(plan=world["plan"], unit=unit("2024", "02647"), cards=1, books=0, actor=commune)
    hop_thanh = quota_set(
        plan=world["plan"], unit=unit("2024", "02680"), cards=5, books=0, actor=commune
    )
    assert hop_thanh.parent == world["lao_cai_quota"]


def test_staff_of_one_province_cannot_change_a_recipient_of_another(world):
    from beneficiaries.services import beneficiary_save
    from distributions.services import OutOfScope

    person = world["ha_noi"]
    person.commune = unit("2025", "02680")  # moved into Lao Cai by someone in Lao Cai
    with pytest.raises(OutOfScope):
        beneficiary_save(beneficiary=person, actor=world["users"]["lao_cai"])
