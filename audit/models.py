"""The audit trail: a row for every create, change and delete of the programme's records.

Triggers in PostgreSQL (django-pghistory, installed by ``migrate``) write the
rows, so a change is recorded however it is made: a service, the admin, a bulk
``QuerySet.update()``, the shell or psql.  Each row is a snapshot of the record
*after* the change (``insert``, ``update``) or as it was when deleted
(``delete``); the values *before* a change are those of the previous row of the
same record.  One row per change is the least that gives both: storing the old
and the new row would double it, and a first snapshot of the records that
existed before tracking began is written once by migration 0002.  An update
that changes nothing but ``updated_at`` writes no row.

With each row, ``pgh_context`` holds who made it, from where and in which
request or command (see ``audit.context``).  The rows are append-only: a
trigger refuses UPDATE and DELETE on these tables (TRUNCATE, which the test
suite uses to empty the database, is not refused).

Administrative units are not tracked: they are reference data, reloaded in bulk.
"""

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from pghistory.models import Events

from api.models import ApiClient, ApiKey
from beneficiaries.models import Beneficiary
from distributions.models import Handover, Item, Plan, Pledge, Quota
from reference.models import Rate
from sponsors.models import Sponsor


def _event_model(tracked, *trackers, index: str, fields: list[str] | None = None, **meta):
    """Return the abstract base of the event model that tracks ``tracked``."""
    return pghistory.create_event_model(
        tracked,
        *trackers,
        fields=fields,
        app_label="audit",
        # Indexed (a record's history); no reverse accessor on the tracked
        # model; no constraint, so events outlive a deleted record.
        obj_field=pghistory.ObjForeignKey(related_name="+", related_query_name="+", db_index=True),
        # The context is stored in the row itself, under the append-only trigger.
        context_field=pghistory.ContextJSONField(),
        append_only=True,
        meta={
            "indexes": [models.Index(fields=["pgh_created_at"], name=f"audit_{index}_created")],
            **meta,
        },
    )


def _snapshots(tracked, *, index: str, fields: list[str] | None = None, **meta):
    return _event_model(
        tracked,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
        pghistory.DeleteEvent(),
        index=index,
        fields=fields,
        **meta,
    )


class BeneficiaryEvent(
    _snapshots(
        Beneficiary,
        index="benef",
        verbose_name=_("recipient change"),
        verbose_name_plural=_("recipient changes"),
    )
):
    pass


class BeneficiaryAccessEvent(
    _event_model(
        Beneficiary,
        pghistory.ManualEvent("unmask"),
        fields=[],
        index="benef_access",
        verbose_name=_("access to a recipient's personal ID"),
        verbose_name_plural=_("accesses to recipients' personal IDs"),
    )
):
    """A user was shown a recipient's full personal ID number (``audit.services.unmask_record``)."""


class PlanEvent(
    _snapshots(
        Plan, index="plan", verbose_name=_("plan change"), verbose_name_plural=_("plan changes")
    )
):
    pass


class QuotaEvent(
    _snapshots(
        Quota, index="quota", verbose_name=_("quota change"), verbose_name_plural=_("quota changes")
    )
):
    pass


class PledgeEvent(
    _snapshots(
        Pledge,
        index="pledge",
        verbose_name=_("pledge change"),
        verbose_name_plural=_("pledge changes"),
    )
):
    pass


class HandoverEvent(
    _snapshots(
        Handover,
        index="handover",
        verbose_name=_("hand-over change"),
        verbose_name_plural=_("hand-over changes"),
    )
):
    pass


class ItemEvent(
    _snapshots(
        Item,
        index="item",
        # Not the recipient's commune, which follows the recipient (whose changes are
        # recorded) and is not a change to the card or book.
        fields=[field.name for field in Item._meta.concrete_fields if field.name != "commune"],
        verbose_name=_("card or book change"),
        verbose_name_plural=_("card and book changes"),
    )
):
    pass


class SponsorEvent(
    _snapshots(
        Sponsor,
        index="sponsor",
        verbose_name=_("sponsor change"),
        verbose_name_plural=_("sponsor changes"),
    )
):
    pass


class RateEvent(
    _snapshots(
        Rate, index="rate", verbose_name=_("rate change"), verbose_name_plural=_("rate changes")
    )
):
    pass


class ApiClientEvent(
    _snapshots(
        ApiClient,
        index="api_client",
        verbose_name=_("API client change"),
        verbose_name_plural=_("API client changes"),
    )
):
    pass


# Who issued, rotated or revoked a key, and when: not its hash, nor each use.
_KEY_FIELDS = ["name", "client", "created", "expiry_date", "revoked"]


class ApiKeyEvent(
    _event_model(
        ApiKey,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(condition=pghistory.AnyChange(*_KEY_FIELDS)),
        pghistory.DeleteEvent(),
        fields=_KEY_FIELDS,
        index="api_key",
        verbose_name=_("API key change"),
        verbose_name_plural=_("API key changes"),
    )
):
    pass


class AuditEvent(Events):
    """All the event tables above read as one (pghistory's aggregate), with the context's fields.

    Each query is a UNION ALL over the event tables that also looks up every
    row's previous row for the diff: filter by model (one table) or by date
    (indexed) on large trails.
    """

    user = pghistory.ProxyField(
        "pgh_context__user",
        models.ForeignKey(
            settings.AUTH_USER_MODEL,
            on_delete=models.DO_NOTHING,
            null=True,
            related_name="+",
            verbose_name=_("user"),
        ),
    )
    username = pghistory.ProxyField(
        "pgh_context__username", models.TextField(_("username"), null=True)
    )
    ip = pghistory.ProxyField("pgh_context__ip", models.TextField(_("IP address"), null=True))
    request_id = pghistory.ProxyField(
        "pgh_context__request_id", models.TextField(_("request ID"), null=True)
    )
    method = pghistory.ProxyField(
        "pgh_context__method", models.TextField(_("HTTP method"), null=True)
    )
    url = pghistory.ProxyField("pgh_context__url", models.TextField(_("URL"), null=True))
    action = pghistory.ProxyField(
        "pgh_context__action", models.TextField(_("admin action"), null=True)
    )
    command = pghistory.ProxyField(
        "pgh_context__command", models.TextField(_("command"), null=True)
    )

    class Meta:
        proxy = True
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
