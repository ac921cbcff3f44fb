from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import require_scope, scoped
from audit.services import beneficiary_history_anonymise

from .models import Beneficiary
from .selectors import beneficiary_possible_duplicates

# What an anonymised recipient is called: data, the same in every language.
ANONYMOUS_NAME = "Ẩn danh #{pk}"


def _refuse_anonymised(beneficiary: Beneficiary) -> None:
    """Raise ValidationError when the stored recipient has been anonymised (locks its row)."""
    if beneficiary.pk is None:
        return
    stored = (
        Beneficiary.objects.select_for_update()
        .filter(pk=beneficiary.pk)
        .values_list("anonymised_at", flat=True)
        .first()
    )
    if stored is not None:
        raise ValidationError(
            _("This recipient has been anonymised: the record can no longer be changed."),
            code="anonymised",
        )


@transaction.atomic
def beneficiary_save(
    *, beneficiary: Beneficiary, actor: User | None
) -> tuple[Beneficiary, list[Beneficiary]]:
    """Validate and save a recipient; return it with the people it may duplicate.

    A possible duplicate (same name, year or date of birth and commune) is a
    warning, not an error: two people may share all three.  An anonymised
    recipient is refused (ValidationError): its personal data never come back.
    """
    _refuse_anonymised(beneficiary)
    require_scope(actor, commune=beneficiary.commune if beneficiary.commune_id else None)
    if beneficiary.pk:
        stored = Beneficiary.objects.filter(pk=beneficiary.pk).first()
        require_scope(actor, beneficiary=stored)
    beneficiary.full_clean()
    if beneficiary.consent_on and beneficiary.consent_recorded_by_id is None:
        beneficiary.consent_recorded_by = actor
    try:
        with transaction.atomic():
            beneficiary.save()
    except IntegrityError as error:
        # Another request recorded the same number between full_clean and here.
        raise ValidationError(
            _(
                "A recipient with this ID or social-insurance number was "
                "recorded at the same moment."
            )
        ) from error
    return beneficiary, list(beneficiary_possible_duplicates(beneficiary))


@dataclass
class CreateOutcome:
    """What became of one recipient of ``beneficiaries_create``."""

    status: str  # "created", "existing" or "rejected"
    beneficiary: Beneficiary | None = None
    error: ValidationError | None = None


@transaction.atomic
def beneficiaries_create(
    *, people: Sequence[Beneficiary], actor: User | None
) -> list[CreateOutcome]:
    """Record each person not recorded yet; return one outcome per person, in order.

    A person whose ID or social-insurance number is already recorded (before,
    or earlier in ``people``) is "existing" and left as it is; one recorded
    outside the actor's areas is rejected, as a single create would be.  Each
    person is saved in a savepoint of one transaction: a rejected one leaves
    the others, and a crash leaves none.  Three queries to find the recorded
    people, then those of ``beneficiary_save`` for each new one.
    """
    numbers = {p.personal_id for p in people if p.personal_id} | {
        p.social_insurance_number for p in people if p.social_insurance_number
    }
    recorded = Beneficiary.objects.filter(personal_id__in=numbers) | Beneficiary.objects.filter(
        social_insurance_number__in=numbers
    )
    visible = set(scoped(recorded, actor).values_list("pk", flat=True)) if actor else None
    known: dict[str, Beneficiary] = {}
    for person in recorded:
        for number in (person.personal_id, person.social_insurance_number):
            if number:
                known[number] = person

    outcomes = []
    for person in people:
        match = known.get(person.personal_id or "") or known.get(
            person.social_insurance_number or ""
        )
        if match is not None and (visible is None or match.pk in visible):
            outcomes.append(CreateOutcome("existing", match))
            continue
        try:
            with transaction.atomic():
                saved, _duplicates = beneficiary_save(beneficiary=person, actor=actor)
        except ValidationError as error:
            outcomes.append(CreateOutcome("rejected", error=error))
            continue
        if visible is not None:
            visible.add(saved.pk)
        for number in (saved.personal_id, saved.social_insurance_number):
            if number:
                known[number] = saved
        outcomes.append(CreateOutcome("created", saved))
    return outcomes


# What anonymisation blanks, here and in the audit trail's past snapshots.
ANONYMISED_FIELDS = [
    "full_name",
    "search_name",
    "birth_date",
    "personal_id",
    "social_insurance_number",
    "phone",
    "address_line",
    "household_key",
    "notes",
    "ethnic_group",
]


@transaction.atomic
def beneficiary_anonymise(*, beneficiary: Beneficiary, actor: User | None) -> Beneficiary:
    """Remove a recipient's personal data for good; return the anonymised recipient.

    Kept, so that counts and amounts stay right: the commune and province,
    the year of birth and sex (totals by age group), the hardship category,
    the consent record (proof that the data were held lawfully) and every
    card and book.  Already anonymised: returned unchanged.  The change itself
    is recorded by the audit trail's triggers, with the request's user.
    """
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if person.anonymised_at is not None:
        return person
    person.full_name = ANONYMOUS_NAME.format(pk=person.pk)
    person.birth_date = None
    person.personal_id = None
    person.social_insurance_number = None
    person.phone = ""
    person.address_line = ""
    person.household_key = ""
    person.notes = ""
    person.ethnic_group = ""
    person.anonymised_at = timezone.now()
    person.save()
    # The audit trail's earlier snapshots would otherwise keep what was removed.
    beneficiary_history_anonymise(beneficiary=person, fields=ANONYMISED_FIELDS)
    # The admin's history names the object as it was: it names the person no more.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Beneficiary), object_id=str(person.pk)
    ).update(object_repr=str(person))
    return person
