import json

import pytest
from django.test import Client

from accounts.roles import Role
from api.models import ApiClient
from api.services import api_client_create, api_key_issue
from tests.factories import unit
from tests.worlds import two_provinces

ALL_SCOPES = [scope.value for scope in ApiClient.Scope]


def card_body(beneficiary: int, quota: int, pledge: int) -> dict:
    """Return what a partner system POSTs to /items/ to issue a card on the day of the article."""
    return {
        "kind": "card",
        "beneficiary": beneficiary,
        "quota": quota,
        "pledge": pledge,
        "issued_on": "2024-01-16",
        "valid_from": "2024-01-16",
    }


class Api:
    """Django's test client speaking JSON with an API key (or a session, or nothing)."""

    def __init__(self, key: str | None = None, language: str = "en"):
        self.client = Client()
        self.headers = {"Accept-Language": language}
        if key:
            self.headers["Authorization"] = f"Api-Key {key}"

    def __call__(self, method: str, path: str, data=None, raw: bytes | None = None, **headers):
        body = raw if raw is not None else (json.dumps(data) if data is not None else None)
        kwargs = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs |= {"data": body, "content_type": "application/json"}
        return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path, **headers):
        return self("GET", path, **headers)

    def post(self, path, data=None, **headers):
        return self("POST", path, data, **headers)


def make_client(name: str, organisation, role: Role, scopes=ALL_SCOPES, **fields) -> str:
    client = api_client_create(
        name=name, organisation=organisation, role=role, scopes=scopes, actor=None, **fields
    )
    return api_key_issue(client=client, actor=None)[1]


@pytest.fixture
def world(db):
    return two_provinces()


def client_keys(world: dict) -> dict[str, str]:
    """Return a key of each kind of client in ``world`` (tests/worlds.py two_provinces):
    head office, the two province offices, Agribank (a sponsor) and a read-only head office."""
    organisation = ApiClient.Organisation
    return {
        "head_office": make_client("VSS", organisation.HEAD_OFFICE, Role.NATIONAL_OFFICIAL),
        "lao_cai": make_client(
            "Lào Cai",
            organisation.PROVINCE_OFFICE,
            Role.PROVINCIAL_STAFF,
            province=unit("2025", "15"),
        ),
        "ha_noi": make_client(
            "Hà Nội",
            organisation.PROVINCE_OFFICE,
            Role.PROVINCIAL_STAFF,
            province=unit("2025", "01"),
        ),
        "sponsor": make_client(
            "Agribank",
            organisation.SPONSOR,
            Role.SPONSOR_VIEWER,
            scopes=["read"],
            sponsor=world["lao_cai_pledge"].sponsor,
        ),
        "reader": make_client(
            "VSS reader", organisation.HEAD_OFFICE, Role.NATIONAL_OFFICIAL, scopes=["read"]
        ),
    }


@pytest.fixture
def keys(world):
    return client_keys(world)


@pytest.fixture
def api(keys):
    """Return the Api of a client kind: ``api("lao_cai").get(...)``."""
    return lambda kind, language="en": Api(keys[kind], language)
