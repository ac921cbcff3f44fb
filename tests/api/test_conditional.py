"""ETag on recipients and items; If-Match required to change a recipient (412, 428)."""

import pytest

from beneficiaries.models import Beneficiary

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def test_a_recipient_has_an_etag_and_answers_304_when_unchanged(api, world):
    url = f"{BASE}/beneficiaries/{world['truc'].pk}/"
    first = api("lao_cai").get(url)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    again = api("lao_cai").get(url, **{"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_a_change_needs_if_match(api, world):
    url = f"{BASE}/beneficiaries/{world['truc'].pk}/"
    response = api("lao_cai")("PATCH", url, {"phone": "0912345678"})
    assert response.status_code == 428
    assert response.json()["type"] == "precondition_required"
    assert Beneficiary.objects.get(pk=world["truc"].pk).phone == ""


def test_a_change_with_the_current_etag_succeeds_and_gives_a_new_one(api, world):
    url = f"{BASE}/beneficiaries/{world['truc'].pk}/"
    etag = api("lao_cai").get(url)["ETag"]
    response = api("lao_cai")("PATCH", url, {"phone": "0912345678"}, **{"If-Match": etag})
    assert response.status_code == 200, response.json()
    assert response["ETag"] != etag
    assert Beneficiary.objects.get(pk=world["truc"].pk).phone == "0912345678"


def test_a_change_with_a_stale_etag_is_412_and_changes_nothing(api, world):
    url = f"{BASE}/beneficiaries/{world['truc'].pk}/"
    etag = api("lao_cai").get(url)["ETag"]
    api("head_office")("PATCH", url, {"notes": "Hộ nghèo 2024"}, **{"If-Match": etag})
    stale = api("lao_cai")("PATCH", url, {"phone": "0912345678"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["type"] == "precondition_failed"
    person = Beneficiary.objects.get(pk=world["truc"].pk)
    assert (person.notes, person.phone) == ("Hộ nghèo 2024", "")


def test_put_replaces_the_recipient_with_if_match(api, world):
    url = f"{BASE}/beneficiaries/{world['city'].pk}/"
    etag = api("lao_cai").get(url)["ETag"]
    body = {
        "full_name": "Vàng Thị Mai",
        "birth_year": 1971,
        "sex": "F",
        "category": "near_poor",
        "commune": "02647",
    }
    response = api("lao_cai")("PUT", url, body, **{"If-Match": etag})
    assert response.status_code == 200, response.json()
    assert Beneficiary.objects.get(pk=world["city"].pk).birth_year == 1971


def test_an_item_action_with_a_stale_etag_is_412(api, world):
    card = world["city_card"]
    etag = api("lao_cai").get(f"{BASE}/items/{card.pk}/")["ETag"]
    api("lao_cai").post(
        f"{BASE}/items/{card.pk}/deliver/", {"delivered_on": "2024-02-01", "method": "commune"}
    )
    late = api("lao_cai").post(
        f"{BASE}/items/{card.pk}/cancel/", {"reason": "Sai"}, **{"If-Match": etag}
    )
    assert late.status_code == 412
