"""One error shape, in the request's language; bad input of any kind is a 400, never a 500."""

import pytest

from tests.api.conftest import card_body

pytestmark = pytest.mark.django_db

BASE = "/api/v1"
PERSON = {"full_name": "Lò Thị Mây", "birth_year": 1980, "sex": "F", "category": "poor"}


def assert_problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert (body["type"], body["status"]) == (kind, status)
    assert body["title"] and body["detail"]
    return body


def test_field_errors_in_english(api, world):
    response = api("lao_cai").post(f"{BASE}/beneficiaries/", PERSON | {"commune": "99999"})
    body = assert_problem(response, 400, "invalid")
    assert body["title"] == "The request is not valid."
    assert body["errors"]["commune"] == ["Object with code=99999 does not exist."]


def test_field_errors_in_vietnamese(api, world):
    response = api("lao_cai", "vi").post(f"{BASE}/beneficiaries/", PERSON | {"sex": "X"})
    body = assert_problem(response, 400, "invalid")
    assert body["title"] == "Yêu cầu không hợp lệ."
    assert body["detail"] == "Xem các trường được liệt kê trong errors."
    assert "commune" in body["errors"] and "sex" in body["errors"]


def test_a_rule_of_the_service_comes_back_as_a_field_error_in_vietnamese(api, world):
    # The ID's century/sex digit says a man born in the 1900s; the row says a woman.
    response = api("lao_cai", "vi").post(
        f"{BASE}/beneficiaries/",
        PERSON | {"commune": "02680", "personal_id": "010080000456"},
    )
    body = assert_problem(response, 400, "invalid")
    assert "personal_id" in body["errors"]
    assert all(message.isprintable() for message in body["errors"]["personal_id"])


def test_not_authenticated_in_both_languages(world):
    from .conftest import Api

    english = Api(language="en").get(f"{BASE}/plans/")
    assert_problem(english, 401, "not_authenticated")
    assert english["WWW-Authenticate"] == "Api-Key"
    vietnamese = Api(language="vi").get(f"{BASE}/plans/")
    assert (
        assert_problem(vietnamese, 401, "not_authenticated")["title"]
        != "Authentication is required."
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"full_name": "L\\u00f2 Th\\u1ecb M\\u00e2y", "birth_year": 19',
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'"just a string"',
    ],
)
def test_a_body_that_cannot_be_read_is_400(api, world, raw):
    response = api("lao_cai")("POST", f"{BASE}/beneficiaries/", raw=raw)
    assert response.status_code == 400
    assert response.json()["type"] in {"malformed_request", "invalid"}


@pytest.mark.parametrize(
    "fields",
    [
        {"full_name": "Lò\x00Thị"},
        {"birth_year": 10**30},
        {"birth_year": -5},
        {"birth_year": "nineteen"},
        {"sex": ["F"]},
        {"commune": {"code": "02680"}},
        {"birth_date": "31/02/1980"},
        {"birth_date": "0001-01-01"},
        {"phone": 123},
        {"consent_on": 10**20},
    ],
)
def test_wrong_values_are_400(api, world, fields):
    response = api("lao_cai").post(f"{BASE}/beneficiaries/", PERSON | {"commune": "02680"} | fields)
    body = assert_problem(response, 400, "invalid")
    assert set(fields) <= set(body["errors"])


@pytest.mark.parametrize(
    "path",
    [
        "beneficiaries/?search=a%00b",
        "beneficiaries/?commune=%00",
        "admin-units/?level=7",
        "items/?beneficiary=-1",
        "items/?status=lost",
        "beneficiaries/?plan=1e400",
        "beneficiaries/?has_card=perhaps",
        "beneficiaries/?cursor=not-a-cursor",
        "plans/?page=99999999999999999999",
    ],
)
def test_bad_query_parameters_are_4xx_not_500(api, world, path):
    response = api("head_office").get(f"{BASE}/{path}")
    assert 400 <= response.status_code < 500, response.content
    assert {"type", "title", "status", "detail"} <= set(response.json())


@pytest.mark.parametrize(
    "path",
    [
        "admin-units/?parent=99999999999999999999999999",
        "quotas/?plan=99999999999999999999999999",
    ],
)
def test_ids_beyond_any_record_find_nothing(api, world, path):
    response = api("head_office").get(f"{BASE}/{path}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "path", ["beneficiaries/99999999999999999999999/", "items/99999999999999999999/", "plans/0/"]
)
def test_unknown_or_huge_ids_are_404(api, world, path):
    assert_problem(api("head_office").get(f"{BASE}/{path}"), 404, "not_found")


def test_an_item_with_a_huge_reference_is_400(api, world):
    response = api("lao_cai").post(
        f"{BASE}/items/",
        card_body(10**30, world["lao_cai_quota"].pk, world["lao_cai_pledge"].pk),
    )
    assert "beneficiary" in assert_problem(response, 400, "invalid")["errors"]


def test_method_and_media_type(api, world):
    assert_problem(api("lao_cai")("DELETE", f"{BASE}/plans/"), 405, "method_not_allowed")
    response = api("lao_cai").client.post(
        f"{BASE}/beneficiaries/",
        "full_name=x",
        content_type="application/x-www-form-urlencoded",
        headers=api("lao_cai").headers,
    )
    assert_problem(response, 415, "unsupported_media_type")
