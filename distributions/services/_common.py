"""Helpers the services share: the actor's scope, sub-units and status steps."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import scope_of
from reference.models import AdminUnit

from .errors import OutOfScope


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


def _descendants(unit: AdminUnit):
    return AdminUnit.objects.filter(edition_id=unit.edition_id).within(unit)


def _check_step(steps: dict, old, new) -> None:
    if old != new and new not in steps[old]:
        raise ValidationError(
            {
                "status": _("The status cannot go from “%(old)s” to “%(new)s”.")
                % {"old": old.label, "new": type(old)(new).label}
            }
        )
