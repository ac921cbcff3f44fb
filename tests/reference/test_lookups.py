import datetime
import unicodedata

import pytest

from reference.models import AdminUnit, Edition, UnitLevel, UnitType
from reference.selectors import (
    AmbiguousUnitName,
    UnitNotFound,
    edition_in_force_on,
    unit_find_by_name,
    unit_get_by_code,
)
from reference.text import fold

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition_2024():
    return Edition.objects.get(code="2024")


@pytest.fixture
def edition_2025():
    return Edition.objects.get(code="2025")


@pytest.fixture
def lao_cai_2025(edition_2025):
    return unit_get_by_code(code="15", edition=edition_2025)


def test_fold_ignores_case_diacritics_and_the_letter_d_with_stroke():
    assert fold("  Xã  HỢP   Thành ") == "xa hop thanh"
    assert fold("Đào Việt Anh") == fold("dao viet anh") == "dao viet anh"
    assert fold("Lương Thị Trúc") == "luong thi truc"


def test_fold_treats_decomposed_text_like_composed_text():
    decomposed = unicodedata.normalize("NFD", "Hợp Thành")
    assert decomposed != "Hợp Thành"
    assert fold(decomposed) == fold("Hợp Thành") == "hop thanh"


@pytest.mark.parametrize("typed", ["hop thanh", "Xã Hợp Thành", "HỢP THÀNH", "xa  hop-thanh"])
def test_a_commune_is_found_however_its_name_is_typed(typed, edition_2025, lao_cai_2025):
    unit = unit_find_by_name(typed, edition=edition_2025, within=lao_cai_2025)
    assert (unit.code, unit.name) == ("02680", "Xã Hợp Thành")


def test_decomposed_input_finds_the_same_commune(edition_2025, lao_cai_2025):
    typed = unicodedata.normalize("NFD", "Xã Hợp Thành")
    assert unit_find_by_name(typed, edition=edition_2025, within=lao_cai_2025).code == "02680"


def test_a_name_several_provinces_share_needs_the_province(edition_2025):
    # Several provinces have a commune called Hợp Thành.
    with pytest.raises(AmbiguousUnitName) as error:
        unit_find_by_name("Hợp Thành", edition=edition_2025)
    assert len(error.value.candidates) > 1
    assert "02680" in {unit.code for unit in error.value.candidates}


def test_within_a_district_of_2024_the_commune_is_unique(edition_2024):
    lao_cai_city = unit_get_by_code(code="080", edition=edition_2024)
    unit = unit_find_by_name("hop thanh", edition=edition_2024, within=lao_cai_city)
    assert unit.code == "02680"
    assert unit.parent == lao_cai_city


def test_within_a_province_of_2024_finds_communes_below_its_districts(edition_2024):
    lao_cai = unit_get_by_code(code="10", edition=edition_2024)
    assert unit_find_by_name("Xã Hợp Thành", edition=edition_2024, within=lao_cai).code == "02680"


def test_a_type_word_tells_a_city_from_the_province_of_the_same_name(edition_2024):
    city = unit_find_by_name("Thành phố Lào Cai", edition=edition_2024)
    assert (city.code, city.unit_type) == ("080", UnitType.PROVINCIAL_CITY)
    assert unit_find_by_name("TP Lào Cai", edition=edition_2024).code == "080"
    assert unit_find_by_name("tinh lao cai", edition=edition_2024).code == "10"


def test_a_name_that_begins_like_a_type_word_is_matched_whole_first(edition_2024):
    # Quan Hóa is a district of Thanh Hóa, not a place "Hóa" in a "quận".
    unit = unit_find_by_name("Quan Hóa", edition=edition_2024, level=UnitLevel.DISTRICT)
    assert unit.name == "Huyện Quan Hóa"


def test_an_unknown_name_says_so(edition_2025):
    with pytest.raises(UnitNotFound, match="Atlantis"):
        unit_find_by_name("Atlantis", edition=edition_2025)


def test_a_code_that_lost_its_leading_zero_is_found_when_the_level_is_known(edition_2025):
    assert unit_get_by_code(code="2680", edition=edition_2025, level=UnitLevel.COMMUNE).code == (
        "02680"
    )
    with pytest.raises(UnitNotFound):
        unit_get_by_code(code="2680", edition=edition_2025)


def test_the_2024_edition_is_in_force_on_30_june_2025():
    assert edition_in_force_on(datetime.date(2025, 6, 30)).code == "2024"
    assert edition_in_force_on(datetime.date(2024, 1, 16)).code == "2024"


def test_the_2025_edition_is_in_force_from_1_july_2025():
    assert edition_in_force_on(datetime.date(2025, 7, 1)).code == "2025"
    assert edition_in_force_on(datetime.date(2026, 11, 28)).code == "2025"


def test_units_in_force_on_a_date_are_those_of_that_edition():
    handover_day = datetime.date(2024, 1, 16)
    hop_thanh = AdminUnit.objects.in_force_on(handover_day).get(code="02680")
    assert hop_thanh.edition.code == "2024"
    assert hop_thanh.parent.name == "Thành phố Lào Cai"
    assert AdminUnit.objects.in_force_on(datetime.date(2025, 7, 1)).provinces().count() == 34
