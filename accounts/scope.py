"""Where each user may look and act: the one place that narrows querysets by area.

Every entry point (admin lists and forms, autocomplete, filters, exports,
minutes, bulk actions, and later the API, dashboards and imports) passes its
querysets through ``scoped``.  Areas are provinces and communes of today's
edition; records of older editions carry the id of the province that took
theirs over (``province`` columns, indexed), so a check is one equality on
millions of rows, never a walk up the unit tree.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from reference.models import UnitLevel

from .models import User


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    provinces: frozenset[int] = frozenset()
    # For commune staff: the communes whose people they serve; None for whole provinces.
    communes: frozenset[int] | None = None
    # Their codes, which a commune of an older edition shares with its successor.
    commune_codes: frozenset[str] = frozenset()
    sponsor: int | None = None

    def filter(self, queryset: QuerySet) -> QuerySet:
        """Return ``queryset`` narrowed to this scope (one more WHERE clause)."""
        if self.everything:
            return queryset
        condition = _CONDITIONS.get(queryset.model._meta.label)
        if condition is None:
            return queryset  # reference data and plans are the same for everyone
        return queryset.filter(condition(self))

    def allows_unit(self, unit) -> bool:
        """Return whether ``unit`` (of any edition) lies in this scope."""
        if self.everything:
            return True
        in_provinces = unit.current_province_id in self.provinces
        if self.communes is not None and unit.level == UnitLevel.COMMUNE:
            return unit.pk in self.communes or (in_provinces and unit.code in self.commune_codes)
        return in_provinces


def _people(scope: Scope, prefix: str = "") -> Q:
    if scope.communes is not None:
        return Q(**{f"{prefix}commune_id__in": scope.communes})
    return Q(**{f"{prefix}province_id__in": scope.provinces})


def _units(scope: Scope) -> Q:
    in_provinces = Q(province_id__in=scope.provinces) | Q(
        province__successor_id__in=scope.provinces
    )
    if scope.communes is not None:
        return Q(pk__in=scope.communes) | (in_provinces & Q(code__in=scope.commune_codes))
    return in_provinces


def _items(scope: Scope) -> Q:
    if scope.communes is not None:
        return _people(scope, "beneficiary__")
    return Q(province_id__in=scope.provinces)


_CONDITIONS = {
    "beneficiaries.Beneficiary": _people,
    "distributions.Item": _items,
    "distributions.Quota": lambda scope: Q(province_id__in=scope.provinces),
    "distributions.Handover": lambda scope: Q(province_id__in=scope.provinces),
    "distributions.Pledge": lambda scope: (
        Q(sponsor_id=scope.sponsor)
        if scope.sponsor
        else Q(province_id__in=scope.provinces) | Q(province__isnull=True)
    ),
    "sponsors.Sponsor": lambda scope: Q(pk=scope.sponsor) if scope.sponsor else Q(),
    "reference.AdminUnit": _units,
}


def scope_of(user: User) -> Scope:
    """Return the user's scope, read once per request and kept on the user object."""
    cached = getattr(user, "_scope", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        scope = Scope()
    elif user.is_superuser or user.has_perm("accounts.view_all_areas"):
        scope = Scope(everything=True)
    else:
        units = list(user.assignments.select_related("unit"))
        provinces = {a.unit_id for a in units if a.unit.level == UnitLevel.PROVINCE}
        communes = [a.unit for a in units if a.unit.level == UnitLevel.COMMUNE]
        scope = Scope(
            provinces=frozenset(provinces | {a.unit.province_id for a in units}),
            # Province staff who also hold communes see the whole province.
            communes=frozenset(c.pk for c in communes) if communes and not provinces else None,
            commune_codes=frozenset(c.code for c in communes),
            sponsor=user.sponsor_id,
        )
    user._scope = scope
    return scope


def scoped(queryset: QuerySet, user: User) -> QuerySet:
    """Return ``queryset`` narrowed to what ``user`` may see."""
    return scope_of(user).filter(queryset)
