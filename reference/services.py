import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F

from .editions import EditionSource, UnitRow
from .models import NAME_PREFIXES, AdminUnit, Edition, Rate, UnitLevel
from .text import fold, normalize


@dataclass
class LoadReport:
    edition: Edition
    per_level: Counter = field(default_factory=Counter)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    not_in_source: int = 0


def _short_name(name: str, unit_type: str) -> str:
    prefix = NAME_PREFIXES[unit_type] + " "
    rest = name[len(prefix) :] if name.startswith(prefix) else name
    # "Phường 1" is only ever called that; "1" alone names nothing.
    return name if rest.isdigit() else rest


@transaction.atomic
def admin_units_load(*, source: EditionSource) -> LoadReport:
    """Create or update one edition's units from its source; return what changed.

    Idempotent: rows that already hold the source's values are not written, and
    units no longer in the source are kept (records may point at them) and
    counted.  A few bulk statements per level, so the whole country loads in
    seconds.
    """
    edition, _ = Edition.objects.update_or_create(
        code=source.code, defaults={"in_force": source.in_force, "source": source.source}
    )
    report = LoadReport(edition=edition)
    rows = sorted(source.read(), key=lambda row: row.level)
    existing = {
        unit.code: unit
        for unit in AdminUnit.objects.filter(edition=edition).only(
            "id",
            "code",
            "level",
            "unit_type",
            "name",
            "short_name",
            "search_name",
            "parent",
            "province",
        )
    }
    ids = {code: unit.pk for code, unit in existing.items()}
    province_of: dict[str, str] = {}  # unit code -> its province's code

    for level in UnitLevel:
        level_rows = [row for row in rows if row.level == level]
        report.per_level[level] = len(level_rows)
        to_write = []
        for row in level_rows:
            province_of[row.code] = (
                row.code if level == UnitLevel.PROVINCE else province_of[row.parent_code]
            )
            unit = _unit_from_row(row, edition, ids, province_of)
            current = existing.get(row.code)
            if current is None:
                report.created += 1
            elif _same(current, unit):
                report.unchanged += 1
                continue
            else:
                report.changed += 1
            to_write.append(unit)
        written = AdminUnit.objects.bulk_create(
            to_write,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["edition", "code"],
            update_fields=[
                "level",
                "unit_type",
                "name",
                "short_name",
                "search_name",
                "parent",
                "province",
            ],
        )
        ids.update({unit.code: unit.pk for unit in written})

    # A province is its own province; its id is known only once it is written.
    AdminUnit.objects.filter(
        edition=edition, level=UnitLevel.PROVINCE, province__isnull=True
    ).update(province=F("id"))
    report.not_in_source = len(set(existing) - {row.code for row in rows})
    return report


def _unit_from_row(
    row: UnitRow, edition: Edition, ids: dict[str, int], province_of: dict[str, str]
) -> AdminUnit:
    name = normalize(row.name)
    short_name = _short_name(name, row.unit_type)
    province_code = province_of[row.code]
    return AdminUnit(
        edition=edition,
        code=row.code,
        level=row.level,
        unit_type=row.unit_type,
        name=name,
        short_name=short_name,
        search_name=fold(short_name),
        parent_id=ids[row.parent_code] if row.parent_code else None,
        province_id=ids.get(province_code) if province_code != row.code else None,
    )


def _same(current: AdminUnit, new: AdminUnit) -> bool:
    fields = ["level", "unit_type", "name", "short_name", "search_name", "parent_id"]
    if new.level != UnitLevel.PROVINCE:
        fields.append("province_id")
    return all(getattr(current, name) == getattr(new, name) for name in fields)


@transaction.atomic
def province_successors_link(*, old: Edition, new: Edition) -> int:
    """Record which province of ``new`` took over each province of ``old``; return how many.

    Read from the data: a new commune keeps the code of an old one, and every
    old province's communes went to exactly one new province.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE reference_adminunit AS old_province
               SET successor_id = pairs.new_province
              FROM (
                SELECT DISTINCT old_commune.province_id AS old_province,
                       new_commune.province_id AS new_province
                  FROM reference_adminunit AS old_commune
                  JOIN reference_adminunit AS new_commune
                    ON new_commune.code = old_commune.code
                   AND new_commune.edition_id = %s AND new_commune.level = 3
                 WHERE old_commune.edition_id = %s AND old_commune.level = 3
              ) AS pairs
             WHERE old_province.id = pairs.old_province
               AND old_province.successor_id IS DISTINCT FROM pairs.new_province
            """,
            [new.pk, old.pk],
        )
        return cursor.rowcount


# The figures of DOMAIN.md, "What a gift is worth".  Loaded once; an
# administrator corrects or extends them in the admin, and reloading never
# overwrites a figure that is already there.
DEFAULT_RATES = [
    (Rate.Kind.BASE_SALARY, "2019-07-01", "1490000", "Nghị định 38/2019/NĐ-CP"),
    (Rate.Kind.BASE_SALARY, "2023-07-01", "1800000", "Nghị định 24/2023/NĐ-CP"),
    (Rate.Kind.BASE_SALARY, "2024-07-01", "2340000", "Nghị định 73/2024/NĐ-CP"),
    (Rate.Kind.HEALTH_INSURANCE_HOUSEHOLD, "2015-01-01", "0.045", "Luật BHYT 46/2014/QH13"),
    (Rate.Kind.VOLUNTARY_SOCIAL_INSURANCE, "2018-01-01", "0.22", "Luật BHXH 58/2014/QH13"),
    (Rate.Kind.VSI_MINIMUM_INCOME, "2022-01-01", "1500000", "Nghị định 07/2021/NĐ-CP"),
    (Rate.Kind.VSI_SUPPORT_POOR, "2018-01-01", "0.30", "Nghị định 134/2015/NĐ-CP"),
    (Rate.Kind.VSI_SUPPORT_POOR, "2025-07-01", "0.50", "Luật BHXH 41/2024/QH15"),
    (Rate.Kind.VSI_SUPPORT_NEAR_POOR, "2018-01-01", "0.25", "Nghị định 134/2015/NĐ-CP"),
    (Rate.Kind.VSI_SUPPORT_NEAR_POOR, "2025-07-01", "0.40", "Luật BHXH 41/2024/QH15"),
    (Rate.Kind.VSI_SUPPORT_ETHNIC_MINORITY, "2018-01-01", "0.10", "Nghị định 134/2015/NĐ-CP"),
    (Rate.Kind.VSI_SUPPORT_ETHNIC_MINORITY, "2025-07-01", "0.30", "Luật BHXH 41/2024/QH15"),
    (Rate.Kind.VSI_SUPPORT_OTHER, "2018-01-01", "0.10", "Nghị định 134/2015/NĐ-CP"),
    (Rate.Kind.VSI_SUPPORT_OTHER, "2025-07-01", "0.20", "Luật BHXH 41/2024/QH15"),
]


@transaction.atomic
def rates_load_defaults() -> int:
    """Add the default rates that are missing; return how many were added."""
    added = 0
    for kind, valid_from, value, legal_basis in DEFAULT_RATES:
        _rate, created = Rate.objects.get_or_create(
            kind=kind,
            valid_from=datetime.date.fromisoformat(valid_from),
            defaults={"value": Decimal(value), "legal_basis": legal_basis},
        )
        added += created
    return added
