"""A hundred partner requests for the last fifty places, on a real server with four workers.

tests/api/test_races.py races two clients in one process; here the requests go
over HTTP to gunicorn's worker processes, each with its own connection to
PostgreSQL, so only the row locks of ``item_issue`` and the idempotency
transaction stand between them.  Then every request is sent again with its
``Idempotency-Key``: each gets its first answer back and nothing changes.
"""

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.roles import Role
from api.models import ApiClient, IdempotentResponse
from distributions.models import Item, Pledge, Quota
from tests.api.conftest import card_body, make_client
from tests.factories import make_beneficiary, make_plan, make_pledge, make_quota, unit

from .gunicorn_server import Gunicorn, gunicorn, production_env
from .postgres import database_url

REQUESTS = 100
PLACES = 50
THREADS = 32
WORKERS = 4
# Generous: on a loaded 2-core machine a queued request may wait for the three before it.
REQUEST_TIMEOUT_S = 60


@dataclass
class Answer:
    status: int
    headers: Message
    body: dict


def post(server: Gunicorn, path: str, headers: dict, body: bytes) -> Answer:
    request = urllib.request.Request(server.base + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return Answer(response.status, response.headers, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, json.loads(error.read()))


def send_at_once(server: Gunicorn, requests: list[tuple[dict, bytes]]) -> list[Answer]:
    """POST every (headers, body) to /api/v1/items/ from ``THREADS`` threads, released together."""
    go = threading.Event()

    def send(headers: dict, body: bytes) -> Answer:
        go.wait()
        return post(server, "/api/v1/items/", headers, body)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(send, headers, body) for headers, body in requests]
        go.set()
        return [future.result() for future in futures]


@pytest.mark.parametrize("limit", ["quota", "pledge"])
def test_a_hundred_requests_for_fifty_places_on_four_workers(
    committed_reference_data, tmp_path, limit
):
    plan = make_plan()
    quota = make_quota(plan, unit("2024", "080"), PLACES if limit == "quota" else 1000, 0)
    pledge = make_pledge(plan, cards=PLACES if limit == "pledge" else 1000, books=0)
    people = [make_beneficiary() for _ in range(REQUESTS)]
    key = make_client(
        "Lào Cai",
        ApiClient.Organisation.PROVINCE_OFFICE,
        Role.PROVINCIAL_STAFF,
        scopes=[ApiClient.Scope.READ, ApiClient.Scope.ITEMS_WRITE],
        province=unit("2025", "15"),
    )
    headers = {
        "Authorization": f"Api-Key {key}",
        "Accept": "application/json",
        "Accept-Language": "en",
    }
    requests = []
    for person in people:
        body = card_body(person.pk, quota.pk, pledge.pk)
        request_headers = {
            **headers,
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        requests.append((request_headers, json.dumps(body).encode()))

    # gunicorn as in production, on this test's database; ready once the API answers.
    env = production_env(database_url(connection.settings_dict["NAME"]))
    with gunicorn(
        tmp_path,
        env,
        workers=WORKERS,
        ready_path="/api/v1/plans/",
        ready_headers=headers,
        args=("--graceful-timeout", "10"),
    ) as server:
        first = send_at_once(server, requests)
        statuses = Counter(answer.status for answer in first)
        assert statuses == {201: PLACES, 409: REQUESTS - PLACES}, (statuses, server.log_tail())
        refused = [answer.body for answer in first if answer.status == 409]
        assert {body["type"] for body in refused} == {"quota_exhausted"}, refused[:3]
        assert all(limit in body["detail"] for body in refused), refused[:3]
        assert not [answer for answer in first if answer.headers["Idempotent-Replayed"]]

        items = Item.objects.filter(quota=quota)
        issued = {answer.body["id"] for answer in first if answer.status == 201}
        assert set(items.values_list("pk", flat=True)) == issued
        assert len(set(items.values_list("beneficiary", flat=True))) == PLACES
        counters = _counters(quota, pledge)
        assert counters["items"] == PLACES
        assert (counters["cards_used"], counters["cards_funded"]) == (PLACES, PLACES)
        assert counters["value_funded"] == counters["value_of_items"]
        assert (counters["quota_left"] if limit == "quota" else counters["pledge_left"]) == 0

        again = send_at_once(server, requests)
        for index, (answer, replay) in enumerate(zip(first, again, strict=True)):
            assert replay.headers["Idempotent-Replayed"] == "true", (index, replay.status)
            assert (replay.status, replay.body) == (answer.status, answer.body), index
            for name in ("Location", "ETag"):
                assert replay.headers[name] == answer.headers[name], (index, name)

        # Every worker process took part: the locks were contended across processes.
        assert server.pids_that_served("POST", "/api/v1/items/") == server.workers()

    assert _counters(quota, pledge) == counters
    keys = [request_headers["Idempotency-Key"] for request_headers, _body in requests]
    assert IdempotentResponse.objects.filter(key__in=keys).count() == REQUESTS


def _counters(quota: Quota, pledge: Pledge) -> dict[str, int]:
    quota = Quota.objects.get(pk=quota.pk)
    pledge = Pledge.objects.get(pk=pledge.pk)
    items = Item.objects.filter(quota=quota)
    return {
        "items": items.count(),
        "value_of_items": items.aggregate(total=Sum("value"))["total"],
        "cards_used": quota.cards_used,
        "quota_left": quota.cards_available,
        "cards_funded": pledge.cards_funded,
        "value_funded": pledge.value_funded,
        "pledge_left": pledge.cards - pledge.cards_funded,
    }
