"""Each resource answers its contract: fields, filters, pagination, writes through the services."""

import pytest

from beneficiaries.models import Beneficiary
from distributions.models import Quota
from distributions.services import CardDetails, item_issue
from tests.api.conftest import card_body
from tests.factories import JAN_2024, make_beneficiary, make_pledge, make_user, unit

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def new_person(**fields) -> dict:
    return {
        "full_name": "Lò Thị Mây",
        "birth_year": 1980,
        "sex": "F",
        "category": Beneficiary.Category.POOR,
        "commune": "02680",
    } | fields


def test_a_province_client_lists_its_recipients_by_cursor_without_counting(api, world):
    response = api("lao_cai").get(f"{BASE}/beneficiaries/?page_size=1")
    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"next", "previous", "results"}  # no "count"
    assert len(page["results"]) == 1
    seen = [page["results"][0]["id"]]
    while page["next"]:
        page = api("lao_cai").get(page["next"]).json()
        seen += [person["id"] for person in page["results"]]
    assert seen == sorted([world["truc"].pk, world["city"].pk])


def test_recipient_detail_masks_the_id_and_never_returns_it(api, world):
    person = api("lao_cai").get(f"{BASE}/beneficiaries/{world['truc'].pk}/").json()
    assert person["full_name"] == "Lương Thị Trúc"
    assert person["personal_id_masked"] == "********0123"
    assert "personal_id" not in person
    assert person["commune"] == "02680" and person["province"] == "15"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=luong thi truc", ["truc"]),
        # Whole words in their order, the last one by its beginning (one rule with the admin).
        ("search=thi truc", ["truc"]),
        ("search=TRÚC", ["truc"]),
        ("search=thi", ["truc", "city"]),
        ("search=truc thi", []),
        ("search=uong", []),
        ("search=010175000123", ["truc"]),
        ("commune=02647", ["city"]),
        ("province=15", ["truc", "city"]),
        ("has_card=true", ["truc", "city", "ha_noi"]),
        ("has_card=false", []),
        ("category=poor", ["truc", "city", "ha_noi"]),
    ],
)
def test_recipient_filters(api, world, query, expected):
    response = api("head_office").get(f"{BASE}/beneficiaries/?{query}")
    assert response.status_code == 200, response.json()
    assert [p["id"] for p in response.json()["results"]] == sorted(world[k].pk for k in expected)


def test_recipients_of_a_plan(api, world):
    url = f"{BASE}/beneficiaries/?plan={world['plan'].pk}"
    ids = {p["id"] for p in api("head_office").get(url).json()["results"]}
    assert ids == {world["truc"].pk, world["city"].pk, world["ha_noi"].pk}


def test_creating_a_recipient_goes_through_the_service(api, world):
    response = api("lao_cai").post(f"{BASE}/beneficiaries/", new_person(personal_id="010180000456"))
    assert response.status_code == 201, response.json()
    person = Beneficiary.objects.get(pk=response.json()["id"])
    assert person.search_name == "lo thi may" and person.province.code == "15"
    assert response["Location"].endswith(f"/beneficiaries/{person.pk}/")
    assert response["ETag"]


def test_a_recipient_outside_the_clients_province_is_refused(api, world):
    response = api("ha_noi").post(f"{BASE}/beneficiaries/", new_person())
    assert response.status_code == 403
    assert response.json()["type"] == "out_of_scope"
    assert not Beneficiary.objects.filter(full_name="Lò Thị Mây").exists()


def test_bulk_create_reports_each_item(api, world):
    items = [
        new_person(full_name="Người Một", personal_id="010180000456"),
        new_person(full_name="Trùng CCCD", personal_id="010175000123"),  # Trúc's ID
        new_person(full_name="", sex="X"),
        new_person(full_name="Người Hai", personal_id="010180000456"),  # as item 0
        new_person(full_name="Người Ba", commune="00070"),  # Hà Nội: not Lao Cai's
    ]
    response = api("lao_cai").post(f"{BASE}/beneficiaries/bulk/", {"items": items})
    assert response.status_code == 200, response.json()
    body = response.json()
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [
        (0, "created"),
        (1, "existing"),
        (2, "rejected"),
        (3, "existing"),
        (4, "rejected"),
    ]
    assert body["results"][1]["id"] == world["truc"].pk
    assert body["results"][3]["id"] == body["results"][0]["id"]
    assert set(body["results"][2]["errors"]) == {"full_name", "sex"}
    assert body["results"][4]["errors"]["commune"]
    assert (body["created"], body["existing"], body["rejected"]) == (1, 2, 2)
    assert Beneficiary.objects.filter(full_name="Người Một").count() == 1


def test_bulk_create_takes_at_most_1000(api, world):
    response = api("lao_cai").post(f"{BASE}/beneficiaries/bulk/", {"items": [new_person()] * 1001})
    assert response.status_code == 400
    assert "items" in response.json()["errors"]


def test_issuing_a_card_and_delivering_it(api, world):
    person = api("lao_cai").post(f"{BASE}/beneficiaries/", new_person()).json()
    issued = api("lao_cai").post(
        f"{BASE}/items/",
        card_body(person["id"], world["lao_cai_quota"].pk, world["lao_cai_pledge"].pk),
    )
    assert issued.status_code == 201, issued.json()
    item = issued.json()
    # 12 months x 4.5% x the base salary of January 2024 (1,800,000 VND).
    assert item["status"] == "issued" and item["value"] == 972_000
    delivered = api("lao_cai").post(
        f"{BASE}/items/{item['id']}/deliver/",
        {"delivered_on": "2024-01-20", "method": "post", "delivered_by": "Bưu điện"},
        **{"If-Match": issued["ETag"]},
    )
    assert delivered.status_code == 200, delivered.json()
    assert delivered.json()["status"] == "delivered"
    quota = Quota.objects.get(pk=world["lao_cai_quota"].pk)
    assert (quota.cards_used, quota.cards_delivered) == (3, 2)


def test_cancelling_an_item_frees_its_place(api, world):
    card = world["city_card"]
    response = api("lao_cai").post(f"{BASE}/items/{card.pk}/cancel/", {"reason": "Sai tên"})
    assert response.status_code == 200, response.json()
    assert Quota.objects.get(pk=world["lao_cai_quota"].pk).cards_used == 1


def test_a_card_needs_its_first_day(api, world):
    response = api("lao_cai").post(
        f"{BASE}/items/",
        {
            "kind": "card",
            "beneficiary": world["city"].pk,
            "quota": world["lao_cai_quota"].pk,
            "pledge": world["lao_cai_pledge"].pk,
            "issued_on": "2024-01-16",
        },
    )
    assert response.status_code == 400
    assert "valid_from" in response.json()["errors"]


def test_creating_a_handover(api, world):
    response = api("lao_cai").post(
        f"{BASE}/handovers/",
        {
            "plan": world["plan"].pk,
            "held_on": "2024-02-01",
            "place": world["event"].place_id,
            "title": "Trao thẻ đợt 2",
            "sponsors_present": [world["lao_cai_pledge"].sponsor_id],
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["sponsors_present"] == [world["lao_cai_pledge"].sponsor_id]


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("plans/", 1),
        ("quotas/", 1),
        ("pledges/", 1),
        ("handovers/", 1),
        ("sponsors/", 2),
        ("items/", 2),
        ("admin-units/?edition=2025&level=1", 1),
    ],
)
def test_a_province_client_reads_only_its_province(api, world, path, count):
    response = api("lao_cai").get(f"{BASE}/{path}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == count


def test_admin_units_are_found_by_name_without_diacritics(api, world):
    for term in ("hop thanh", "Xã Hợp Thành", "HỢP THÀNH"):
        response = api("head_office").get(f"{BASE}/admin-units/?edition=2025&search={term}")
        units = response.json()["results"]
        assert "02680" in [u["code"] for u in units]
        assert all("Hợp Thành" in u["name"] for u in units)


def test_plan_stats_add_up_the_items(api, world):
    stats = api("head_office").get(f"{BASE}/stats/plans/{world['plan'].pk}/").json()
    value = world["truc_card"].value
    assert stats["totals"]["cards"] == {
        "target": None,
        "allocated": 700,
        "issued": 3,
        "delivered": 1,
        "value": 3 * value,
    }
    lao_cai = next(row for row in stats["units"] if row["unit"]["code"] == "080")
    assert lao_cai["cards"]["quota"] == 600 and lao_cai["cards"]["issued"] == 2
    assert lao_cai["cards"]["delivered_value"] == value
    own = api("lao_cai").get(f"{BASE}/stats/plans/{world['plan'].pk}/").json()
    assert [row["unit"]["code"] for row in own["units"]] == ["080"]
    assert own["totals"]["cards"]["issued"] == 2


def test_a_sponsor_sees_what_its_pledges_funded(api, world):
    agribank = world["lao_cai_pledge"].sponsor
    stats = api("sponsor").get(f"{BASE}/stats/sponsors/{agribank.pk}/").json()
    assert stats["totals"]["cards"] == 2 and stats["totals"]["delivered"] == 1
    assert stats["pledges"][0]["by_province"][0]["province"]["code"] == "15"
    other = world["ha_noi_pledge"].sponsor
    assert api("sponsor").get(f"{BASE}/stats/sponsors/{other.pk}/").status_code == 404


def test_stats_of_one_plan_only(api, world):
    agribank = world["lao_cai_pledge"].sponsor
    url = f"{BASE}/stats/sponsors/{agribank.pk}/?plan={world['plan'].pk + 1000}"
    assert api("sponsor").get(url).json()["pledges"] == []
    bad = api("sponsor").get(f"{BASE}/stats/sponsors/{agribank.pk}/?plan=abc")
    assert bad.status_code == 400 and "plan" in bad.json()["errors"]


def test_dates_far_away_are_refused(api, world):
    response = api("lao_cai").post(
        f"{BASE}/beneficiaries/", new_person(birth_date="9999-12-31", birth_year=None)
    )
    assert response.status_code == 400
    assert "birth_date" in response.json()["errors"]


def test_a_list_row_is_a_summary_with_the_id_masked(api, world):
    row = api("lao_cai").get(f"{BASE}/beneficiaries/?search=luong thi truc").json()["results"][0]
    assert row == {
        "id": world["truc"].pk,
        "full_name": "Lương Thị Trúc",
        "birth_year": 1975,
        "sex": "F",
        "personal_id_masked": "********0123",
        "commune": "02680",
        "province": "15",
        "category": "poor",
        "anonymised": False,
        "updated_at": row["updated_at"],
    }


def test_a_province_sees_a_national_pledges_items_in_its_province_only(api, world):
    agribank = world["lao_cai_pledge"].sponsor
    national = make_pledge(world["plan"], agribank, cards=10, books=0)
    person = make_beneficiary(full_name="Đỗ Văn Nam", commune=unit("2025", "00070"))
    item_issue(
        beneficiary=person,
        quota=world["ha_noi_quota"],
        pledge=national,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )
    url = f"{BASE}/stats/sponsors/{agribank.pk}/?plan={world['plan'].pk}"
    seen_by = {kind: api(kind).get(url).json() for kind in ("lao_cai", "ha_noi", "sponsor")}
    rows = {
        kind: [
            (row["province"]["code"], row["issued"])
            for pledge in stats["pledges"]
            if pledge["id"] == national.pk
            for row in pledge["by_province"]
        ]
        for kind, stats in seen_by.items()
    }
    assert rows == {"lao_cai": [], "ha_noi": [("01", 1)], "sponsor": [("01", 1)]}


def test_without_the_personal_data_permission_no_sensitive_field_filter_or_write(world, client):
    viewer = make_user(
        "xem",
        unit("2025", "15"),
        codes=["beneficiaries.view_beneficiary", "beneficiaries.add_beneficiary"],
    )
    client.force_login(viewer)
    row = client.get(f"{BASE}/beneficiaries/").json()["results"][0]
    assert "category" not in row and "personal_id_masked" not in row
    refused = client.get(f"{BASE}/beneficiaries/?category=poor")
    assert refused.status_code == 400 and "category" in refused.json()["errors"]
    assert (
        client.post(
            f"{BASE}/beneficiaries/", new_person(), content_type="application/json"
        ).status_code
        == 403
    )
