"""Two API clients racing for the last card of a quota or a pledge: exactly one wins."""

import pytest

from accounts.roles import Role
from api.models import ApiClient
from distributions.models import Item, Pledge, Quota
from tests.distributions.test_races import race
from tests.factories import make_beneficiary, make_plan, make_pledge, make_quota, unit

from .conftest import Api, card_body, make_client


@pytest.mark.parametrize("limit", ["quota", "pledge"])
def test_exactly_one_of_two_clients_gets_the_last_place(committed_reference_data, limit):
    plan = make_plan()
    quota = make_quota(plan, unit("2024", "080"), 1 if limit == "quota" else 10, 0)
    pledge = make_pledge(plan, cards=1 if limit == "pledge" else 10, books=0)
    people = [make_beneficiary(), make_beneficiary()]
    keys = [
        make_client(
            name,
            ApiClient.Organisation.PROVINCE_OFFICE,
            Role.PROVINCIAL_STAFF,
            province=unit("2025", "15"),
        )
        for name in ("Lào Cai 1", "Lào Cai 2")
    ]

    def issue(key, person):
        body = card_body(person.pk, quota.pk, pledge.pk)
        return lambda: Api(key).post("/api/v1/items/", body)

    responses = race([issue(key, person) for key, person in zip(keys, people, strict=True)])

    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["type"] == "quota_exhausted"
    assert ("quota" if limit == "quota" else "pledge") in refused["detail"]
    assert Item.objects.filter(quota=quota).count() == 1
    assert Quota.objects.get(pk=quota.pk).cards_used == 1
    assert Pledge.objects.get(pk=pledge.pk).cards_funded == 1
