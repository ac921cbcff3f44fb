"""Look-ups of reference data: units by code, by name as people write it, by date; rates."""

import datetime
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CODE_LENGTHS, NAME_PREFIXES, AdminUnit, Edition, Rate, UnitType
from .text import fold


class UnitNotFound(LookupError):
    pass


class AmbiguousUnitName(LookupError):
    def __init__(self, message: str, candidates: list[AdminUnit]):
        super().__init__(message)
        self.candidates = candidates


# Folded words (and common abbreviations) that may stand before a unit's name,
# with the unit types each announces.
_PREFIX_TYPES: dict[str, set[str]] = {
    "tp": {UnitType.PROVINCIAL_CITY, UnitType.CENTRAL_CITY},
    "tx": {UnitType.TOWN},
    "tt": {UnitType.TOWNSHIP},
}
for _type, _prefix in NAME_PREFIXES.items():
    _PREFIX_TYPES.setdefault(fold(_prefix), set()).add(_type)


def _split_prefix(folded: str) -> tuple[set[str], str] | None:
    """Return (types announced, rest of the name) when ``folded`` starts with a type word."""
    for prefix in sorted(_PREFIX_TYPES, key=len, reverse=True):
        if folded.startswith(prefix + " "):
            return _PREFIX_TYPES[prefix], folded[len(prefix) + 1 :]
    return None


def name_search_terms(name: str) -> list[str]:
    """Return the folded forms to compare with ``search_name``: "Xã Hợp Thành" gives
    ["xa hop thanh", "hop thanh"]."""
    folded = fold(name)
    split = _split_prefix(folded)
    return [folded, split[1]] if split else [folded]


def edition_in_force_on(day: datetime.date) -> Edition:
    """Return the edition of administrative units in force on ``day``."""
    try:
        return Edition.objects.get(in_force__contains=day)
    except Edition.DoesNotExist:
        raise UnitNotFound(
            _("No edition of administrative units is in force on %(day)s.")
            % {"day": day.strftime("%d/%m/%Y")}
        ) from None


def unit_get_by_code(*, code: str, edition: Edition, level: int | None = None) -> AdminUnit:
    """Return the unit with ``code`` in ``edition``.

    With ``level``, a code that lost its leading zeros (2680 from a number cell)
    is padded to that level's width first.
    """
    code = str(code).strip()
    if level is not None and code.isdigit():
        code = code.zfill(CODE_LENGTHS[level])
    try:
        return AdminUnit.objects.select_related("parent", "province").get(
            edition=edition, code=code
        )
    except AdminUnit.DoesNotExist:
        raise UnitNotFound(
            _("No administrative unit has code %(code)s in the %(edition)s.")
            % {"code": code, "edition": edition}
        ) from None


def unit_id_today(*, code: str, level: int) -> int | None:
    """Return the id of today's unit of ``level`` with ``code``, or None.

    Kept a day in the cache (units change only with a new edition, which gets
    new ids): API filters by area ask it on every page.
    """
    if not (code.isascii() and code.isdigit() and len(code) == CODE_LENGTHS[level]):
        return None  # no such code, and nothing a caller sends is kept
    today = timezone.localdate()
    key = f"unit-id:{today}:{level}:{code}"
    found = cache.get(key)
    if found is None:
        unit = (
            AdminUnit.objects.filter(edition__in_force__contains=today, level=level, code=code)
            .values_list("pk", flat=True)
            .first()
        )
        found = (unit,)
        cache.set(key, found, 86_400)
    return found[0]


def unit_find_by_name(
    name: str,
    *,
    edition: Edition,
    within: AdminUnit | None = None,
    level: int | None = None,
) -> AdminUnit:
    """Return the one unit called ``name``, ignoring case, diacritics and type prefix.

    "hop thanh", "Xã Hợp Thành" and "HỢP THÀNH" all find Hợp Thành.  A name that
    several units share needs ``within`` (their province or district); a type
    word in the name ("Xã", "Phường", "TP") narrows the choice too.  Raises
    UnitNotFound or AmbiguousUnitName.  Two indexed queries at most.
    """
    folded = fold(name)
    units = AdminUnit.objects.filter(edition=edition).select_related("parent", "province")
    if within is not None:
        units = units.within(within)
    if level is not None:
        units = units.filter(level=level)

    # The whole name first: "Quan Hóa" is a district, not "Hóa" in a "quận".
    matches = list(units.filter(search_name=folded)[:20])
    if not matches and (split := _split_prefix(folded)):
        types, rest = split
        matches = list(units.filter(search_name=rest)[:20])
        matches = [unit for unit in matches if unit.unit_type in types] or matches

    if not matches:
        raise UnitNotFound(
            _("No administrative unit is called “%(name)s” in the %(edition)s.")
            % {"name": name, "edition": edition}
        )
    if len(matches) > 1:
        raise AmbiguousUnitName(
            _("“%(name)s” names %(count)d units; give the province or district.")
            % {"name": name, "count": len(matches)},
            candidates=matches,
        )
    return matches[0]


class RateMissing(LookupError):
    pass


def rate_on(kind: str, day: datetime.date) -> Decimal:
    """Return the value of the figure ``kind`` in force on ``day`` (one indexed query)."""
    rate = Rate.objects.filter(kind=kind, valid_from__lte=day).order_by("-valid_from").first()
    if rate is None:
        raise RateMissing(
            _("No “%(kind)s” is recorded for %(day)s: add it under Rates.")
            % {"kind": Rate.Kind(kind).label, "day": day.strftime("%d/%m/%Y")}
        )
    return rate.value
