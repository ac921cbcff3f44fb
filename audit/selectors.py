"""Reads of the audit trail, and how an event's values are shown (some never in full)."""

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from pghistory.core import event_models

from accounts.models import User

from .models import AuditEvent

LABELS = {
    "insert": _("created"),
    "update": _("changed"),
    "delete": _("deleted"),
    "unmask": _("full personal ID shown"),
    "export": _("exported with the full personal ID"),
    # Migration 0002: the records as they were when the audit trail began.
    "baseline": _("as found when the audit trail began"),
}

# Shown as ********1234 to everyone: seeing the full number is recorded apart
# (audit.services.unmask_record), and the audit trail must not be a way round it.
_MASKED = {"beneficiaries.beneficiary": {"personal_id", "social_insurance_number"}}
# Shown only to users who may see the recipient's personal data.
_PERSONAL = {"beneficiaries.beneficiary": {"ethnic_group", "category"}}
PERSONAL_DATA_PERMISSION = "beneficiaries.view_personal_data"
# Derived copies that would repeat the change next to them.
_DERIVED = {"search_name"}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def tracked_models() -> list[type[models.Model]]:
    """Return the models with an audit trail, in the order of their names."""
    tracked = {model.pgh_tracked_model for model in event_models()}
    return sorted(tracked, key=lambda model: str(model._meta.verbose_name_plural))


def events_of_model(label: str) -> list[type[models.Model]]:
    """Return the event tables of the tracked model ``label`` ("beneficiaries.Beneficiary")."""
    return [model for model in event_models() if model.pgh_tracked_model._meta.label == label]


def object_events(obj: models.Model) -> QuerySet[AuditEvent] | None:
    """Return the audit events of one record, newest first, or None when it is not tracked.

    One query over the record's event tables, using their index on the record's id.
    """
    if not event_models(tracks_model=type(obj)):
        return None
    return (
        AuditEvent.objects.tracks(obj).select_related("user").order_by("-pgh_created_at", "-pgh_id")
    )


def event_who(event: AuditEvent) -> str:
    """Return who made the change: the username, else the command, else a dash."""
    context = event.pgh_context or {}
    if context.get("username"):
        return context["username"]
    if context.get("command"):
        return _("command %(name)s") % {"name": context["command"]}
    return "—"


def _masked(value: Any) -> str:
    text = str(value)
    return f"{'*' * 8}{text[-4:]}" if text else ""


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return str(value)


def event_changes(event: AuditEvent, *, viewer: User | None = None) -> list[Change]:
    """Return what an event changed, field by field, as the viewer may see it.

    A created record lists the values it was created with, a deleted one those
    it had; a change lists each field with its value before and after.  Values
    are as stored (a foreign key is the related record's id).
    """
    model = apps.get_model(event.pgh_obj_model)
    key = model._meta.label_lower
    by_column = {field.column: field for field in model._meta.concrete_fields}
    masked = _MASKED.get(key, set())
    hidden = set()
    if viewer is None or not viewer.has_perm(PERSONAL_DATA_PERMISSION):
        hidden = _PERSONAL.get(key, set())

    if event.pgh_diff:
        pairs = {column: (before, after) for column, (before, after) in event.pgh_diff.items()}
    elif event.pgh_label == "delete":
        pairs = {column: (value, None) for column, value in (event.pgh_data or {}).items()}
    else:
        pairs = {
            column: (None, value)
            for column, value in (event.pgh_data or {}).items()
            if value not in (None, "")
        }

    changes = []
    for column, (before, after) in pairs.items():
        field = by_column.get(column)
        if field is None or field.primary_key or field.name in _DERIVED:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.name in hidden:
            before = after = _("(personal data)")
        elif field.name in masked:
            before, after = (_masked(v) if v else v for v in (before, after))
        changes.append(Change(str(capfirst(field.verbose_name)), _shown(before), _shown(after)))
    return changes
