from typing import Any

from beneficiaries.models import Beneficiary

from .models import Item


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
