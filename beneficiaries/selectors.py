from django.db.models import Q, QuerySet

from reference.text import fold

from .models import Beneficiary


def beneficiary_possible_duplicates(beneficiary: Beneficiary) -> QuerySet[Beneficiary]:
    """Return other people with the same folded name, birth and commune (one indexed query)."""
    same_birth = Q(birth_year=beneficiary.birth_year)
    if beneficiary.birth_date:
        # A full date differs from another full date; a year alone may be either.
        same_birth &= Q(birth_date=beneficiary.birth_date) | Q(birth_date__isnull=True)
    return (
        Beneficiary.objects.filter(
            same_birth,
            search_name=fold(beneficiary.full_name),
            commune_id=beneficiary.commune_id,
        )
        .exclude(pk=beneficiary.pk)
        .order_by("pk")
    )
