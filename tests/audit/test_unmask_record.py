import pytest
from django.test import RequestFactory

from audit.models import AuditEvent, BeneficiaryAccessEvent
from audit.services import unmask_record
from tests.factories import make_beneficiary

pytestmark = pytest.mark.django_db


def test_showing_a_full_personal_id_writes_who_when_where_and_whose(admin_user):
    person = make_beneficiary()
    request = RequestFactory().get(
        f"/admin/beneficiaries/beneficiary/{person.pk}/change/",
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_REQUEST_ID="0f9c2a1e-6b7d-4e55-9d2c-3f1a8b7c6d5e",
    )
    request.user = admin_user

    row = unmask_record(user=admin_user, beneficiary=person, request=request)

    assert row.pgh_obj_id == person.pk
    assert row.pgh_label == "unmask"
    assert row.pgh_context == {
        "user": admin_user.pk,
        "username": admin_user.username,
        "ip": "198.51.100.4",
        "request_id": "0f9c2a1e-6b7d-4e55-9d2c-3f1a8b7c6d5e",
        "method": "GET",
        "url": f"/admin/beneficiaries/beneficiary/{person.pk}/change/",
    }
    (listed,) = AuditEvent.objects.tracks(person).filter(pgh_label="unmask")
    assert (listed.user, listed.ip) == (admin_user, "198.51.100.4")


def test_without_a_request_the_user_is_still_recorded(admin_user):
    person = make_beneficiary()
    unmask_record(user=admin_user, beneficiary=person)
    row = BeneficiaryAccessEvent.objects.get(pgh_obj=person)
    assert row.pgh_context == {"user": admin_user.pk, "username": admin_user.username}
    assert row.pgh_created_at is not None


def test_the_history_page_shows_who_saw_the_full_id(admin_client, admin_user):
    person = make_beneficiary()
    unmask_record(user=admin_user, beneficiary=person)
    content = admin_client.get(
        f"/admin/beneficiaries/beneficiary/{person.pk}/history/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "full personal ID shown" in content
