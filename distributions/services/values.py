"""What cards and books are worth, and the details they are issued with."""

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from beneficiaries.models import Beneficiary
from reference.models import Rate
from reference.selectors import rate_on


def _vnd(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def card_value(*, valid_from: datetime.date, months: int = 12) -> int:
    """Return what a household health-insurance card costs, in VND.

    The first member's contribution: months x 4.5% x the base salary in force on
    the card's first day (12 x 4.5% x 2,340,000 = 1,263,600 from July 2024).
    """
    base_salary = rate_on(Rate.Kind.BASE_SALARY, valid_from)
    share = rate_on(Rate.Kind.HEALTH_INSURANCE_HOUSEHOLD, valid_from)
    return _vnd(months * share * base_salary)


_SUPPORT_BY_CATEGORY = {
    Beneficiary.Category.POOR: Rate.Kind.VSI_SUPPORT_POOR,
    Beneficiary.Category.NEAR_POOR: Rate.Kind.VSI_SUPPORT_NEAR_POOR,
    Beneficiary.Category.ETHNIC_MINORITY: Rate.Kind.VSI_SUPPORT_ETHNIC_MINORITY,
}


def book_value(*, issued_on: datetime.date, months: int, income_base: int, category: str) -> int:
    """Return what a sponsor pays for a voluntary social-insurance book, in VND.

    Each month: 22% of the chosen income, less the state's support, which is a
    share (by the person's category) of the contribution on the lowest income.
    """
    contribution = rate_on(Rate.Kind.VOLUNTARY_SOCIAL_INSURANCE, issued_on)
    minimum_income = rate_on(Rate.Kind.VSI_MINIMUM_INCOME, issued_on)
    support = rate_on(_SUPPORT_BY_CATEGORY.get(category, Rate.Kind.VSI_SUPPORT_OTHER), issued_on)
    monthly = contribution * income_base - support * contribution * minimum_income
    return _vnd(months * monthly)


def card_end(valid_from: datetime.date, months: int = 12) -> datetime.date:
    """Return the last day of a card that starts on ``valid_from`` and lasts ``months``."""
    month_index = valid_from.month - 1 + months
    year, month = valid_from.year + month_index // 12, month_index % 12 + 1
    day = min(valid_from.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day) - datetime.timedelta(days=1)


@dataclass(frozen=True)
class CardDetails:
    valid_from: datetime.date
    benefit_level: int = 4
    participant_group: str = "GD"
    living_area: str = ""
    primary_care_code: str = ""
    primary_care_name: str = ""
    months: int = 12


@dataclass(frozen=True)
class BookDetails:
    months_paid: int
    income_base: int | None = None  # the lowest allowed income when None


def book_income(details: BookDetails, issued_on: datetime.date) -> int:
    """Return the monthly income a book pays on: the chosen one, else the lowest allowed."""
    return details.income_base or _vnd(rate_on(Rate.Kind.VSI_MINIMUM_INCOME, issued_on))


def item_value(
    *, details: CardDetails | BookDetails, issued_on: datetime.date, category: str
) -> int:
    """Return the value in VND of a card or book with ``details`` for a person of ``category``."""
    if isinstance(details, CardDetails):
        return card_value(valid_from=details.valid_from, months=details.months)
    return book_value(
        issued_on=issued_on,
        months=details.months_paid,
        income_base=book_income(details, issued_on),
        category=category,
    )


def item_details(
    *,
    kind: str,
    valid_from: datetime.date | None = None,
    months: int = 12,
    benefit_level: int = 4,
    participant_group: str = "GD",
    living_area: str = "",
    primary_care_code: str = "",
    primary_care_name: str = "",
    months_paid: int | None = None,
    income_base: int | None = None,
) -> CardDetails | BookDetails:
    """Return the details a card or a book is issued with, from what a form or request gave.

    Raises ValidationError, naming the field, when what the kind needs is missing.
    """
    if kind == "card":
        if valid_from is None:
            raise ValidationError({"valid_from": _("Give the first day the card is valid.")})
        return CardDetails(
            valid_from=valid_from,
            benefit_level=benefit_level,
            participant_group=participant_group.upper(),
            living_area=living_area,
            primary_care_code=primary_care_code,
            primary_care_name=primary_care_name,
            months=months,
        )
    if not months_paid:
        raise ValidationError({"months_paid": _("Give the number of months the book pays.")})
    return BookDetails(months_paid=months_paid, income_base=income_base)
