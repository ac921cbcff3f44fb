"""Every write of plans, quotas, pledges, hand-overs, cards and books.

The admin, the API, importers and commands call these functions; each runs in
one transaction and locks the quota and pledge rows it counts against
(``select_for_update``), so two people taking the last card of a quota at the
same moment cannot both succeed.  The counters on quotas, pledges and plans
change only here, and check constraints in PostgreSQL refuse any overspending
that slipped past.
"""

import calendar
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import scope_of
from beneficiaries.models import Beneficiary
from reference.models import AdminUnit, Rate
from reference.selectors import edition_in_force_on, rate_on
from sponsors.models import Sponsor

from .models import Handover, Item, Plan, Pledge, Quota


class QuotaExhausted(ValidationError):
    """A quota or a pledge has no place left: a conflict, not bad input."""


class OutOfScope(ValidationError):
    """The record lies outside the areas the actor works for."""


def _require_scope(actor: User | None, **records) -> None:
    """Refuse records outside the actor's areas (None: the system itself, e.g. a command).

    The admin offers only records in scope; this holds the rule for every
    other caller too (API, importers).
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


# -- values ----------------------------------------------------------------


def _vnd(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def card_value(*, valid_from: datetime.date, months: int = 12) -> int:
    """Return what a household health-insurance card costs, in VND.

    The first member's contribution: months x 4.5% x the base salary in force on
    the card's first day (12 x 4.5% x 2,340,000 = 1,263,600 from July 2024).
    """
    base_salary = rate_on(Rate.Kind.BASE_SALARY, valid_from)
    share = rate_on(Rate.Kind.HEALTH_INSURANCE_HOUSEHOLD, valid_from)
    return _vnd(months * share * base_salary)


_SUPPORT_BY_CATEGORY = {
    Beneficiary.Category.POOR: Rate.Kind.VSI_SUPPORT_POOR,
    Beneficiary.Category.NEAR_POOR: Rate.Kind.VSI_SUPPORT_NEAR_POOR,
    Beneficiary.Category.ETHNIC_MINORITY: Rate.Kind.VSI_SUPPORT_ETHNIC_MINORITY,
}


def book_value(*, issued_on: datetime.date, months: int, income_base: int, category: str) -> int:
    """Return what a sponsor pays for a voluntary social-insurance book, in VND.

    Each month: 22% of the chosen income, less the state's support, which is a
    share (by the person's category) of the contribution on the lowest income.
    """
    contribution = rate_on(Rate.Kind.VOLUNTARY_SOCIAL_INSURANCE, issued_on)
    minimum_income = rate_on(Rate.Kind.VSI_MINIMUM_INCOME, issued_on)
    support = rate_on(_SUPPORT_BY_CATEGORY.get(category, Rate.Kind.VSI_SUPPORT_OTHER), issued_on)
    monthly = contribution * income_base - support * contribution * minimum_income
    return _vnd(months * monthly)


def card_end(valid_from: datetime.date, months: int = 12) -> datetime.date:
    """Return the last day of a card that starts on ``valid_from`` and lasts ``months``."""
    month_index = valid_from.month - 1 + months
    year, month = valid_from.year + month_index // 12, month_index % 12 + 1
    day = min(valid_from.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day) - datetime.timedelta(days=1)


# -- plans and quotas -------------------------------------------------------


def _nearest_quota_above(plan: Plan, unit: AdminUnit) -> Quota | None:
    ancestor = unit.parent
    while ancestor is not None:
        quota = Quota.objects.filter(plan=plan, unit=ancestor).first()
        if quota is not None:
            return quota
        ancestor = ancestor.parent
    return None


@transaction.atomic
def quota_set(*, plan: Plan, unit: AdminUnit, cards: int, books: int, actor: User | None) -> Quota:
    """Create or change the quota of ``unit`` under ``plan``; return it.

    A quota below another (a commune under its city) takes its numbers from
    that quota's share; a top-level quota takes them from the plan's targets.
    Raises ValidationError when the numbers do not fit.
    """
    _require_scope(actor, unit=unit)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == Plan.Status.CLOSED:
        raise ValidationError(_("Plan %(plan)s is closed.") % {"plan": plan})
    if unit.edition_id != edition_in_force_on(plan.signed_on).pk:
        raise ValidationError(
            _("Choose a unit of the %(edition)s, in force when the plan was signed.")
            % {"edition": edition_in_force_on(plan.signed_on)}
        )
    quota = Quota.objects.select_for_update().filter(plan=plan, unit=unit).first()
    if quota is None:
        if Quota.objects.filter(plan=plan, unit__in=_descendants(unit)).exists():
            raise ValidationError(
                _(
                    "Sub-units of %(unit)s already have their own quotas; a quota cannot be set "
                    "above them afterwards."
                )
                % {"unit": unit}
            )
        quota = Quota(
            plan=plan,
            unit=unit,
            parent=_nearest_quota_above(plan, unit),
            province_id=unit.current_province_id,
        )
    if quota.parent_id is None and actor is not None and not scope_of(actor).everything:
        raise ValidationError(
            _("The national office sets the quotas of the plan; in your area you split them.")
        )
    if cards < quota.cards_split + quota.cards_used or books < quota.books_split + quota.books_used:
        raise ValidationError(
            _(
                "%(unit)s has already split or issued %(cards)d cards and %(books)d books; "
                "its quota cannot be lower."
            )
            % {
                "unit": unit,
                "cards": quota.cards_split + quota.cards_used,
                "books": quota.books_split + quota.books_used,
            }
        )
    cards_change, books_change = cards - quota.cards, books - quota.books
    if quota.parent_id:
        parent = Quota.objects.select_for_update().get(pk=quota.parent_id)
        if cards_change > parent.cards_available or books_change > parent.books_available:
            raise QuotaExhausted(
                _("%(parent)s has %(cards)d cards and %(books)d books left to split.")
                % {
                    "parent": parent.unit,
                    "cards": parent.cards_available,
                    "books": parent.books_available,
                }
            )
        Quota.objects.filter(pk=parent.pk).update(
            cards_split=F("cards_split") + cards_change,
            books_split=F("books_split") + books_change,
        )
    else:
        _check_targets(
            plan, plan.cards_allocated + cards_change, plan.books_allocated + books_change
        )
        Plan.objects.filter(pk=plan.pk).update(
            cards_allocated=F("cards_allocated") + cards_change,
            books_allocated=F("books_allocated") + books_change,
        )
    quota.cards, quota.books = cards, books
    quota.save()
    return quota


def _check_targets(plan: Plan, cards: int, books: int) -> None:
    over = []
    if plan.target_cards is not None and cards > plan.target_cards:
        over.append(_("%(n)d cards over a target of %(t)d") % {"n": cards, "t": plan.target_cards})
    if plan.target_books is not None and books > plan.target_books:
        over.append(_("%(n)d books over a target of %(t)d") % {"n": books, "t": plan.target_books})
    if over:
        raise QuotaExhausted(
            _("The quotas of plan %(plan)s would add up to %(over)s.")
            % {"plan": plan, "over": "; ".join(over)}
        )


def _descendants(unit: AdminUnit):
    return AdminUnit.objects.filter(edition_id=unit.edition_id).within(unit)


@transaction.atomic
def quota_delete(*, quota: Quota, actor: User | None) -> None:
    """Delete a quota that nothing has used, giving its numbers back."""
    quota = Quota.objects.select_for_update().get(pk=quota.pk)
    if quota.cards_split or quota.books_split or quota.items.exists():
        raise ValidationError(
            _("The quota of %(unit)s has been split or used and cannot be deleted.")
            % {"unit": quota.unit}
        )
    if quota.parent_id:
        Quota.objects.filter(pk=quota.parent_id).update(
            cards_split=F("cards_split") - quota.cards, books_split=F("books_split") - quota.books
        )
    else:
        Plan.objects.filter(pk=quota.plan_id).update(
            cards_allocated=F("cards_allocated") - quota.cards,
            books_allocated=F("books_allocated") - quota.books,
        )
    quota.delete()


# Statuses only move forward: a closed plan or hand-over is part of the record.
_PLAN_STEPS = {
    Plan.Status.DRAFT: {Plan.Status.ACTIVE, Plan.Status.CLOSED},
    Plan.Status.ACTIVE: {Plan.Status.CLOSED},
    Plan.Status.CLOSED: set(),
}
_HANDOVER_STEPS = {
    Handover.Status.PLANNED: {Handover.Status.HELD, Handover.Status.CLOSED},
    Handover.Status.HELD: {Handover.Status.CLOSED},
    Handover.Status.CLOSED: set(),
}


def _check_step(steps: dict, old, new) -> None:
    if old != new and new not in steps[old]:
        raise ValidationError(
            {
                "status": _("The status cannot go from “%(old)s” to “%(new)s”.")
                % {"old": old.label, "new": type(old)(new).label}
            }
        )


@transaction.atomic
def plan_save(*, plan: Plan, actor: User | None) -> Plan:
    """Save a plan's own fields; its targets may not fall below what is allocated."""
    if plan.pk:
        stored = Plan.objects.select_for_update().get(pk=plan.pk)
        _check_step(_PLAN_STEPS, Plan.Status(stored.status), plan.status)
        plan.cards_allocated = stored.cards_allocated
        plan.books_allocated = stored.books_allocated
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def pledge_save(*, pledge: Pledge, actor: User | None) -> Pledge:
    """Save a pledge; it may not promise fewer items than it has already funded."""
    if pledge.pk:
        # The counters as they are now, not as the form loaded them.
        funded = Pledge.objects.select_for_update().get(pk=pledge.pk)
        pledge.cards_funded, pledge.books_funded = funded.cards_funded, funded.books_funded
        pledge.value_funded = funded.value_funded
    pledge.province_id = pledge.unit.current_province_id if pledge.unit_id else None
    pledge.full_clean()
    pledge.save()
    return pledge


# -- hand-overs -------------------------------------------------------------


@transaction.atomic
def handover_save(
    *, handover: Handover, sponsors: Iterable[Sponsor] | None = None, actor: User | None
) -> Handover:
    """Save a hand-over whose place is a unit in force on its date, and who sponsored it."""
    _require_scope(actor, place=handover.place if handover.place_id else None)
    if handover.pk:
        stored = Handover.objects.select_for_update().get(pk=handover.pk)
        _check_step(_HANDOVER_STEPS, Handover.Status(stored.status), handover.status)
    handover.province_id = handover.place.current_province_id if handover.place_id else None
    handover.full_clean()
    handover.save()
    if sponsors is not None:
        handover.sponsors_present.set(sponsors)
    return handover


# -- cards and books --------------------------------------------------------


@dataclass(frozen=True)
class CardDetails:
    valid_from: datetime.date
    benefit_level: int = 4
    participant_group: str = "GD"
    living_area: str = ""
    primary_care_code: str = ""
    primary_care_name: str = ""
    months: int = 12


@dataclass(frozen=True)
class BookDetails:
    months_paid: int
    income_base: int | None = None  # the lowest allowed income when None


def book_income(details: BookDetails, issued_on: datetime.date) -> int:
    """Return the monthly income a book pays on: the chosen one, else the lowest allowed."""
    return details.income_base or _vnd(rate_on(Rate.Kind.VSI_MINIMUM_INCOME, issued_on))


def item_value(
    *, details: CardDetails | BookDetails, issued_on: datetime.date, category: str
) -> int:
    """Return the value in VND of a card or book with ``details`` for a person of ``category``."""
    if isinstance(details, CardDetails):
        return card_value(valid_from=details.valid_from, months=details.months)
    return book_value(
        issued_on=issued_on,
        months=details.months_paid,
        income_base=book_income(details, issued_on),
        category=category,
    )


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
    _require_scope(actor, beneficiary=beneficiary, quota=quota, pledge=pledge, handover=handover)
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
        _check_handover_takes_items(handover, plan)
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
        quota=quota,
        pledge=pledge,
        handover=handover,
        province_id=quota.province_id,
        number=number,
        status=Item.Status.RESERVED if reserved else Item.Status.ISSUED,
        issued_on=issued_on,
        created_by=actor,
    )
    item.value = item_value(details=details, issued_on=issued_on, category=beneficiary.category)
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
        item.income_base = book_income(details, issued_on)
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


def _check_handover_takes_items(handover: Handover, plan: Plan) -> None:
    if handover.plan_id != plan.pk:
        raise ValidationError({"handover": _("This hand-over belongs to another plan.")})
    if handover.status == Handover.Status.CLOSED:
        raise ValidationError({"handover": _("This hand-over is closed.")})


def _lock_item(item: Item, actor: User | None) -> Item:
    _require_scope(actor, item=item)
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
        _check_handover_takes_items(handover, item.plan)
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
