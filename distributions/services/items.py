"""Cards and books: issue, confirm, deliver, cancel or return."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import require_scope
from beneficiaries.models import Beneficiary
from reference.selectors import RateMissing

from ..models import Handover, Item, Plan, Pledge, Quota
from ._common import _descendants
from .errors import QuotaExhausted
from .values import BookDetails, CardDetails, book_income, card_end, item_value


@transaction.atomic
def item_issue(
    *,
    beneficiary: Beneficiary,
    quota: Quota,
    pledge: Pledge,
    details: CardDetails | BookDetails,
    issued_on: datetime.date,
    number: str = "",
    handover: Handover | None = None,
    reserved: bool = False,
    actor: User | None,
) -> Item:
    """Issue a card or a book to a person against a quota, paid by a pledge.

    ``reserved`` holds the place (in quota and pledge) for a card or book not
    yet printed; ``item_confirm`` then marks it issued.

    Locks the quota, then the pledge (always in that order, so two issuances
    cannot deadlock), and raises QuotaExhausted when either has no place left.
    """
    require_scope(actor, beneficiary=beneficiary, quota=quota, pledge=pledge, handover=handover)
    quota = Quota.objects.select_for_update().select_related("plan", "unit").get(pk=quota.pk)
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    plan = quota.plan
    kind = Item.Kind.CARD if isinstance(details, CardDetails) else Item.Kind.BOOK

    if plan.status != Plan.Status.ACTIVE:
        raise ValidationError(
            _("Plan %(plan)s has the status “%(status)s”: it takes no new cards or books.")
            % {"plan": plan, "status": plan.get_status_display()}
        )
    if pledge.plan_id != plan.pk:
        raise ValidationError({"pledge": _("This pledge belongs to another plan.")})
    if pledge.unit_id and not (
        pledge.unit_id == quota.unit_id
        or _descendants(pledge.unit).filter(pk=quota.unit_id).exists()
    ):
        raise ValidationError(
            {"pledge": _("This pledge funds only %(area)s.") % {"area": pledge.unit}}
        )
    if handover is not None:
        _check_handover_takes_items(handover, quota)
    if beneficiary.anonymised_at is not None:
        raise ValidationError({"beneficiary": _("This recipient's record has been anonymised.")})
    if beneficiary.province_id != quota.province_id:
        # Otherwise one province's staff would see another's people in their lists.
        raise ValidationError(
            {"beneficiary": _("The recipient lives outside the area of this quota.")}
        )
    if Item.objects.filter(
        plan=plan, beneficiary=beneficiary, kind=kind, status__in=Item.COUNTED
    ).exists():
        raise ValidationError(
            _("%(person)s already has a %(kind)s under plan %(plan)s.")
            % {"person": beneficiary, "kind": Item.Kind(kind).label, "plan": plan}
        )

    counted = "cards" if kind == Item.Kind.CARD else "books"
    if getattr(quota, f"{counted}_available") < 1:
        raise QuotaExhausted(
            _("The quota of %(unit)s has no %(kind)s left.")
            % {"unit": quota.unit, "kind": Item.Kind(kind).label}
        )
    if getattr(pledge, counted) - getattr(pledge, f"{counted}_funded") < 1:
        raise QuotaExhausted(
            _("The pledge of %(sponsor)s has already funded every %(kind)s it promised.")
            % {"sponsor": pledge.sponsor, "kind": Item.Kind(kind).label}
        )

    item = Item(
        kind=kind,
        plan=plan,
        beneficiary=beneficiary,
        commune_id=beneficiary.commune_id,  # as the trigger sets it, known here without a query
        quota=quota,
        pledge=pledge,
        handover=handover,
        province_id=quota.province_id,
        number=number,
        status=Item.Status.RESERVED if reserved else Item.Status.ISSUED,
        issued_on=issued_on,
        created_by=actor,
    )
    try:
        item.value = item_value(details=details, issued_on=issued_on, category=beneficiary.category)
        if isinstance(details, BookDetails):
            item.income_base = book_income(details, issued_on)
    except RateMissing as error:
        # A date before the first recorded rate: the value cannot be worked out.
        raise ValidationError(str(error)) from error
    if isinstance(details, CardDetails):
        item.benefit_level = details.benefit_level
        item.participant_group = details.participant_group
        item.living_area = details.living_area
        item.primary_care_code = details.primary_care_code
        item.primary_care_name = details.primary_care_name
        item.valid_from = details.valid_from
        item.valid_until = card_end(details.valid_from, details.months)
    else:
        item.months_paid = details.months_paid
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as error:
        raise ValidationError(
            _("This card or book breaks a rule of the record: %(error)s") % {"error": error}
        ) from error

    Quota.objects.filter(pk=quota.pk).update(**{f"{counted}_used": F(f"{counted}_used") + 1})
    Pledge.objects.filter(pk=pledge.pk).update(
        **{f"{counted}_funded": F(f"{counted}_funded") + 1},
        value_funded=F("value_funded") + item.value,
    )
    return item


def _check_handover_takes_items(handover: Handover, quota: Quota) -> None:
    if handover.plan_id != quota.plan_id:
        raise ValidationError({"handover": _("This hand-over belongs to another plan.")})
    if handover.province_id != quota.province_id:
        raise ValidationError({"handover": _("This hand-over was held outside the quota's area.")})
    if handover.status == Handover.Status.CLOSED:
        raise ValidationError({"handover": _("This hand-over is closed.")})


def _lock_item(item: Item, actor: User | None) -> Item:
    require_scope(actor, item=item)
    return Item.objects.select_for_update().select_related("quota", "pledge").get(pk=item.pk)


@transaction.atomic
def item_confirm(
    *, item: Item, issued_on: datetime.date, number: str = "", actor: User | None
) -> Item:
    """Mark a reserved card or book issued (printed and ready to give)."""
    item = _lock_item(item, actor)
    if item.status != Item.Status.RESERVED:
        raise ValidationError(
            _("Only a reserved item can be marked issued; this one is “%(status)s”.")
            % {"status": item.get_status_display()}
        )
    item.status = Item.Status.ISSUED
    item.issued_on = issued_on
    item.number = number or item.number
    item.full_clean(exclude=["beneficiary", "quota", "pledge", "plan", "handover"])
    item.save()
    return item


@transaction.atomic
def item_deliver(
    *,
    item: Item,
    delivered_on: datetime.date,
    method: str,
    delivered_by: str = "",
    handover: Handover | None = None,
    actor: User | None,
) -> Item:
    """Record that the person received the card or book."""
    item = _lock_item(item, actor)
    if item.status != Item.Status.ISSUED:
        raise ValidationError(
            _("Only an issued item can be delivered; this one is “%(status)s”.")
            % {"status": item.get_status_display()}
        )
    if delivered_on < item.issued_on:
        raise ValidationError(
            {
                "delivered_on": _("Delivery cannot come before issue (%(day)s).")
                % {"day": item.issued_on.strftime("%d/%m/%Y")}
            }
        )
    if handover is not None:
        require_scope(actor, handover=handover)
        _check_handover_takes_items(handover, item.quota)
        item.handover = handover
    item.status = Item.Status.DELIVERED
    item.delivered_on = delivered_on
    item.delivery_method = method
    item.delivered_by = delivered_by
    item.save()
    counted = "cards" if item.kind == Item.Kind.CARD else "books"
    Quota.objects.filter(pk=item.quota_id).update(
        **{f"{counted}_delivered": F(f"{counted}_delivered") + 1}
    )
    return item


@transaction.atomic
def item_cancel(*, item: Item, reason: str, returned: bool = False, actor: User | None) -> Item:
    """Cancel an item, or record that it came back, freeing its place in quota and pledge."""
    if not reason.strip():
        raise ValidationError({"cancel_reason": _("Give the reason.")})
    item = _lock_item(item, actor)
    if not item.counted:
        raise ValidationError(
            _("This item is already %(status)s.") % {"status": item.get_status_display()}
        )
    if returned and item.status != Item.Status.DELIVERED:
        raise ValidationError(_("Only a delivered item can be returned."))
    counted = "cards" if item.kind == Item.Kind.CARD else "books"
    quota_changes = {f"{counted}_used": F(f"{counted}_used") - 1}
    if item.status == Item.Status.DELIVERED:
        quota_changes[f"{counted}_delivered"] = F(f"{counted}_delivered") - 1
    # Lock order as in item_issue: quota, then pledge.
    Quota.objects.select_for_update().filter(pk=item.quota_id).update(**quota_changes)
    Pledge.objects.select_for_update().filter(pk=item.pledge_id).update(
        **{f"{counted}_funded": F(f"{counted}_funded") - 1},
        value_funded=F("value_funded") - item.value,
    )
    item.status = Item.Status.RETURNED if returned else Item.Status.CANCELLED
    item.cancel_reason = reason.strip()
    item.save()
    return item
