"""Hand-over ceremonies: where and when, and which sponsors were there."""

from collections.abc import Iterable

from django.db import transaction

from accounts.models import User
from accounts.scope import require_scope
from sponsors.models import Sponsor

from ..models import Handover
from ._common import _check_step

# Statuses only move forward: a closed hand-over is part of the record.
_HANDOVER_STEPS = {
    Handover.Status.PLANNED: {Handover.Status.HELD, Handover.Status.CLOSED},
    Handover.Status.HELD: {Handover.Status.CLOSED},
    Handover.Status.CLOSED: set(),
}


@transaction.atomic
def handover_save(
    *, handover: Handover, sponsors: Iterable[Sponsor] | None = None, actor: User | None
) -> Handover:
    """Save a hand-over whose place is a unit in force on its date, and who sponsored it."""
    require_scope(actor, place=handover.place if handover.place_id else None)
    if handover.pk:
        stored = Handover.objects.select_for_update().get(pk=handover.pk)
        _check_step(_HANDOVER_STEPS, Handover.Status(stored.status), handover.status)
    handover.province_id = handover.place.current_province_id if handover.place_id else None
    handover.full_clean()
    handover.save()
    if sponsors is not None:
        handover.sponsors_present.set(sponsors)
    return handover
