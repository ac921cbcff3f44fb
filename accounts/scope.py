"""Where each user may look and act: the one place that narrows querysets by area.

Every entry point (admin lists and forms, autocomplete, filters, exports,
minutes, bulk actions, and later the API, dashboards and imports) passes its
querysets through ``scoped``.  Areas are provinces and communes of today's
edition; records of older editions carry the id of the province that took
theirs over (``province`` columns, indexed), so a check is one equality on
millions of rows, never a walk up the unit tree.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Model, Q, QuerySet
from django.utils.translation import gettext as _

from reference.models import AdminUnit, UnitLevel

from .models import User


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    # Whole provinces: everything in them.
    provinces: frozenset[int] = frozenset()
    # Single communes: their people and what those received; the provinces
    # they lie in give the context (quotas, hand-overs, pledges) read-only,
    # since the services let commune staff write only at commune level.
    communes: frozenset[int] = frozenset()
    commune_provinces: frozenset[int] = frozenset()
    # The communes' codes, which a commune of an older edition shares with its successor.
    commune_codes: frozenset[str] = frozenset()
    sponsor: int | None = None

    @property
    def context_provinces(self) -> frozenset[int]:
        return self.provinces | self.commune_provinces

    def condition(self, model: type[Model]) -> Q:
        """Return the condition on ``model``'s rows that this scope sees (Q() for all)."""
        if self.everything:
            return Q()
        condition = _CONDITIONS.get(model._meta.label)
        if condition is None:
            return Q()  # reference data and plans are the same for everyone
        return condition(self)

    def sees(self, model: type[Model]) -> ExpressionWrapper:
        """Return a boolean column saying whether this scope sees each row of ``model``.

        For lists that need every row (to place them on a map, to name them)
        but may show the figures of the visible ones only.
        """
        return ExpressionWrapper(self.condition(model) or Q(pk__isnull=False), BooleanField())

    def filter(self, queryset: QuerySet) -> QuerySet:
        """Return ``queryset`` narrowed to this scope (one more WHERE clause)."""
        return queryset.filter(self.condition(queryset.model))

    def allows_unit(self, unit) -> bool:
        """Return whether records may be written for ``unit`` (of any edition)."""
        if self.everything:
            return True
        province = unit.current_province_id
        if province in self.provinces:
            return True
        return unit.level == UnitLevel.COMMUNE and (
            unit.pk in self.communes
            or (unit.code in self.commune_codes and province in self.commune_provinces)
        )


def _people(scope: Scope, prefix: str = "") -> Q:
    return Q(**{f"{prefix}province_id__in": scope.provinces}) | Q(
        **{f"{prefix}commune_id__in": scope.communes}
    )


def _units(scope: Scope) -> Q:
    whole = Q(province_id__in=scope.provinces) | Q(province__successor_id__in=scope.provinces)
    in_commune_provinces = Q(province_id__in=scope.commune_provinces) | Q(
        province__successor_id__in=scope.commune_provinces
    )
    communes = Q(pk__in=scope.communes) | (
        in_commune_provinces & Q(level=UnitLevel.COMMUNE, code__in=scope.commune_codes)
    )
    return whole | communes


def _items(scope: Scope) -> Q:
    condition = Q(province_id__in=scope.provinces)
    if scope.communes:
        # The recipient's commune, which the items carry (Item.commune).
        condition |= Q(commune_id__in=scope.communes)
    if scope.sponsor:
        # What its pledges paid for: counted in its figures (its role lists no items).
        condition |= Q(pledge__sponsor_id=scope.sponsor)
    return condition


def _tallies(scope: Scope) -> Q:
    # The tally counts by province and pledge, not by the recipients' commune: commune
    # staff read the items themselves (dashboards.forms.DashboardFilters.source).
    condition = Q(province_id__in=scope.provinces)
    if scope.sponsor:
        condition |= Q(pledge__sponsor_id=scope.sponsor)
    return condition


def _context(scope: Scope) -> Q:
    return Q(province_id__in=scope.context_provinces)


_CONDITIONS = {
    "beneficiaries.Beneficiary": _people,
    "distributions.Item": _items,
    "distributions.ItemTally": _tallies,
    "distributions.Quota": _context,
    "distributions.Handover": _context,
    "distributions.Pledge": lambda scope: (
        Q(sponsor_id=scope.sponsor) if scope.sponsor else _context(scope) | Q(province__isnull=True)
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
        units = [a.unit for a in user.assignments.select_related("unit")]
        communes = [unit for unit in units if unit.level == UnitLevel.COMMUNE]
        scope = Scope(
            provinces=frozenset(u.pk for u in units if u.level == UnitLevel.PROVINCE),
            communes=frozenset(c.pk for c in communes),
            commune_provinces=frozenset(c.province_id for c in communes),
            commune_codes=frozenset(c.code for c in communes),
            sponsor=user.sponsor_id,
        )
    user._scope = scope
    return scope


def scoped(queryset: QuerySet, user: User) -> QuerySet:
    """Return ``queryset`` narrowed to what ``user`` may see."""
    return scope_of(user).filter(queryset)


class OutOfScope(ValidationError):
    """The record lies outside the areas the actor works for."""


def require_scope(actor: User | None, **records: Model | None) -> None:
    """Refuse records outside the actor's areas (None: the system itself, e.g. a command).

    The services call it: the admin offers only records in scope, and this
    holds the rule for every other caller too (API, importers).
    """
    if actor is None:
        return
    scope = scope_of(actor)
    for field, record in records.items():
        if record is None:
            continue
        if isinstance(record, AdminUnit):
            allowed = scope.allows_unit(record)
        else:
            allowed = scope.filter(type(record).objects.filter(pk=record.pk)).exists()
        if not allowed:
            raise OutOfScope({field: _("This lies outside the areas you work for.")})
