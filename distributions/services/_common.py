"""Helpers the services share: sub-units and status steps."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reference.models import AdminUnit


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
