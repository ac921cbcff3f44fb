"""Who may call what in the API: one table of (request, client kind) -> status, and what leaks.

The API asks the admin's questions (the role's permissions, ``accounts.scope``)
plus, for a partner system, its scopes.  No credentials: 401; a permission or
scope missing: 403, before any record is looked up; a record outside the
caller's areas: 404, as if it did not exist (If-Match changes nothing to that);
a reference to one in a body: 400, as for an unknown id.  A refused write
changes nothing.
"""

import json

import pytest
from django.db import transaction
from django.test import override_settings

from beneficiaries.models import Beneficiary
from distributions.models import Handover, Item
from distributions.services import CardDetails, item_issue
from tests.api.conftest import Api, card_body, client_keys
from tests.factories import JAN_2024, make_beneficiary, make_handover, unit
from tests.worlds import two_provinces

BASE = "/api/v1"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Five partner systems (tests/api/conftest.py ``keys``), no credentials at all, and
# Lào Cai's provincial staff member signed in to the admin (a session, no scopes).
KINDS = ["head_office", "lao_cai", "ha_noi", "sponsor", "reader", "anonymous", "staff"]

LAO_CAI_PEOPLE = ["Lương Thị Trúc", "Vàng Thị Mai", "Lò Văn Sáng", "Hà Văn Khánh", "Lò Thị Mây"]
HA_NOI_PEOPLE = ["Nguyễn Văn Hà", "Trần Thị Hoa", "Phạm Thị Lan", "Đỗ Văn Nam"]
# Never in any answer: the full ID number is written, never read back.
ID_NUMBERS = ["010175000123", "010180000456", "001190000789"]
# What each kind of client must never read, whatever it asks.
HIDDEN = {
    "head_office": ID_NUMBERS,
    "lao_cai": HA_NOI_PEOPLE + ID_NUMBERS,
    "ha_noi": LAO_CAI_PEOPLE + ID_NUMBERS,
    "sponsor": LAO_CAI_PEOPLE + HA_NOI_PEOPLE + ID_NUMBERS,
    "reader": ID_NUMBERS,
    "anonymous": LAO_CAI_PEOPLE + HA_NOI_PEOPLE + ID_NUMBERS,
    "staff": HA_NOI_PEOPLE + ID_NUMBERS,
}


def build_world() -> dict:
    """The two provinces (tests/worlds.py) with a Hà Nội hand-over, people holding nothing yet
    and reserved cards (to confirm) in each province, and a key of each kind of API client."""
    world = two_provinces()
    hang_trong = unit("2025", "00070")

    def reserved_card(person, quota, pledge):
        return item_issue(
            beneficiary=person,
            quota=quota,
            pledge=pledge,
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            reserved=True,
            actor=None,
        )

    world |= {
        "ha_noi_event": make_handover(world["plan"], place=unit("2024", "00070")),
        "lao_cai_new": make_beneficiary(full_name="Lò Văn Sáng"),
        "ha_noi_new": make_beneficiary(full_name="Trần Thị Hoa", commune=hang_trong),
        "lao_cai_reserved": reserved_card(
            make_beneficiary(full_name="Hà Văn Khánh"),
            world["lao_cai_quota"],
            world["lao_cai_pledge"],
        ),
        "ha_noi_reserved": reserved_card(
            make_beneficiary(full_name="Phạm Thị Lan", commune=hang_trong),
            world["ha_noi_quota"],
            world["ha_noi_pledge"],
        ),
        "agribank": world["lao_cai_pledge"].sponsor,
        "bidv": world["ha_noi_pledge"].sponsor,
        "lao_cai_province": unit("2025", "15"),
        "ha_noi_province": unit("2025", "01"),
    }
    world["keys"] = client_keys(world)
    return world


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The world, built once for the module in a transaction rolled back at its end.

    Each case runs in a savepoint of it (the ``db`` fixture), rolled back after the
    case: every case starts from the same records, as with a fresh database, without
    paying ~0.3 s to build them 300 times.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            world = build_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world, db):
    return shared_world


# URL builders: each takes the world.


def at(path: str):
    return lambda w: f"{BASE}/{path}"


def one(resource: str, key: str, action: str = ""):
    return lambda w: f"{BASE}/{resource}/{w[key].pk}/" + (f"{action}/" if action else "")


# Body builders: each takes the world and returns a fresh body.


LAO_CAI_PERSON = {
    "full_name": "Lò Thị Mây",
    "birth_year": 1980,
    "sex": "F",
    "category": "poor",
    "commune": "02680",
}
HA_NOI_PERSON = LAO_CAI_PERSON | {"full_name": "Đỗ Văn Nam", "sex": "M", "commune": "00070"}


def person(**fields):
    return lambda w: LAO_CAI_PERSON | fields


def handover(place: str):
    return lambda w: {
        "plan": w["plan"].pk,
        "held_on": "2024-02-01",
        "place": unit("2024", place).pk,
        "title": "Trao thẻ đợt 2",
        "sponsors_present": [w["agribank"].pk],
    }


def card(province: str):
    return lambda w: card_body(
        w[f"{province}_new"].pk, w[f"{province}_quota"].pk, w[f"{province}_pledge"].pk
    )


def fixed(body: dict):
    return lambda w: dict(body)


DELIVER = fixed({"delivered_on": "2024-01-20", "method": "post", "delivered_by": "Bưu điện"})
CANCEL = fixed({"reason": "Sai tên"})
CONFIRM = fixed({"issued_on": "2024-01-20", "number": "HN-0001"})
NOTES = fixed({"notes": "Đã gọi điện xác nhận"})
TRUC_IN_FULL = fixed(LAO_CAI_PERSON | {"full_name": "Lương Thị Trúc", "birth_year": 1975})

# Expected statuses, in KINDS order:
# head office, Lào Cai, Hà Nội, sponsor, reader, anonymous, Lào Cai staff (session).
EVERYONE = (200, 200, 200, 200, 200, 401, 200)
STAFF_ONLY = (200, 200, 200, 403, 200, 401, 200)
LAO_CAI_READ = (200, 200, 404, 403, 200, 401, 200)
HA_NOI_READ = (200, 404, 200, 403, 200, 401, 404)
LAO_CAI_WRITE = (200, 200, 404, 403, 403, 401, 200)
HA_NOI_WRITE = (200, 404, 200, 403, 403, 401, 404)

# (what, method, URL, body, send If-Match, expected statuses in KINDS order)
TABLE = [
    ("admin units", "GET", at("admin-units/"), None, False, STAFF_ONLY),
    ("Lào Cai province", "GET", one("admin-units", "lao_cai_province"), None, False, LAO_CAI_READ),
    ("Hà Nội province", "GET", one("admin-units", "ha_noi_province"), None, False, HA_NOI_READ),
    ("plans", "GET", at("plans/"), None, False, EVERYONE),
    ("the plan", "GET", one("plans", "plan"), None, False, EVERYONE),
    ("quotas", "GET", at("quotas/"), None, False, STAFF_ONLY),
    ("Lào Cai quota", "GET", one("quotas", "lao_cai_quota"), None, False, LAO_CAI_READ),
    ("Hà Nội quota", "GET", one("quotas", "ha_noi_quota"), None, False, HA_NOI_READ),
    ("pledges", "GET", at("pledges/"), None, False, EVERYONE),
    (
        "Agribank's Lào Cai pledge",
        "GET",
        one("pledges", "lao_cai_pledge"),
        None,
        False,
        (200, 200, 404, 200, 200, 401, 200),
    ),
    (
        "BIDV's Hà Nội pledge",
        "GET",
        one("pledges", "ha_noi_pledge"),
        None,
        False,
        (200, 404, 200, 404, 200, 401, 404),
    ),
    ("sponsors", "GET", at("sponsors/"), None, False, EVERYONE),
    ("Agribank", "GET", one("sponsors", "agribank"), None, False, EVERYONE),
    ("BIDV", "GET", one("sponsors", "bidv"), None, False, (200, 200, 200, 404, 200, 401, 200)),
    ("recipients", "GET", at("beneficiaries/"), None, False, STAFF_ONLY),
    ("Trúc", "GET", one("beneficiaries", "truc"), None, False, LAO_CAI_READ),
    ("a Hà Nội recipient", "GET", one("beneficiaries", "ha_noi"), None, False, HA_NOI_READ),
    (
        "record a Lào Cai recipient",
        "POST",
        at("beneficiaries/"),
        person(personal_id="010180000456"),
        False,
        (201, 201, 403, 403, 403, 401, 201),
    ),
    (
        "record a Hà Nội recipient",
        "POST",
        at("beneficiaries/"),
        person(**HA_NOI_PERSON),
        False,
        (201, 403, 201, 403, 403, 401, 403),
    ),
    ("change Trúc", "PATCH", one("beneficiaries", "truc"), NOTES, True, LAO_CAI_WRITE),
    (
        "change Trúc without If-Match",
        "PATCH",
        one("beneficiaries", "truc"),
        NOTES,
        False,
        (428, 428, 404, 403, 403, 401, 428),
    ),
    (
        "move Trúc to Hà Nội",
        "PATCH",
        one("beneficiaries", "truc"),
        fixed({"commune": "00070"}),
        True,
        (200, 403, 404, 403, 403, 401, 403),
    ),
    ("replace Trúc", "PUT", one("beneficiaries", "truc"), TRUC_IN_FULL, True, LAO_CAI_WRITE),
    (
        "change a Hà Nội recipient",
        "PATCH",
        one("beneficiaries", "ha_noi"),
        NOTES,
        True,
        HA_NOI_WRITE,
    ),
    (
        "delete Trúc",  # no one may: the method is not offered (405 once signed in)
        "DELETE",
        one("beneficiaries", "truc"),
        None,
        False,
        (405, 405, 405, 405, 405, 401, 405),
    ),
    (
        "record recipients in bulk",  # one per province: each is created or rejected
        "POST",
        at("beneficiaries/bulk/"),
        lambda w: {
            "items": [
                person(personal_id="010180000456")(w),
                person(personal_id="001190000789", **HA_NOI_PERSON)(w),
            ]
        },
        False,
        (200, 200, 200, 403, 403, 401, 200),
    ),
    ("hand-overs", "GET", at("handovers/"), None, False, STAFF_ONLY),
    ("the Hợp Thành hand-over", "GET", one("handovers", "event"), None, False, LAO_CAI_READ),
    ("a Hà Nội hand-over", "GET", one("handovers", "ha_noi_event"), None, False, HA_NOI_READ),
    # Another province's place is not found among the caller's units: 400, as for any
    # unknown id (ScopedPrimaryKeyRelatedField), never a hint that it exists.
    (
        "record a Lào Cai hand-over",
        "POST",
        at("handovers/"),
        handover("02680"),
        False,
        (201, 201, 400, 403, 403, 401, 201),
    ),
    (
        "record a Hà Nội hand-over",
        "POST",
        at("handovers/"),
        handover("00070"),
        False,
        (201, 400, 201, 403, 403, 401, 400),
    ),
    ("cards and books", "GET", at("items/"), None, False, STAFF_ONLY),
    ("Trúc's card", "GET", one("items", "truc_card"), None, False, LAO_CAI_READ),
    ("the Hà Nội card", "GET", one("items", "ha_noi_card"), None, False, HA_NOI_READ),
    (
        "issue a Lào Cai card",
        "POST",
        at("items/"),
        card("lao_cai"),
        False,
        (201, 201, 400, 403, 403, 401, 201),
    ),
    (
        "issue a Hà Nội card",
        "POST",
        at("items/"),
        card("ha_noi"),
        False,
        (201, 400, 201, 403, 403, 401, 400),
    ),
    (
        "deliver a Lào Cai card",
        "POST",
        one("items", "city_card", "deliver"),
        DELIVER,
        False,
        LAO_CAI_WRITE,
    ),
    (
        "deliver the Hà Nội card",
        "POST",
        one("items", "ha_noi_card", "deliver"),
        DELIVER,
        False,
        HA_NOI_WRITE,
    ),
    (
        "cancel a Lào Cai card",
        "POST",
        one("items", "city_card", "cancel"),
        CANCEL,
        False,
        LAO_CAI_WRITE,
    ),
    (
        "cancel the Hà Nội card",
        "POST",
        one("items", "ha_noi_card", "cancel"),
        CANCEL,
        False,
        HA_NOI_WRITE,
    ),
    (
        "confirm a reserved Lào Cai card",
        "POST",
        one("items", "lao_cai_reserved", "confirm"),
        CONFIRM,
        False,
        LAO_CAI_WRITE,
    ),
    (
        "confirm a reserved Hà Nội card",
        "POST",
        one("items", "ha_noi_reserved", "confirm"),
        CONFIRM,
        False,
        HA_NOI_WRITE,
    ),
    ("the plan's figures", "GET", one("stats/plans", "plan"), None, False, STAFF_ONLY),
    ("Agribank's figures", "GET", one("stats/sponsors", "agribank"), None, False, EVERYONE),
    (
        "BIDV's figures",
        "GET",
        one("stats/sponsors", "bidv"),
        None,
        False,
        (200, 200, 200, 404, 200, 401, 200),
    ),
]

CASES = [
    pytest.param(method, url, body, if_match, kind, statuses[i], id=f"{what}-{kind}")
    for what, method, url, body, if_match, statuses in TABLE
    for i, kind in enumerate(KINDS)
]


def session_of(user) -> Api:
    api = Api()
    api.client.force_login(user)
    return api


def records() -> tuple:
    """What a write could change: the recipients, cards and books, and hand-overs."""
    return (
        list(Beneficiary.objects.order_by("pk").values_list("pk", "updated_at")),
        list(Item.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        list(Handover.objects.order_by("pk").values()),
    )


def caller(world, kind: str) -> Api:
    if kind == "anonymous":
        return Api()
    if kind == "staff":
        return session_of(world["users"]["lao_cai"])
    return Api(world["keys"][kind])


@pytest.mark.parametrize(("method", "url", "body", "if_match", "kind", "expected"), CASES)
def test_each_client_reaches_exactly_what_its_role_and_area_allow(
    world, method, url, body, if_match, kind, expected
):
    path = url(world)
    headers = {}
    if if_match:
        # The ETag as a reader who may see the record got it.
        read = session_of(world["users"]["national"]).get(path)
        assert read.status_code == 200
        headers["If-Match"] = read["ETag"]

    before = records() if method != "GET" else None

    response = caller(world, kind)(method, path, body(world) if body else None, **headers)

    content = response.content.decode()
    assert response.status_code == expected, content
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Api-Key"
    if response.status_code >= 400:
        # The project's one error shape, whatever the refusal.
        problem = response.json()
        assert {"type", "title", "status", "detail"} <= set(problem)
        assert problem["status"] == response.status_code
        if before is not None:
            assert records() == before, "a refused write changed something"
    # Nothing read or refused names a person the caller may not see, nor an ID number;
    # a refusal (but a bad body's 400) names no one at all.
    refused = response.status_code in (401, 403, 404, 405, 428)
    hidden = LAO_CAI_PEOPLE + HA_NOI_PEOPLE + ID_NUMBERS if refused else HIDDEN[kind]
    if response.get("Content-Type", "").startswith("application/json"):
        content = json.dumps(response.json(), ensure_ascii=False)
    for name in hidden:
        assert name not in content
