from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from accounts.scope import scoped
from beneficiaries.models import Beneficiary
from reference.models import AdminUnit, UnitLevel
from sponsors.models import Sponsor

from .models import Handover, Item, Plan, Pledge, Quota


def _choice(item: Item, field: str) -> dict[str, str] | None:
    code = getattr(item, field)
    if not code:
        return None
    return {"code": code, "label": str(getattr(item, f"get_{field}_display")())}


def _day(value) -> str | None:
    return value.isoformat() if value else None


def beneficiary_items_data(beneficiary: Beneficiary) -> list[dict[str, Any]]:
    """Return every card and book of a recipient, whatever its status, for an access request.

    One query (plans, sponsors, units and hand-overs joined); labels in the
    active language, codes beside them.
    """
    items = (
        Item.objects.filter(beneficiary=beneficiary)
        .select_related("plan", "pledge__sponsor", "quota__unit", "handover__place")
        .order_by("issued_on", "pk")
    )
    rows = []
    for item in items:
        row = {
            "kind": _choice(item, "kind"),
            "plan": {"number": item.plan.number, "title": item.plan.title},
            "number": item.number,
            "status": _choice(item, "status"),
            "issued_on": _day(item.issued_on),
            "value_vnd": item.value,
            "sponsor": item.pledge.sponsor.name_vi,
            "unit": item.quota.unit.name,
        }
        if item.kind == Item.Kind.CARD:
            row["card"] = {
                "benefit_level": item.benefit_level,
                "participant_group": item.participant_group,
                "living_area": item.living_area,
                "primary_care_code": item.primary_care_code,
                "primary_care_name": item.primary_care_name,
                "valid_from": _day(item.valid_from),
                "valid_until": _day(item.valid_until),
            }
        else:
            row["book"] = {"months_paid": item.months_paid, "income_base_vnd": item.income_base}
        row["handover"] = (
            {
                "title": item.handover.title,
                "held_on": _day(item.handover.held_on),
                "place": item.handover.place.name,
            }
            if item.handover
            else None
        )
        row["delivered_on"] = _day(item.delivered_on)
        row["delivery_method"] = _choice(item, "delivery_method")
        row["delivered_by"] = item.delivered_by
        row["cancel_reason"] = item.cancel_reason
        rows.append(row)
    return rows


def _by_quota_and_kind(items) -> dict[tuple[int, str], dict[str, int]]:
    rows = items.values("quota_id", "kind").annotate(
        total=Sum("value"),
        delivered_total=Sum("value", filter=Q(status=Item.Status.DELIVERED)),
    )
    return {(row["quota_id"], row["kind"]): row for row in rows}


def plan_stats(plan: Plan, quotas: QuerySet[Quota]) -> dict[str, Any]:
    """Return a plan's figures over ``quotas`` (already scoped): totals and one row per quota.

    A quota's issued and delivered counts are those of the items issued against it
    (not its sub-units'), so the totals add each item once.  Two queries: the
    quotas with their units, and the items' values summed by quota and kind.
    """
    quotas = list(
        quotas.filter(plan=plan).select_related("unit", "parent__unit").order_by("unit__code")
    )
    values = _by_quota_and_kind(
        Item.objects.filter(quota__in=[q.pk for q in quotas], status__in=Item.COUNTED)
    )
    totals = {
        kind: {"target": target, "allocated": allocated, "issued": 0, "delivered": 0, "value": 0}
        for kind, target, allocated in (
            ("cards", plan.target_cards, plan.cards_allocated),
            ("books", plan.target_books, plan.books_allocated),
        )
    }
    units = []
    for quota in quotas:
        row = {
            "unit": {"id": quota.unit_id, "code": quota.unit.code, "name": quota.unit.name},
            "parent_unit": quota.parent.unit.code if quota.parent else None,
        }
        for kind, item_kind in (("cards", Item.Kind.CARD), ("books", Item.Kind.BOOK)):
            summed = values.get((quota.pk, item_kind), {})
            figures = {
                "quota": getattr(quota, kind),
                "split": getattr(quota, f"{kind}_split"),
                "issued": getattr(quota, f"{kind}_used"),
                "delivered": getattr(quota, f"{kind}_delivered"),
                "value": summed.get("total") or 0,
                "delivered_value": summed.get("delivered_total") or 0,
            }
            row[kind] = figures
            for name in ("issued", "delivered", "value"):
                totals[kind][name] += figures[name]
        units.append(row)
    return {"plan": {"id": plan.pk, "number": plan.number}, "totals": totals, "units": units}


def sponsor_stats(
    sponsor: Sponsor, pledges: QuerySet[Pledge], items: QuerySet[Item]
) -> dict[str, Any]:
    """Return what a sponsor's pledges promised and paid for, by province.

    ``pledges`` and ``items`` are the viewer's (scoped): a province office sees a
    national pledge's items in its own province only.  Two queries: the pledges,
    and their items counted by pledge, province and kind.
    """
    pledges = list(
        pledges.filter(sponsor=sponsor)
        .select_related("plan", "unit")
        .order_by("plan__signed_on", "pk")
    )
    counts = (
        items.filter(pledge__in=[p.pk for p in pledges], status__in=Item.COUNTED)
        .values("pledge_id", "province__code", "province__name", "kind")
        .annotate(
            issued=Count("pk"),
            delivered=Count("pk", filter=Q(status=Item.Status.DELIVERED)),
            total=Sum("value"),
        )
        .order_by("pledge_id", "province__code", "kind")
    )
    by_pledge: dict[int, list[dict]] = {}
    for row in counts:
        by_pledge.setdefault(row["pledge_id"], []).append(
            {
                "province": {"code": row["province__code"], "name": row["province__name"]},
                "kind": row["kind"],
                "issued": row["issued"],
                "delivered": row["delivered"],
                "value": row["total"] or 0,
            }
        )
    rows = []
    for pledge in pledges:
        funded = by_pledge.get(pledge.pk, [])
        rows.append(
            {
                "id": pledge.pk,
                "plan": {"id": pledge.plan_id, "number": pledge.plan.number},
                "unit": pledge.unit.code if pledge.unit else None,
                "pledged": {
                    "cards": pledge.cards,
                    "books": pledge.books,
                    "amount": pledge.amount_pledged,
                },
                "received": pledge.amount_received,
                "funded": {
                    "cards": pledge.cards_funded,
                    "books": pledge.books_funded,
                    "value": pledge.value_funded,
                    "delivered": sum(row["delivered"] for row in funded),
                },
                "by_province": funded,
            }
        )
    return {
        "sponsor": {"id": sponsor.pk, "short_name": sponsor.short_name, "name": sponsor.name_vi},
        "totals": {
            name: sum(row["funded"][name] for row in rows)
            for name in ("cards", "books", "value", "delivered")
        }
        | {"amount_pledged": sum(r["pledged"]["amount"] for r in rows)}
        | {"amount_received": sum(r["received"] for r in rows)},
        "pledges": rows,
    }


def holding(*, plan_id: int | None = None, kind: str | None = None) -> Exists:
    """Return the condition "the recipient holds a card or book" (of ``kind``, of ``plan_id``)."""
    items = Item.objects.filter(beneficiary=OuterRef("pk"), status__in=Item.COUNTED)
    if plan_id is not None:
        items = items.filter(plan_id=plan_id)
    if kind is not None:
        items = items.filter(kind=kind)
    return Exists(items)


def items_under(items: QuerySet, unit: AdminUnit) -> QuerySet:
    """Return the ``items`` (or their tally) given under a quota of ``unit`` or of a unit inside it.

    ``unit`` is of the plan's edition: the quotas' units are.  The dashboards and
    the admin's list of cards and books narrow by area through this one rule.
    """
    if unit.level == UnitLevel.PROVINCE:
        return items.filter(quota__unit__province=unit)  # a province's own province is itself
    return items.filter(Q(quota__unit=unit) | Q(quota__unit__parent=unit))


def items_of_residents(items: QuerySet[Item], commune: AdminUnit) -> QuerySet[Item]:
    """Return the ``items`` of people who live in ``commune`` (of today) now."""
    return items.filter(commune=commune)


def handovers_held_in(handovers: QuerySet[Handover], commune: AdminUnit) -> QuerySet[Handover]:
    """Return the hand-overs held in ``commune`` (of today) or in the commune it took over.

    A commune of an older edition shares its code with its successor, as the
    access rules read it (accounts.scope): Hợp Thành of 2024 is Hợp Thành of today.
    """
    return handovers.filter(
        Q(place=commune)
        | Q(
            place__level=UnitLevel.COMMUNE,
            place__code=commune.code,
            province_id=commune.current_province_id,
        )
    )


def sponsors_pledging(user, plan: Plan | None = None) -> QuerySet[Sponsor]:
    """Return the sponsors of the pledges ``user`` sees (of ``plan``), by short name: the
    choices of a filter by sponsor (the dashboards', the cards and books' list)."""
    pledges = scoped(Pledge.objects.all(), user)
    if plan is not None:
        pledges = pledges.filter(plan=plan)
    return Sponsor.objects.filter(pk__in=pledges.values("sponsor")).order_by("short_name")
