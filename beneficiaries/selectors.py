import datetime
from itertools import pairwise
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Lookup
from django.utils import timezone

from reference.text import fold

from .models import NAME_TERMS, Beneficiary


def births_compatible(a: datetime.date | None, b: datetime.date | None) -> bool:
    """Return whether two births of the same year may be one: a year alone fits any date."""
    return a is None or b is None or a == b


class WordsInOrder(Lookup):
    """The folded name holds these words next to each other in this order, the last one
    by its beginning: ``search_name LIKE 'luong thi%' OR search_name LIKE '% luong thi%'``.

    A folded name is words of letters and digits between single spaces, so this
    is exactly what the words typed mean.  It only narrows what the terms' index
    found (three words or more, whose pairs the index finds, but not that they
    follow each other), so the planner, taking the two as independent, expects
    too few rows: the estimates shown as counts leave it out
    (``estimate_ignores``, vss_program.paginator).
    """

    lookup_name = "words_in_order"
    estimate_ignores = True
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        words = connection.ops.prep_for_like_query(self.rhs)
        return f"({lhs} LIKE %s OR {lhs} LIKE %s)", [
            *lhs_params,
            f"{words}%",
            *lhs_params,
            f"% {words}%",
        ]


class HasTerms(Lookup):
    """The name's terms (models.NAME_TERMS) match a full-text query given as its text."""

    lookup_name = "has_terms"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @@ %s::tsquery", [*lhs_params, self.rhs]


def name_terms_query(words: list[str]) -> str:
    """Return the full-text query (tsquery's text) for folded ``words``.

    One word: the words beginning with it (it may still be being typed).  More:
    each pair of them next to each other, the last pair by its beginning.
    Folded words are letters and digits only, so none can carry tsquery syntax.
    """
    if len(words) == 1:
        return f"'{words[0]}':*"
    pairs = [f"' {first} {second}'" for first, second in pairwise(words)]
    pairs[-1] += ":*"
    return " & ".join(pairs)


def beneficiary_search(
    queryset: QuerySet[Beneficiary], term: str, *, personal_data: bool
) -> QuerySet[Beneficiary]:
    """Return the recipients of ``queryset`` that ``term`` finds.

    Names are matched folded, by whole words next to each other in the order
    typed, the last one by its beginning: "luong thi truc", "thi truc", "truc"
    and "Lương Thị Tr" find "Lương Thị Trúc"; "truc thi" and "uong" do not.
    The terms' index (beneficiary_name_terms_idx) finds the names with each
    word, or each pair of words, so a search over a million people reads only
    those; of three words or more, WordsInOrder keeps the names where the pairs
    follow each other.  Numbers exactly, so an ID never matches part of
    another, and IDs only for a viewer allowed to see them: finding a person by
    their ID would reveal it.
    """
    term = term.strip()
    if not term:
        return queryset
    if term.isdigit():
        number = Q(phone=term)
        if personal_data:
            number |= Q(personal_id=term) | Q(social_insurance_number=term)
        return queryset.filter(number)
    words = fold(term).split()
    if not words:
        # Punctuation only: nothing to look for, as with an empty box.
        return queryset
    if len(" ".join(words)) > Beneficiary._meta.get_field("search_name").max_length:
        # No name is that long, and PostgreSQL refuses a term of over 2,047 bytes.
        return queryset.none()
    found = queryset.filter(HasTerms(NAME_TERMS, name_terms_query(words)))
    if len(words) > 2:
        found = found.filter(WordsInOrder(F("search_name"), " ".join(words)))
    return found


def beneficiary_possible_duplicates(beneficiary: Beneficiary) -> QuerySet[Beneficiary]:
    """Return other people with the same folded name, birth and commune (one indexed query).

    Anonymised recipients are left out: they are nobody any more.
    """
    same_birth = Q(birth_year=beneficiary.birth_year)
    if beneficiary.birth_date:
        # A full date differs from another full date; a year alone may be either.
        same_birth &= Q(birth_date=beneficiary.birth_date) | Q(birth_date__isnull=True)
    return (
        Beneficiary.objects.filter(
            same_birth,
            search_name=fold(beneficiary.full_name),
            commune_id=beneficiary.commune_id,
            anonymised_at__isnull=True,
        )
        .exclude(pk=beneficiary.pk)
        .order_by("pk")
    )


# Stored only to search by; the person's data are in the other fields.
_NOT_EXPORTED = {"search_name"}
_CONSENT = ["consent_on", "consent_method", "consent_recorded_by"]


def _exported(person: Beneficiary, field) -> Any:
    """Return one field's value as JSON can hold it: labels with codes, units by name."""
    value = getattr(person, field.name)
    if value is None or value == "":
        return value
    if field.is_relation:
        if field.name == "consent_recorded_by":
            return value.get_full_name() or value.get_username()
        return {"code": value.code, "name": value.name}
    if field.choices:
        return {"code": value, "label": str(getattr(person, f"get_{field.name}_display")())}
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def beneficiary_personal_data(beneficiary: Beneficiary) -> dict[str, Any]:
    """Return everything held about a recipient, unmasked, for the person's access request.

    Every stored field of the recipient (a field added later is exported too)
    and the consent record; the admin adds their cards and books.  One query.
    """
    person = Beneficiary.objects.select_related("commune", "province", "consent_recorded_by").get(
        pk=beneficiary.pk
    )
    fields = [f for f in Beneficiary._meta.concrete_fields if f.name not in _NOT_EXPORTED]
    return {
        "recipient": {f.name: _exported(person, f) for f in fields if f.name not in _CONSENT},
        "consent": {f.name: _exported(person, f) for f in fields if f.name in _CONSENT},
    }
