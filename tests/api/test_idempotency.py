"""Idempotency-Key: a retry replays the first answer; another body is 422; in progress, 409."""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from accounts.roles import Role
from api.models import ApiClient, IdempotentResponse
from beneficiaries.api import serializers
from beneficiaries.models import Beneficiary
from distributions.models import Item, Quota
from tests.factories import unit
from tests.worlds import two_provinces

from .conftest import Api, make_client

BASE = "/api/v1"
PERSON = {"full_name": "Lò Thị Mây", "birth_year": 1980, "sex": "F", "category": "poor"}


def person(**fields):
    return PERSON | {"commune": "02680"} | fields


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_response(api, world):
    first = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "k-1"})
    again = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] and again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Beneficiary.objects.filter(full_name="Lò Thị Mây").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(api, world):
    api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "k-2"})
    other = api("lao_cai").post(
        f"{BASE}/beneficiaries/", person(birth_year=1981), **{"Idempotency-Key": "k-2"}
    )
    assert other.status_code == 422
    assert other.json()["type"] == "idempotency_key_mismatch"
    assert Beneficiary.objects.filter(full_name="Lò Thị Mây").count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_client(api, world):
    """Two partners choosing the same key do not see each other's answers."""
    lao_cai = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "k"})
    head = api("head_office").post(
        f"{BASE}/beneficiaries/", person(full_name="Khác"), **{"Idempotency-Key": "k"}
    )
    assert lao_cai.status_code == head.status_code == 201
    assert lao_cai.json()["id"] != head.json()["id"]


@pytest.mark.django_db
def test_an_action_is_replayed_too(api, world):
    card = world["city_card"]
    url = f"{BASE}/items/{card.pk}/cancel/"
    first = api("lao_cai").post(url, {"reason": "Sai tên"}, **{"Idempotency-Key": "c-1"})
    again = api("lao_cai").post(url, {"reason": "Sai tên"}, **{"Idempotency-Key": "c-1"})
    assert first.status_code == again.status_code == 200
    # Without the key, the second cancellation is refused: the item is cancelled already.
    assert api("lao_cai").post(url, {"reason": "Sai tên"}).status_code == 400
    assert Quota.objects.get(pk=world["lao_cai_quota"].pk).cards_used == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed(api, world):
    bad = person(full_name="")
    first = api("lao_cai").post(f"{BASE}/beneficiaries/", bad, **{"Idempotency-Key": "b-1"})
    again = api("lao_cai").post(f"{BASE}/beneficiaries/", bad, **{"Idempotency-Key": "b-1"})
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotentResponse.objects.filter(key="b-1", status=400).exists()


@pytest.mark.django_db
def test_a_server_error_undoes_the_work_and_the_retry_runs_again(api, world, monkeypatch):
    """The work and the stored answer are one transaction: a crash between them leaves neither."""
    saved = serializers.beneficiary_save

    def save_then_crash(**arguments):
        saved(**arguments)
        raise RuntimeError("the server died after the work, before the answer")

    monkeypatch.setattr(serializers, "beneficiary_save", save_then_crash)
    with pytest.raises(RuntimeError):
        api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "s-1"})
    assert not Beneficiary.objects.filter(full_name="Lò Thị Mây").exists()
    assert not IdempotentResponse.objects.filter(key="s-1").exists()

    monkeypatch.setattr(serializers, "beneficiary_save", saved)
    retry = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "s-1"})
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Beneficiary.objects.filter(full_name="Lò Thị Mây").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "khóa-có-dấu"])
def test_a_malformed_key_is_400(api, world, key):
    response = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_while_the_first_request_runs_a_retry_gets_409_then_the_first_answer(
    committed_reference_data,
):
    """A real second request while the first waits on a locked quota row."""
    world = two_provinces()
    key = make_client(
        "Lào Cai",
        ApiClient.Organisation.PROVINCE_OFFICE,
        Role.PROVINCIAL_STAFF,
        province=unit("2025", "15"),
    )
    body = {
        "kind": "card",
        "beneficiary": world["city"].pk,
        "quota": world["lao_cai_quota"].pk,
        "pledge": world["lao_cai_pledge"].pk,
        "issued_on": "2024-01-16",
        "valid_from": "2024-02-01",
    }
    # Vàng Thị Mai has a card already: cancelled, so that a new one may be issued.
    Api(key).post(f"{BASE}/items/{world['city_card'].pk}/cancel/", {"reason": "In lại"})

    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    cursor = holder.cursor()
    cursor.execute("SELECT 1 FROM distributions_quota WHERE id = %s FOR UPDATE", [body["quota"]])
    first: dict = {}

    def send_first():
        first["response"] = Api(key).post(f"{BASE}/items/", body, **{"Idempotency-Key": "i-1"})
        connection.close()

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        # Wait until the first request (which holds the key) waits for the quota's row.
        probe = connections.create_connection("default")
        with probe.cursor() as waiting:
            for _attempt in range(400):
                waiting.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if waiting.fetchone()[0]:
                    break
                threading.Event().wait(0.05)
            else:
                pytest.fail("the first request never reached the locked quota")
        probe.close()
        during = Api(key).post(f"{BASE}/items/", body, **{"Idempotency-Key": "i-1"})
        assert during.status_code == 409
        assert during.json()["type"] == "idempotency_key_in_use"
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=30)
    assert first["response"].status_code == 201, first["response"].json()
    after = Api(key).post(f"{BASE}/items/", body, **{"Idempotency-Key": "i-1"})
    assert after.status_code == 201 and after.json() == first["response"].json()
    assert Item.objects.filter(beneficiary=world["city"], status="issued").count() == 1


@pytest.mark.django_db
def test_responses_older_than_the_ttl_are_pruned_and_their_key_runs_again(api, world, settings):
    api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "old"})
    IdempotentResponse.objects.filter(key="old").update(
        created_at=timezone.now() - settings.IDEMPOTENCY_TTL - datetime.timedelta(minutes=1)
    )
    out = io.StringIO()
    call_command("prune_idempotency_keys", stdout=out)
    assert out.getvalue().strip() == "1 stored responses deleted."
    again = api("lao_cai").post(f"{BASE}/beneficiaries/", person(), **{"Idempotency-Key": "old"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Beneficiary.objects.filter(full_name="Lò Thị Mây").count() == 2
