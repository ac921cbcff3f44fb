import pytest
from django.core.exceptions import ValidationError

from sponsors.models import Sponsor

pytestmark = pytest.mark.django_db


def sponsor(**fields) -> Sponsor:
    values = {"short_name": "Agribank", "name_vi": "Agribank", "kind": Sponsor.Kind.BANK} | fields
    return Sponsor(**values)


@pytest.mark.parametrize("tax_code", ["0100686174", "0100686174-001"])
def test_a_valid_tax_code_is_accepted_and_stored_without_the_dash(tax_code):
    agribank = sponsor(tax_code=tax_code)
    agribank.full_clean()
    agribank.save()
    assert agribank.tax_code == tax_code.replace("-", "")


@pytest.mark.parametrize("tax_code", ["0100686175", "12345", "01006861740012"])
def test_a_tax_code_with_a_wrong_check_digit_or_length_is_refused(tax_code):
    with pytest.raises(ValidationError, match="not a valid tax code"):
        sponsor(tax_code=tax_code).full_clean()


def test_two_sponsors_cannot_share_a_tax_code():
    sponsor(tax_code="0100686174").save()
    with pytest.raises(ValidationError):
        sponsor(short_name="Agribank 2", tax_code="0100686174").full_clean()
