import uuid

import pgtrigger
from django.db import transaction
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
