"""API clients and keys: hashed, shown once, rotated, revoked, expiring, bound to addresses."""

import datetime
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from api.models import ApiClient, ApiKey
from api.services import (
    api_client_create,
    api_client_save,
    api_key_issue,
    api_key_revoke,
    api_key_rotate,
)
from audit.models import ApiKeyEvent
from tests.factories import unit

from .conftest import Api

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"


def lao_cai_client(**fields) -> ApiClient:
    return api_client_create(
        name="Lào Cai",
        organisation=ApiClient.Organisation.PROVINCE_OFFICE,
        role=Role.PROVINCIAL_STAFF,
        province=unit("2025", "15"),
        scopes=["read"],
        actor=None,
        **fields,
    )


def test_the_secret_is_stored_only_hashed(world):
    key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in stored.hashed_key and secret.split(".")[1] not in str(stored.pk)
    assert stored.hashed_key.startswith("sha512$$")
    assert Api(secret).get(PLANS).status_code == 200


def test_the_clients_user_has_its_role_and_province_and_cannot_sign_in(world):
    client = lao_cai_client()
    user = client.user
    assert [group.name for group in user.groups.all()] == [Role.PROVINCIAL_STAFF.value]
    assert [a.unit.code for a in user.assignments.all()] == ["15"]
    assert not user.has_usable_password() and not user.is_staff


def test_a_wrong_or_revoked_key_is_401(world):
    key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    assert Api(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get(PLANS).status_code == 401
    assert Api("nonsense").get(PLANS).status_code == 401
    api_key_revoke(key=key, actor=None)
    response = Api(secret).get(PLANS)
    assert response.status_code == 401
    assert response.json()["type"] == "authentication_failed"


def test_rotation_without_overlap_ends_the_old_key_at_once(world):
    old, old_secret = api_key_issue(client=lao_cai_client(), actor=None)
    new, new_secret = api_key_rotate(key=old, actor=None)
    assert Api(old_secret).get(PLANS).status_code == 401
    assert Api(new_secret).get(PLANS).status_code == 200


def test_rotation_with_overlap_keeps_the_old_key_for_a_while(world):
    old, old_secret = api_key_issue(client=lao_cai_client(), actor=None)
    _new, new_secret = api_key_rotate(key=old, overlap=datetime.timedelta(seconds=1), actor=None)
    assert Api(old_secret).get(PLANS).status_code == 200
    assert Api(new_secret).get(PLANS).status_code == 200
    time.sleep(1.1)
    assert Api(old_secret).get(PLANS).status_code == 401
    assert Api(new_secret).get(PLANS).status_code == 200


def test_an_expired_or_switched_off_client_is_refused(world):
    client = lao_cai_client(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    _key, secret = api_key_issue(client=client, actor=None)
    assert Api(secret).get(PLANS).json()["detail"] == "This API key has expired."
    client.expires_on = None
    api_client_save(client=client, actor=None)
    assert Api(secret).get(PLANS).status_code == 200
    client.is_active = False
    api_client_save(client=client, actor=None)
    assert Api(secret).get(PLANS).json()["detail"] == "This API client has been switched off."


def test_allowed_networks(world):
    client = lao_cai_client(allowed_networks=["203.0.113.0/24", "2001:db8::/32"])
    _key, secret = api_key_issue(client=client, actor=None)
    outside = Api(secret).get(PLANS)  # the test client comes from 127.0.0.1
    assert outside.status_code == 403
    assert "127.0.0.1" in outside.json()["detail"]
    inside = Api(secret)
    inside.client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    assert inside.get(PLANS).status_code == 200


def test_last_use_is_recorded_once_a_minute(world):
    key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    Api(secret).get(PLANS)
    first = ApiKey.objects.get(pk=key.pk)
    assert first.last_used_at is not None and first.last_used_ip == "127.0.0.1"
    Api(secret).get(PLANS)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first.last_used_at


def test_a_client_of_a_sponsor_must_name_it(world):
    with pytest.raises(ValidationError) as refused:
        api_client_create(
            name="Ngân hàng",
            organisation=ApiClient.Organisation.SPONSOR,
            role=Role.NATIONAL_OFFICIAL,
            scopes=["read"],
            actor=None,
        )
    assert set(refused.value.message_dict) == {"role", "sponsor"}


def test_throttling_answers_429_with_retry_after(world, settings):
    # Per day: the four requests cannot straddle the end of a period.
    settings.API_THROTTLE_RATE = "3/day"
    _key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    statuses = [Api(secret).get(PLANS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = Api(secret).get(PLANS)
    assert refused.json()["type"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 86_400


def test_the_admin_creates_a_client_and_shows_the_key_once(world, admin_client):
    response = admin_client.post(
        reverse("admin:api_apiclient_add"),
        {
            "name": "Bưu điện tỉnh Lào Cai",
            "organisation": "province_office",
            "role": Role.PROVINCIAL_STAFF.value,
            "province": unit("2025", "15").pk,
            "scopes": ["read", "items:write"],
            "allowed_networks": "",
            "is_active": "on",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    secret = response.context["issued"][0][1]
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    client = ApiClient.objects.get(name="Bưu điện tỉnh Lào Cai")
    assert client.scopes == ["read", "items:write"]
    assert Api(secret).get(PLANS).status_code == 200
    page = admin_client.get(reverse("admin:api_apiclient_change", args=[client.pk]))
    assert secret not in page.content.decode()


def test_the_admin_rotates_and_revokes_keys(world, admin_client):
    key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    url = reverse("admin:api_apikey_changelist")
    rotated = admin_client.post(url, {"action": "rotate_now", "_selected_action": [key.pk]})
    new_secret = rotated.context["issued"][0][1]
    assert Api(secret).get(PLANS).status_code == 401
    assert Api(new_secret).get(PLANS).status_code == 200
    new_key = ApiKey.objects.get(prefix=new_secret.split(".")[0])
    admin_client.post(url, {"action": "revoke", "_selected_action": [new_key.pk]})
    assert Api(new_secret).get(PLANS).status_code == 401


def test_a_replacement_key_ends_when_the_old_one_was_to_end(world):
    ends = timezone.now() + datetime.timedelta(days=30)
    old, _secret = api_key_issue(client=lao_cai_client(), expires_at=ends, actor=None)
    new, _new_secret = api_key_rotate(key=old, actor=None)
    assert ApiKey.objects.get(pk=new.pk).expiry_date == ends


def test_a_province_office_works_for_a_province_of_today(world):
    for area in (unit("2025", "02680"), unit("2024", "10")):  # a commune; a province of 2024
        with pytest.raises(ValidationError) as refused:
            api_client_create(
                name=f"Sai {area.pk}",
                organisation=ApiClient.Organisation.PROVINCE_OFFICE,
                role=Role.PROVINCIAL_STAFF,
                province=area,
                scopes=["read"],
                actor=None,
            )
        assert set(refused.value.message_dict) == {"province"}


def test_issuing_and_revoking_keys_are_in_the_audit_trail_without_the_hash(world, admin_client):
    key, secret = api_key_issue(client=lao_cai_client(), actor=None)
    admin_client.post(
        reverse("admin:api_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    events = list(ApiKeyEvent.objects.filter(pgh_obj_id=key.pk).order_by("pgh_id"))
    assert [(e.pgh_label, e.revoked) for e in events] == [("insert", False), ("update", True)]
    assert events[1].pgh_context["username"] == "admin"
    assert not hasattr(events[0], "hashed_key")
