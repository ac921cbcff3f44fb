"""Plans, their quotas down the administrative units, and sponsors' pledges."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import require_scope, scope_of
from reference.models import AdminUnit
from reference.selectors import edition_in_force_on

from ..models import Plan, Pledge, Quota
from ._common import _check_step, _descendants
from .errors import QuotaExhausted


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
    require_scope(actor, unit=unit)
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


@transaction.atomic
def quota_delete(*, quota: Quota, actor: User | None) -> None:
    """Delete a quota that nothing has used, giving its numbers back."""
    require_scope(actor, unit=quota.unit)
    # Lock order as in quota_set: the plan, then the quota.
    Plan.objects.select_for_update().get(pk=quota.plan_id)
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


# Statuses only move forward: a closed plan is part of the record.
_PLAN_STEPS = {
    Plan.Status.DRAFT: {Plan.Status.ACTIVE, Plan.Status.CLOSED},
    Plan.Status.ACTIVE: {Plan.Status.CLOSED},
    Plan.Status.CLOSED: set(),
}


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
        moved = (funded.sponsor_id, funded.plan_id, funded.unit_id) != (
            pledge.sponsor_id,
            pledge.plan_id,
            pledge.unit_id,
        )
        if moved and (funded.cards_funded or funded.books_funded):
            raise ValidationError(
                _("This pledge has paid for cards or books: its sponsor, plan and area stay.")
            )
    pledge.province_id = pledge.unit.current_province_id if pledge.unit_id else None
    pledge.full_clean()
    pledge.save()
    return pledge
