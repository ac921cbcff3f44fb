import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pghistory.core import event_models

from audit.models import AuditEvent, ItemEvent, RateEvent, SponsorEvent
from distributions.models import Item, Quota
from distributions.services import CardDetails, item_issue
from reference.models import AdminUnit, Rate
from sponsors.models import Sponsor
from tests.admin_forms import change_form_data
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_plan,
    make_pledge,
    make_quota,
    make_sponsor,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def quota():
    return make_quota(make_plan(), unit("2024", "080"), 600, 50)


@pytest.fixture
def pledge(quota):
    return make_pledge(quota.plan, make_sponsor("Agribank"), cards=100, books=10)


def issue(quota, pledge):
    return item_issue(
        beneficiary=make_beneficiary(),
        quota=quota,
        pledge=pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )


def events_of(obj) -> list[AuditEvent]:
    return list(AuditEvent.objects.tracks(obj).order_by("pgh_created_at", "pgh_id"))


def test_an_edit_in_the_admin_records_who_from_where_and_the_values_before_and_after(
    admin_client, admin_user
):
    sponsor = make_sponsor("Agribank", contact_name="Nguyễn Văn A")
    page = reverse("admin:sponsors_sponsor_change", args=[sponsor.pk])
    data = change_form_data(admin_client.get(page)) | {"contact_name": "Trần Thị B"}
    response = admin_client.post(
        page, data, REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID="req-2024-0001"
    )
    assert response.status_code == 302
    assert response.headers["X-Request-ID"] == "req-2024-0001"

    created, changed = events_of(sponsor)
    assert (created.pgh_label, changed.pgh_label) == ("insert", "update")
    assert changed.pgh_diff == {"contact_name": ["Nguyễn Văn A", "Trần Thị B"]}
    assert (changed.user, changed.username, changed.ip, changed.request_id) == (
        admin_user,
        admin_user.username,
        "203.0.113.7",
        "req-2024-0001",
    )
    assert (changed.method, changed.url) == ("POST", page)


def test_a_malformed_request_id_is_replaced_by_a_new_uuid(admin_client):
    response = admin_client.get(
        reverse("admin:index"), HTTP_X_REQUEST_ID="bad id\r\nwith: injection"
    )
    assert uuid.UUID(response.headers["X-Request-ID"]).version == 4


def test_a_bulk_admin_action_records_a_row_per_item_with_the_action(
    admin_client, admin_user, quota, pledge
):
    items = [issue(quota, pledge) for _ in range(2)]
    ids = [str(item.pk) for item in items]
    response = admin_client.post(
        reverse("admin:distributions_item_changelist"),
        {
            "action": "deliver",
            "_selected_action": ids,
            "apply": "1",
            "delivered_on": "01/02/2024",
            "method": "provincial_office",
            "delivered_by": "BHXH tỉnh Lào Cai",
        },
    )
    assert response.status_code == 302

    delivered = ItemEvent.objects.filter(pgh_obj__in=items, pgh_label="update")
    assert delivered.count() == 2
    for event in delivered:
        assert event.status == "delivered"
        assert event.pgh_context["action"] == "deliver"
        assert event.pgh_context["user"] == admin_user.pk
    # The counters the service changed with a bulk UPDATE are recorded too.
    quota_rows = AuditEvent.objects.tracks(Quota(pk=quota.pk)).filter(pgh_label="update")
    assert [row.pgh_diff.get("cards_delivered") for row in quota_rows.order_by("pgh_id")][-2:] == [
        [0, 1],
        [1, 2],
    ]
    (latest,) = [e for e in events_of(items[0]) if e.pgh_label == "update"]
    assert latest.pgh_diff["status"] == ["issued", "delivered"]


def test_a_raw_update_outside_any_service_is_recorded_with_before_and_after(quota, pledge):
    item = issue(quota, pledge)
    Item.objects.filter(pk=item.pk).update(number="GD4011234567890")

    changed = events_of(item)[-1]
    assert changed.pgh_label == "update"
    assert changed.pgh_diff == {"number": ["", "GD4011234567890"]}
    assert changed.user is None


def test_a_raw_delete_is_recorded_with_the_values_it_had():
    sponsor = make_sponsor("Vietcombank")
    Sponsor.objects.filter(pk=sponsor.pk).delete()
    deleted = SponsorEvent.objects.get(pgh_obj_id=sponsor.pk, pgh_label="delete")
    assert deleted.short_name == "Vietcombank"


def test_a_save_that_changes_nothing_writes_no_row():
    sponsor = make_sponsor("BIDV")
    sponsor.save()
    assert SponsorEvent.objects.filter(pgh_obj_id=sponsor.pk).count() == 1


def test_a_management_command_names_itself_in_its_changes():
    Rate.objects.filter(kind=Rate.Kind.BASE_SALARY, valid_from="2024-07-01").delete()
    call_command("load_reference_data", verbosity=0)
    added = RateEvent.objects.filter(kind=Rate.Kind.BASE_SALARY, pgh_label="insert").latest(
        "pgh_id"
    )
    assert added.pgh_context["command"] == "load_reference_data"


def test_administrative_units_are_not_tracked():
    assert event_models(tracks_model=AdminUnit) == []


def test_the_audit_tables_refuse_update_and_delete_even_in_sql():
    sponsor = make_sponsor("MB")
    table = SponsorEvent._meta.db_table
    for sql in [
        f"UPDATE {table} SET short_name = 'X' WHERE pgh_obj_id = %s",
        f"DELETE FROM {table} WHERE pgh_obj_id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [sponsor.pk])
    assert SponsorEvent.objects.filter(pgh_obj_id=sponsor.pk).count() == 1
