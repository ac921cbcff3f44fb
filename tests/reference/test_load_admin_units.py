import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateRange
from django.db.models import F

from reference.editions import EDITIONS
from reference.models import AdminUnit, Edition, UnitLevel, UnitType
from reference.services import admin_units_load

pytestmark = pytest.mark.django_db


def level_counts(edition_code: str) -> dict[int, int]:
    return dict(
        Counter(
            AdminUnit.objects.filter(edition__code=edition_code).values_list("level", flat=True)
        )
    )


def test_the_2024_edition_has_63_provinces_696_districts_and_10051_communes():
    assert level_counts("2024") == {
        UnitLevel.PROVINCE: 63,
        UnitLevel.DISTRICT: 696,
        UnitLevel.COMMUNE: 10_051,
    }


def test_the_2025_edition_has_34_provinces_3321_communes_and_no_districts():
    assert level_counts("2025") == {UnitLevel.PROVINCE: 34, UnitLevel.COMMUNE: 3_321}


def test_the_2025_edition_has_6_centrally_governed_cities_and_13_special_zones():
    units = AdminUnit.objects.filter(edition__code="2025")
    assert units.filter(unit_type=UnitType.CENTRAL_CITY).count() == 6
    assert units.filter(unit_type=UnitType.SPECIAL_ZONE).count() == 13


def test_hop_thanh_is_02680_under_lao_cai_city_in_2024():
    hop_thanh = AdminUnit.objects.get(edition__code="2024", code="02680")
    assert (hop_thanh.name, hop_thanh.short_name) == ("Xã Hợp Thành", "Hợp Thành")
    assert hop_thanh.unit_type == UnitType.COMMUNE
    assert (hop_thanh.parent.code, hop_thanh.parent.name) == ("080", "Thành phố Lào Cai")
    assert hop_thanh.parent.unit_type == UnitType.PROVINCIAL_CITY
    assert (hop_thanh.province.code, hop_thanh.province.name) == ("10", "Tỉnh Lào Cai")
    assert hop_thanh.full_path == "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai"


def test_hop_thanh_is_02680_directly_under_province_15_lao_cai_in_2025():
    hop_thanh = AdminUnit.objects.get(edition__code="2025", code="02680")
    assert hop_thanh.name == "Xã Hợp Thành"
    assert hop_thanh.parent == hop_thanh.province
    assert (hop_thanh.province.code, hop_thanh.province.name) == ("15", "Tỉnh Lào Cai")


def test_codes_are_zero_padded_to_the_width_of_their_level():
    widths = {
        (level, len(code))
        for level, code in AdminUnit.objects.values_list("level", "code").distinct()
    }
    assert widths == {(1, 2), (2, 3), (3, 5)}
    assert AdminUnit.objects.get(edition__code="2024", code="01").name == "Thành phố Hà Nội"


def test_every_unit_lies_in_a_province_of_its_own_edition():
    assert not AdminUnit.objects.filter(province__isnull=True).exists()
    assert not AdminUnit.objects.exclude(province__edition_id=F("edition_id")).exists()
    assert not AdminUnit.objects.exclude(province__level=UnitLevel.PROVINCE).exists()


def test_reloading_writes_nothing_and_reports_every_unit_unchanged():
    report = admin_units_load(source=EDITIONS["2024"])
    assert (report.created, report.changed, report.unchanged) == (0, 0, 10_810)
    assert AdminUnit.objects.filter(edition__code="2024").count() == 10_810
    assert Edition.objects.count() == 2


def test_reloading_repairs_a_unit_that_was_changed_by_hand():
    AdminUnit.objects.filter(edition__code="2025", code="02680").update(
        name="Xã Hợp Thanh", short_name="Hợp Thanh", search_name="hop thanh x"
    )
    report = admin_units_load(source=EDITIONS["2025"])
    assert (report.created, report.changed) == (0, 1)
    repaired = AdminUnit.objects.get(edition__code="2025", code="02680")
    assert (repaired.name, repaired.search_name) == ("Xã Hợp Thành", "hop thanh")


def test_the_command_prints_counts_per_edition_and_level(capsys):
    call_command("load_admin_units", "--edition", "2025")
    output = capsys.readouterr().out
    assert "Edition 2025" in output
    assert "provinces 34, communes 3,321" in output
    assert "unchanged 3,355" in output


def test_the_database_refuses_a_commune_code_of_the_wrong_width():
    province = AdminUnit.objects.get(edition__code="2025", code="15")
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminUnit.objects.create(
            edition=province.edition,
            code="2681",
            level=UnitLevel.COMMUNE,
            unit_type=UnitType.COMMUNE,
            name="Xã Thử",
            short_name="Thử",
            search_name="thu",
            parent=province,
            province=province,
        )


def test_the_database_refuses_overlapping_editions():
    with pytest.raises(IntegrityError), transaction.atomic():
        Edition.objects.create(
            code="2025b",
            in_force=DateRange(datetime.date(2026, 1, 1), None),
            source="test",
        )
