from django.db import transaction

from accounts.models import User

from .models import Beneficiary
from .selectors import beneficiary_possible_duplicates


@transaction.atomic
def beneficiary_save(
    *, beneficiary: Beneficiary, actor: User | None
) -> tuple[Beneficiary, list[Beneficiary]]:
    """Validate and save a recipient; return it with the people it may duplicate.

    A possible duplicate (same name, year or date of birth and commune) is a
    warning, not an error: two people may share all three.
    """
    beneficiary.full_clean()
    if beneficiary.consent_on and beneficiary.consent_recorded_by_id is None:
        beneficiary.consent_recorded_by = actor
    beneficiary.save()
    return beneficiary, list(beneficiary_possible_duplicates(beneficiary))
