"""The dashboards' figures, summed by PostgreSQL over the viewer's items, quotas and pledges.

Each function sends one query grouped by a few keys: it returns at most a few
thousand rows whatever the number of items, and never the items themselves.
The items given to it are already narrowed by the viewer's scope and the
page's filters (``DashboardFilters.items``), with the rules the admin's list
of cards and books applies, so a figure can be checked against that list.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import TruncWeek

from beneficiaries.models import Beneficiary
from distributions.models import Item, ItemTally, Plan, Pledge, Quota

KINDS = (Item.Kind.CARD, Item.Kind.BOOK)


def share(part: int, whole: int | None) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """One kind's figures (cards or books) for one row of a table."""

    allocated: int | None = None  # None where no quota applies (a sponsor, a commune of today)
    split: int | None = None  # of the allocation, given to sub-units' quotas
    issued: int = 0  # reserved, issued or delivered: what holds a place in a quota
    delivered: int = 0
    pending: int = 0  # issued, not yet delivered
    cancelled: int = 0  # returned or cancelled
    value: int = 0  # VND of the issued ones

    def count(self, status: str, number: int, value: int) -> None:
        if status in Item.WITHDRAWN:
            self.cancelled += number
            return
        self.issued += number
        self.value += value
        if status == Item.Status.DELIVERED:
            self.delivered += number
        else:
            self.pending += number

    def add(self, other: "Figures") -> None:
        for name in ("allocated", "split"):
            if getattr(other, name) is not None:
                setattr(self, name, (getattr(self, name) or 0) + getattr(other, name))
        for name in ("issued", "delivered", "pending", "cancelled", "value"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def issued_share(self) -> float | None:
        """Issued as a share of the quota allocated."""
        return share(self.issued, self.allocated)

    @property
    def delivered_share(self) -> float | None:
        return share(self.delivered, self.allocated)


@dataclass
class Row:
    """A line of a table: a province, a unit, a commune, a sponsor... with cards and books."""

    key: Any
    label: str
    cards: Figures = field(default_factory=Figures)
    books: Figures = field(default_factory=Figures)
    extra: dict[str, Any] = field(default_factory=dict)

    def kind(self, kind: str) -> Figures:
        return self.cards if kind == Item.Kind.CARD else self.books

    @property
    def value(self) -> int:
        return self.cards.value + self.books.value

    def add(self, other: "Row") -> None:
        self.cards.add(other.cards)
        self.books.add(other.books)


def total_of(rows: list[Row], label: str) -> Row:
    total = Row(key=None, label=label)
    for row in rows:
        total.add(row)
    return total


@dataclass(frozen=True)
class Source:
    """Where figures are summed from: the tally of items (ItemTally), or the items.

    Both have the same fields for plan, province, quota, pledge, kind, status
    and value; they differ in how a row counts and where its weeks are.
    """

    rows: QuerySet
    issued_week: Any
    delivered_week: Any
    tallied: bool  # a row holds ``items`` items, not one

    @classmethod
    def of_tally(cls, rows: QuerySet[ItemTally]) -> "Source":
        return cls(rows.exclude(items=0), F("issued_week"), F("delivered_week"), tallied=True)

    @classmethod
    def of_items(cls, rows: QuerySet[Item]) -> "Source":
        return cls(rows, TruncWeek("issued_on"), TruncWeek("delivered_on"), tallied=False)

    def number(self, condition: Q | None = None) -> Aggregate:
        """Return the number of items of a group of rows (those meeting ``condition``)."""
        if self.tallied:
            return Sum("items", filter=condition)
        return Count("pk", filter=condition)


def tally(source: Source, *keys: str) -> dict[Any, Row]:
    """Count and sum ``source``'s items by ``keys`` (one or a tuple), kind and status: one query."""
    grouped = (
        source.rows.order_by()
        .values_list(*keys, "kind", "status")
        .annotate(number=source.number(), total=Sum("value"))
    )
    rows: dict[Any, Row] = {}
    for *key_values, kind, status, number, total in grouped:
        key = key_values[0] if len(keys) == 1 else tuple(key_values)
        row = rows.setdefault(key, Row(key=key, label=""))
        row.kind(kind).count(status, number, total or 0)
    return rows


@dataclass(frozen=True)
class QuotaLine:
    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    unit_level: int
    unit_parent_id: int | None
    province_id: int  # the province of the unit's own edition
    parent_id: int | None
    cards: int
    books: int
    cards_split: int
    books_split: int
    cards_used: int
    books_used: int
    visible: bool  # in the viewer's scope: its allocation may be shown


def plan_quotas(plan: Plan, visible: ExpressionWrapper) -> list[QuotaLine]:
    """Return every quota of ``plan`` with its unit, marked by ``visible`` (Scope.sees).

    All of them, not only the visible ones: a sponsor's items are placed on the
    map by their quota even when the viewer may not see that quota's figures.
    """
    quotas = (
        Quota.objects.filter(plan=plan)
        .annotate(visible=visible)
        .order_by("unit__code")
        .values_list(
            "id",
            "unit_id",
            "unit__code",
            "unit__name",
            "unit__level",
            "unit__parent_id",
            "unit__province_id",
            "parent_id",
            "cards",
            "books",
            "cards_split",
            "books_split",
            "cards_used",
            "books_used",
            "visible",
        )
    )
    return [QuotaLine(*values) for values in quotas]


def rows_by(
    quotas: list[QuotaLine], counted: dict[int, Row], key, allocation: bool = True
) -> dict[Any, Row]:
    """Roll the figures of each quota (``counted`` by quota id) up to ``key(quota)``.

    A quota's allocation counts where its parent's does not (the top-most quota
    of each group), so that a province's quota split to its districts counts once.
    """
    by_id = {quota.id: quota for quota in quotas}
    rows: dict[Any, Row] = {}
    for quota in quotas:
        group = key(quota)
        # A group shows where the viewer sees a quota or counts an item: not another
        # province's quota that only places a sponsor's items.
        if group is None or not (quota.visible or quota.id in counted):
            continue
        row = rows.setdefault(group, Row(key=group, label=""))
        parent = by_id.get(quota.parent_id)
        if allocation and quota.visible and (parent is None or key(parent) != group):
            row.cards.allocated = (row.cards.allocated or 0) + quota.cards
            row.books.allocated = (row.books.allocated or 0) + quota.books
        if quota.id in counted:
            row.add(counted[quota.id])
    return rows


@dataclass
class Week:
    start: datetime.date
    issued: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    delivered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    issued_total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    delivered_total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))


def weeks(source: Source) -> list[Week]:
    """Return the items issued and delivered each week (Monday first), with running totals.

    One query grouped by the week of issue and the week of delivery together:
    a few thousand pairs at most, read once for both series.
    """
    delivered = Q(status=Item.Status.DELIVERED)
    pairs = (
        source.rows.filter(status__in=Item.COUNTED)
        .order_by()
        .annotate(issued_week_=source.issued_week, delivered_week_=source.delivered_week)
        .values_list("issued_week_", "delivered_week_", "kind")
        .annotate(issued=source.number(), delivered=source.number(delivered))
    )
    by_start: dict[datetime.date, Week] = {}

    def week(start) -> Week:
        start = start.date() if isinstance(start, datetime.datetime) else start
        return by_start.setdefault(start, Week(start=start))

    for issued_week, delivered_week, kind, issued, delivered in pairs:
        week(issued_week).issued[kind] += issued
        if delivered:
            week(delivered_week).delivered[kind] += delivered
    result = sorted(by_start.values(), key=lambda w: w.start)
    running = {"issued": dict.fromkeys(KINDS, 0), "delivered": dict.fromkeys(KINDS, 0)}
    for entry in result:
        for series in ("issued", "delivered"):
            for kind in KINDS:
                running[series][kind] += getattr(entry, series)[kind]
                getattr(entry, f"{series}_total")[kind] = running[series][kind]
    return result


@dataclass
class SponsorLine:
    """What one sponsor pledged under a plan (in the viewer's scope)."""

    id: int
    short_name: str
    name: str
    cards: int = 0
    books: int = 0
    amount_pledged: int = 0
    amount_received: int = 0


def sponsor_pledges(pledges: QuerySet[Pledge]) -> dict[int, SponsorLine]:
    """Return the pledges summed by sponsor: one query."""
    grouped = (
        pledges.order_by()
        .values_list("sponsor_id", "sponsor__short_name", "sponsor__name_vi")
        .annotate(
            cards=Sum("cards"),
            books=Sum("books"),
            pledged=Sum("amount_pledged"),
            received=Sum("amount_received"),
        )
    )
    return {
        sponsor_id: SponsorLine(sponsor_id, short_name, name, *sums)
        for sponsor_id, short_name, name, *sums in grouped
    }


def late_and_expiring(
    items: QuerySet[Item],
    *,
    issued_before: datetime.date,
    expiring: tuple[datetime.date, datetime.date],
) -> dict[str, dict[tuple[int, str], tuple[int, datetime.date]]]:
    """Count, by quota and kind, the items issued before ``issued_before`` and still not
    delivered ("late"), and the cards in people's hands or on their way that expire
    within ``expiring`` (first and last day; "expiring"), with the earliest day of each.

    One query, a UNION ALL of two parts that each read a partial index of the
    items (item_pending_idx, item_card_expiry_idx) without visiting the table:
    hence COUNT(*), not of the id, which the indexes do not hold, and the
    expiring cards' kind written, not read.
    """
    late = (
        items.filter(status__in=Item.PENDING, issued_on__lt=issued_before)
        .order_by()
        .values_list(Value("late"), "quota_id", "kind")
        .annotate(number=Count("*"), first=Min("issued_on"))
    )
    ending = (
        items.filter(kind=Item.Kind.CARD, status__in=Item.COUNTED, valid_until__range=expiring)
        .order_by()
        .values_list(Value("expiring"), "quota_id", Value(Item.Kind.CARD.value))
        .annotate(number=Count("*"), first=Min("valid_until"))
    )
    counted: dict[str, dict] = {"late": {}, "expiring": {}}
    for part, quota_id, kind, number, first in late.union(ending, all=True):
        counted[part][quota_id, kind] = (number, first)
    return counted


def possible_duplicates(people: QuerySet[Beneficiary], limit: int | None) -> tuple[int, list]:
    """Return how many groups of people share a folded name, year of birth and commune,
    and the ``limit`` largest (all with None).

    The rule of ``beneficiary_possible_duplicates`` read for everyone at once
    (by the index it uses), without the check on full dates of birth: a group
    is a place to look, not a verdict.  Two queries.  The groups, with their
    number (a window over them), read in a province from
    beneficiary_province_dup_idx alone: hence COUNT(*), and no name nor
    commune's name, which the index does not hold (a province's 64,000 people
    took 190–250 ms read from the table, 25 ms from the index).  Then the
    people of the groups shown, for a full name and the commune's name.
    """
    living = people.filter(anonymised_at__isnull=True).order_by()
    groups = list(
        living.values("search_name", "birth_year", "commune_id", "province_id")
        .annotate(people=Count("*"))
        .filter(people__gt=1)
        .annotate(groups=Window(Count("*")))
        .order_by("-people", "search_name", "birth_year", "commune_id")[:limit]
    )
    if not groups:
        return 0, []
    named: dict[tuple, tuple[str, str]] = {}
    members = living.filter(search_name__in={group["search_name"] for group in groups})
    for *key, full_name, commune_name in members.order_by("full_name").values_list(
        "search_name", "birth_year", "commune_id", "full_name", "commune__name"
    ):
        named.setdefault(tuple(key), (full_name, commune_name))  # the first name, as MIN()
    for group in groups:
        key = (group["search_name"], group["birth_year"], group["commune_id"])
        group["name"], group["commune__name"] = named[key]
    return groups[0]["groups"], groups
