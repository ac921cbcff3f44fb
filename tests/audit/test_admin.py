import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from sponsors.models import Sponsor
from tests.admin_forms import change_form_data
from tests.factories import make_beneficiary, make_sponsor

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


def listed(client, **params) -> list[AuditEvent]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def edited_sponsor():
    sponsor = make_sponsor("Agribank")
    Sponsor.objects.filter(pk=sponsor.pk).update(contact_name="Trần Thị B")
    return sponsor


def test_nobody_can_add_change_or_delete_an_audit_event(admin_client, edited_sponsor):
    event = AuditEvent.objects.tracks(edited_sponsor).first()
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert admin_client.get(change).status_code == 200  # to look at it
    assert admin_client.post(change, {"pgh_label": "insert"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert 'name="action"' not in admin_client.get(CHANGELIST).content.decode()
    assert AuditEvent.objects.tracks(edited_sponsor).count() == 2


def test_staff_without_the_audit_permission_cannot_see_the_trail(client, django_user_model):
    staff = django_user_model.objects.create_user("canbo", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert client.get(CHANGELIST).status_code == 200


def test_events_are_listed_with_their_changes_and_can_be_filtered(
    admin_client, admin_user, edited_sponsor
):
    person = make_beneficiary(full_name="Lương Thị Trúc")
    page = reverse("admin:sponsors_sponsor_change", args=[edited_sponsor.pk])
    data = change_form_data(admin_client.get(page)) | {"name_vi": "Ngân hàng Agribank"}
    assert admin_client.post(page, data).status_code == 302

    content = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Trần Thị B" in content and "Lương Thị Trúc" in content

    sponsors_only = listed(admin_client, model="sponsors.Sponsor")
    assert sponsors_only and {e.pgh_obj_model for e in sponsors_only} == {"sponsors.Sponsor"}
    assert {e.pgh_label for e in listed(admin_client, label="update")} == {"update"}
    by_admin = listed(admin_client, user=admin_user.pk)
    assert by_admin and {e.user_id for e in by_admin} == {admin_user.pk}
    assert {e.pgh_obj_id for e in listed(admin_client, q=str(person.pk))} >= {str(person.pk)}
    today = datetime.date.today()
    assert listed(admin_client, since=today.isoformat(), until=today.isoformat())
    assert not listed(admin_client, until=(today - datetime.timedelta(days=2)).isoformat())
    request_id = by_admin[0].request_id
    assert {e.request_id for e in listed(admin_client, q=request_id)} == {request_id}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_audit_pages_render_in_both_languages(admin_client, edited_sponsor, language):
    event = AuditEvent.objects.tracks(edited_sponsor).first()
    for page in [CHANGELIST, reverse("admin:audit_auditevent_change", args=[event.pk])]:
        response = admin_client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert response.headers["Content-Language"] == language


def test_a_records_history_page_shows_its_audit_trail_with_the_id_masked(admin_client):
    person = make_beneficiary(full_name="Lương Thị Trúc", personal_id=None)
    type(person).objects.filter(pk=person.pk).update(
        address_line="Thôn Cốc Sâm", personal_id="010170001234"
    )
    response = admin_client.get(
        reverse("admin:beneficiaries_beneficiary_history", args=[person.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    content = response.content.decode()
    assert "Audit trail" in content
    assert "Thôn Cốc Sâm" in content
    assert "********1234" in content
    assert "010170001234" not in content


def test_the_trail_of_an_untracked_record_is_not_shown(admin_client, admin_user):
    response = admin_client.get(reverse("admin:accounts_user_history", args=[admin_user.pk]))
    assert response.status_code == 200
    assert 'id="audit-history"' not in response.content.decode()
