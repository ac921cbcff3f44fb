import datetime
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from beneficiaries.models import Beneficiary
from beneficiaries.services import beneficiary_save
from tests.factories import make_beneficiary, unit

pytestmark = pytest.mark.django_db

# A woman born in 1970 whose birth was registered in Lào Cai (010): century/sex digit 1.
GOOD_ID = "010170123456"


def save(**fields) -> tuple[Beneficiary, list[Beneficiary]]:
    values = {
        "full_name": "Lương Thị Trúc",
        "birth_year": 1970,
        "sex": Beneficiary.Sex.FEMALE,
        "category": Beneficiary.Category.NEAR_POOR,
        "commune": unit("2025", "02680"),
    } | fields
    return beneficiary_save(beneficiary=Beneficiary(**values), actor=None)


def test_a_good_personal_id_is_accepted_and_the_province_follows_the_commune():
    person, duplicates = save(personal_id=GOOD_ID)
    assert person.personal_id == GOOD_ID
    assert person.province.code == "15"
    assert person.masked_personal_id == "********3456"
    assert duplicates == []


@pytest.mark.parametrize(
    ("personal_id", "message"),
    [
        ("01017012345", "exactly 12 digits"),
        ("0101701234567", "exactly 12 digits"),
        ("01017012345X", "exactly 12 digits"),
        ("099170123456", "not the code of a province"),
        ("010070123456", "is for a man born in 1900–1999"),
        ("010370123456", "born in 2070, not 1970"),
        ("010171123456", "born in 1971, not 1970"),
    ],
)
def test_a_personal_id_that_contradicts_the_person_is_refused(personal_id, message):
    with pytest.raises(ValidationError, match=message) as error:
        save(personal_id=personal_id)
    assert "personal_id" in error.value.message_dict


def test_a_man_born_in_2005_has_the_century_digit_2():
    person, _ = save(
        full_name="Vàng A Páo",
        sex=Beneficiary.Sex.MALE,
        birth_year=2005,
        personal_id="010205000001",
    )
    assert person.pk


def test_the_name_is_stored_in_nfc_with_spaces_collapsed():
    decomposed = unicodedata.normalize("NFD", "  Lương   Thị Trúc ")
    person, _ = save(full_name=decomposed)
    person.refresh_from_db()
    assert person.full_name == "Lương Thị Trúc"
    assert unicodedata.is_normalized("NFC", person.full_name)
    assert person.search_name == "luong thi truc"


def test_a_full_date_of_birth_sets_the_year_and_a_contradiction_is_refused():
    person, _ = save(birth_date=datetime.date(1970, 5, 2), birth_year=1970)
    assert person.birth_year == 1970
    with pytest.raises(ValidationError, match="differs"):
        save(birth_date=datetime.date(1971, 5, 2), birth_year=1970)


def test_a_personal_id_and_a_social_insurance_number_belong_to_one_person_only():
    save(personal_id=GOOD_ID, social_insurance_number="1012345678")
    with pytest.raises(ValidationError, match="(?i)personal identification number already exists"):
        save(full_name="Người Khác", personal_id=GOOD_ID)
    with pytest.raises(ValidationError, match="(?i)social-insurance number already exists"):
        save(full_name="Người Khác", social_insurance_number="1012345678")


def test_the_database_itself_refuses_a_shared_personal_id():
    make_beneficiary(personal_id=GOOD_ID, birth_year=1970)
    twin = Beneficiary(
        full_name="Bản sao",
        birth_year=1970,
        sex="F",
        category="poor",
        commune=unit("2025", "02680"),
        personal_id=GOOD_ID,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_a_possible_duplicate_is_reported_but_saved():
    first, _ = save(birth_year=1970)
    second, duplicates = save(full_name="LUONG THI TRUC", birth_year=1970)
    assert second.pk and duplicates == [first]
    # Born another year, or elsewhere: not a duplicate.
    assert save(full_name="Lương Thị Trúc", birth_year=1971)[1] == []
    assert save(commune=unit("2025", "00070"))[1] == []


def test_a_phone_number_is_stored_as_digits_from_zero():
    person, _ = save(phone="+84 912.345.678")
    assert person.phone == "0912345678"
    with pytest.raises(ValidationError, match="not a Vietnamese phone number"):
        save(phone="12345")


def test_the_address_is_a_commune_of_today():
    with pytest.raises(ValidationError, match="today's units"):
        save(commune=unit("2024", "02680"))


@pytest.mark.parametrize("personal_id", ["123", "abcdefghijkl", "01017012345X"])
def test_a_malformed_personal_id_is_refused_for_its_shape_only(personal_id):
    # Not cross-checked against the year and sex: nothing can be read from it.
    with pytest.raises(ValidationError) as error:
        save(personal_id=personal_id)
    assert error.value.message_dict["personal_id"] == [
        f"A personal identification number has exactly 12 digits; “{personal_id}” does not."
    ]
