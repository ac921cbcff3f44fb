"""A hundred partner requests for the last fifty places, on a real server with four workers.

tests/api/test_races.py races two clients in one process; here the requests go
over HTTP to gunicorn's worker processes, each with its own connection to
PostgreSQL, so only the row locks of ``item_issue`` and the idempotency
transaction stand between them.  Then every request is sent again with its
``Idempotency-Key``: each gets its first answer back and nothing changes.
"""

import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.roles import Role
from api.models import ApiClient, IdempotentResponse
from distributions.models import Item, Pledge, Quota
from tests.api.conftest import make_client
from tests.factories import make_beneficiary, make_plan, make_pledge, make_quota, unit
from tests.helpers import PROJECT_DIR, manage_env

from .postgres import database_url

REQUESTS = 100
PLACES = 50
THREADS = 32
WORKERS = 4
# Generous: on a loaded 2-core machine a queued request may wait for the three before it.
REQUEST_TIMEOUT_S = 60
START_TIMEOUT_S = 60


@dataclass
class Answer:
    status: int
    headers: Message
    body: dict


# Each worker leaves a file when it has loaded the site (the race starts with all of them
# ready) and notes each request it served: files, whatever the site does with logging.
# gunicorn 25.1+ also opens a control socket under ~/.gunicorn unless told not to (an
# older one ignores the unknown setting in a file, where it would refuse the option).
GUNICORN_CONFIG = """
import os

control_socket_disable = True
WITNESS = {witness!r}


def post_worker_init(worker):
    open(os.path.join(WITNESS, "ready-%d" % worker.pid), "w").close()


def post_request(worker, req, environ, resp):
    with open(os.path.join(WITNESS, "served-%d" % worker.pid), "a") as served:
        served.write("%s %s\\n" % (req.method, req.path))
"""


class Server:
    """gunicorn serving the test database as in production (DEBUG off), on HTTP."""

    def __init__(self, base: str, process: subprocess.Popen, log: Path, witness: Path):
        self.base = base
        self.process = process
        self.log = log
        self.witness = witness

    def ready_workers(self) -> set[int]:
        return {int(path.name.split("-")[1]) for path in self.witness.glob("ready-*")}

    def pids_that_served(self, method: str, path: str) -> set[int]:
        return {
            int(served.name.split("-")[1])
            for served in self.witness.glob("served-*")
            if f"{method} {path}" in served.read_text().splitlines()
        }

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])

    def request(self, method: str, path: str, headers: dict, body: bytes | None = None) -> Answer:
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return Answer(response.status, response.headers, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, json.loads(error.read()))


@contextmanager
def gunicorn(tmp_path: Path, probe_headers: dict) -> Iterator[Server]:
    """Start gunicorn with ``WORKERS`` worker processes; stop it on the way out.

    The listening socket is bound here and handed over by descriptor: no free
    port to guess, and requests sent before a worker is ready wait in the backlog.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    host, port = listener.getsockname()
    env = manage_env(
        {
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            # The production default, whatever this shell says.
            "API_THROTTLE_RATE": "1200/minute",
        }
    )
    # Each process's own memory, as with a single server: no Redis needed by the suite.
    env.pop("CACHE_URL", None)
    log, witness, config = (
        tmp_path / name for name in ("gunicorn.log", "workers", "gunicorn_config.py")
    )
    witness.mkdir()
    config.write_text(GUNICORN_CONFIG.format(witness=str(witness)))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "vss_program.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"fd://{listener.fileno()}",
        "--config",
        str(config),
        "--graceful-timeout",
        "10",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    server = Server(f"http://{host}:{port}", process, log, witness)
    try:
        _wait_until_ready(server, probe_headers)
        yield server
    finally:
        listener.close()
        process.terminate()  # the arbiter stops its workers gracefully
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(server: Server, headers: dict) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn stopped at start-up:\n{server.log_tail()}")
        if len(server.ready_workers()) < WORKERS:
            time.sleep(0.2)
            continue
        try:
            answer = server.request("GET", "/api/v1/plans/", headers)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
            continue
        assert answer.status == 200, (answer.status, answer.body, server.log_tail())
        return
    pytest.fail(f"gunicorn did not answer within {START_TIMEOUT_S} s:\n{server.log_tail()}")


def send_at_once(server: Server, requests: list[tuple[dict, bytes]]) -> list[Answer]:
    """POST every (headers, body) to /api/v1/items/ from ``THREADS`` threads, released together."""
    go = threading.Event()

    def send(headers: dict, body: bytes) -> Answer:
        go.wait()
        return server.request("POST", "/api/v1/items/", headers, body)

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
        body = {
            "kind": "card",
            "beneficiary": person.pk,
            "quota": quota.pk,
            "pledge": pledge.pk,
            "issued_on": "2024-01-16",
            "valid_from": "2024-01-16",
        }
        request_headers = {
            **headers,
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        requests.append((request_headers, json.dumps(body).encode()))

    with gunicorn(tmp_path, headers) as server:
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
        assert server.pids_that_served("POST", "/api/v1/items/") == server.ready_workers()

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
