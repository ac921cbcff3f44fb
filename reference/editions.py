"""The editions of administrative units the program knows, and where each comes from."""

import csv
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import vietnam_provinces
from django.db.backends.postgresql.psycopg_any import DateRange

from .models import LEVEL_TYPES, NAME_PREFIXES, UnitLevel, UnitType

REFORM_DAY = datetime.date(2025, 7, 1)  # Resolution 202/2025/QH15: 34 provinces, no districts
DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class UnitRow:
    code: str
    level: int
    unit_type: str
    name: str
    parent_code: str | None


@dataclass(frozen=True)
class EditionSource:
    code: str
    in_force: DateRange
    source: str
    read: Callable[[], list[UnitRow]]


def _type_from_name(level: int, name: str) -> str:
    """Return the unit type that the name's prefix (Xã, Phường, Huyện...) announces."""
    for unit_type in LEVEL_TYPES[level]:
        if name.startswith(NAME_PREFIXES[unit_type] + " "):
            return unit_type
    raise ValueError(f"cannot tell the type of {name!r} at level {level}")


def _read_2024() -> list[UnitRow]:
    levels_by_code_length = {2: 1, 3: 2, 5: 3}
    with (DATA_DIR / "admin_units_2024.csv").open(encoding="utf-8", newline="") as data:
        rows = []
        for record in csv.DictReader(data):
            level = levels_by_code_length[len(record["code"])]
            if level == UnitLevel.PROVINCE:
                # "Thành phố Hà Nội" is a province-level city, not a provincial city.
                unit_type = (
                    UnitType.CENTRAL_CITY
                    if record["name"].startswith("Thành phố ")
                    else UnitType.PROVINCE
                )
            else:
                unit_type = _type_from_name(level, record["name"])
            rows.append(
                UnitRow(
                    record["code"], level, unit_type, record["name"], record["parent_code"] or None
                )
            )
        return rows


_TYPES_2025 = {
    "tỉnh": UnitType.PROVINCE,
    "thành phố trung ương": UnitType.CENTRAL_CITY,
    "xã": UnitType.COMMUNE,
    "phường": UnitType.WARD,
    "đặc khu": UnitType.SPECIAL_ZONE,
}


def _read_2025() -> list[UnitRow]:
    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text("utf-8"))
    rows = []
    for province in provinces:
        unit_type = _TYPES_2025[province["division_type"]]
        prefix = NAME_PREFIXES[unit_type]
        # The package writes most provinces without "Tỉnh": the official name has it.
        name = province["name"]
        if not name.startswith(prefix + " "):
            name = f"{prefix} {name}"
        province_code = f"{province['code']:02d}"
        rows.append(UnitRow(province_code, UnitLevel.PROVINCE, unit_type, name, None))
        for ward in province["wards"]:
            rows.append(
                UnitRow(
                    f"{ward['code']:05d}",
                    UnitLevel.COMMUNE,
                    _TYPES_2025[ward["division_type"]],
                    ward["name"],
                    province_code,
                )
            )
    return rows


EDITIONS = {
    "2024": EditionSource(
        code="2024",
        in_force=DateRange(None, REFORM_DAY),
        source="vietnam-provinces 0.6.0 (reference/data/admin_units_2024.csv)",
        read=_read_2024,
    ),
    "2025": EditionSource(
        code="2025",
        in_force=DateRange(REFORM_DAY, None),
        source=f"vietnam-provinces {vietnam_provinces.__version__}",
        read=_read_2025,
    ),
}
