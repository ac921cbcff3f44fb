import pytest
from django.db import DatabaseError, transaction

from audit.models import BeneficiaryEvent
from audit.services import beneficiary_history_anonymise
from tests.factories import make_beneficiary

pytestmark = pytest.mark.django_db


def test_anonymising_a_recipient_removes_the_personal_data_from_its_past_snapshots():
    person = make_beneficiary(full_name="Lương Thị Trúc", personal_id=None, phone="0912345678")
    type(person).objects.filter(pk=person.pk).update(address_line="Thôn Cốc Sâm")
    person.full_name, person.phone, person.address_line = "Người đã ẩn danh", "", ""
    person.save()

    changed = beneficiary_history_anonymise(
        beneficiary=person, fields=["full_name", "phone", "address_line"]
    )

    rows = BeneficiaryEvent.objects.filter(pgh_obj_id=person.pk)
    assert changed == rows.count() == 3
    assert {(row.full_name, row.phone, row.address_line) for row in rows} == {
        ("Người đã ẩn danh", "", "")
    }
    # Still append-only for everything else.
    with pytest.raises(DatabaseError), transaction.atomic():
        rows.update(full_name="x")
