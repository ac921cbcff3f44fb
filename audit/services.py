import uuid
from typing import Any

import pgtrigger
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from beneficiaries.models import Beneficiary

from .context import request_metadata, user_metadata
from .models import BeneficiaryAccessEvent, BeneficiaryEvent


@transaction.atomic
def unmask_record(
    *, user: User, beneficiary: Beneficiary, request: HttpRequest | None = None
) -> BeneficiaryAccessEvent:
    """Record that ``user`` was shown ``beneficiary``'s full personal ID number; return the row.

    Call it when the number is shown, not when it is only masked.  With the
    request, the row also holds the address, request id and URL; it joins the
    other changes of that request (``pgh_context_id``).  Append-only, like the
    rest of the audit trail.
    """
    context = user_metadata(user)
    if request is not None:
        context = {**request_metadata(request), **context}
    return BeneficiaryAccessEvent.objects.create(
        pgh_obj=beneficiary,
        pgh_label="unmask",
        pgh_context=context,
        pgh_context_id=getattr(request, "audit_context_id", None) or uuid.uuid4(),
    )


# Rows written per INSERT when an export is recorded.
_EXPORT_BATCH = 5000


def _masked(value: str) -> str:
    # A searched number may be someone's ID or phone number: the trail shows it as elsewhere.
    return f"{'*' * 8}{value[-4:]}" if value.isdigit() and len(value) >= 9 else value


@transaction.atomic
def export_record(
    *,
    user: User,
    beneficiaries: QuerySet[Beneficiary],
    filters: dict[str, str],
    file_format: str,
    request: HttpRequest | None = None,
) -> int:
    """Record that ``user`` downloaded ``beneficiaries`` with full ID numbers; return how many.

    One row per recipient (label "export"), as for a reveal: the event table
    names one recipient per row, and each person's history then shows who took
    their numbers away in a file.  The rows of one export share one context:
    who, how many, in which format, with which filters (numbers masked), and
    the request.  Costs a query for the ids and an INSERT per 5,000 recipients.
    """
    ids = list(beneficiaries.order_by().values_list("pk", flat=True))
    context: dict[str, Any] = user_metadata(user)
    if request is not None:
        context = {**request_metadata(request), **context}
    context |= {
        "exported": len(ids),
        "format": file_format,
        "filters": {name: _masked(value) for name, value in filters.items()},
    }
    context_id = getattr(request, "audit_context_id", None) or uuid.uuid4()
    for start in range(0, len(ids), _EXPORT_BATCH):
        BeneficiaryAccessEvent.objects.bulk_create(
            BeneficiaryAccessEvent(
                pgh_obj_id=pk, pgh_label="export", pgh_context=context, pgh_context_id=context_id
            )
            for pk in ids[start : start + _EXPORT_BATCH]
        )
    return len(ids)


@transaction.atomic
def beneficiary_history_anonymise(*, beneficiary: Beneficiary, fields: list[str]) -> int:
    """Copy an anonymised recipient's ``fields`` into all its past snapshots; return how many.

    The one change the audit trail allows, for the service that anonymises a
    recipient: otherwise the trail would keep the name and numbers it removed.
    Who changed what and when stays; the anonymisation itself is a row too.
    """
    values = {name: getattr(beneficiary, name) for name in fields}
    with pgtrigger.ignore("audit.BeneficiaryEvent:append_only"):
        return BeneficiaryEvent.objects.filter(pgh_obj_id=beneficiary.pk).update(**values)
