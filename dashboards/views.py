"""The dashboards: server-rendered pages of figures for signed-in staff, scoped by area.

Each page is a list of tables (``tables.Table``) computed from the filters in
the URL; the same tables give the charts and, with ``?export=<name>``, the
XLSX files.  The figures come from ``figures`` (sums in PostgreSQL).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView

from accounts.scope import scope_of, scoped
from beneficiaries.access import sees_personal_data
from beneficiaries.models import Beneficiary, current_communes, masked_personal_id
from distributions.models import Handover, Item, Pledge, Quota
from distributions.selectors import handovers_held_in, items_of_residents, items_under
from distributions.templatetags.money import grouped
from reference.models import AdminUnit, UnitLevel
from sponsors.models import Sponsor

from . import figures
from .figures import KINDS, Row
from .forms import DashboardFilters
from .tables import Chart, Column, Table

# Statuses as the admin's list filters them (status__in=...).
PENDING = ",".join(Item.PENDING)
COUNTED = ",".join(Item.COUNTED)
WITHDRAWN = ",".join(Item.WITHDRAWN)
KIND_TITLES = {
    Item.Kind.CARD: gettext_lazy("Health-insurance cards"),
    Item.Kind.BOOK: gettext_lazy("Social-insurance books"),
}


def counts() -> list[tuple[str, str, str]]:
    """Return the counts a kind's figures break into, in the order the tables show them.

    Each is (heading, attribute of ``figures.Figures``, the statuses the admin's list
    of items filters for it).  A function, not a constant: the headings are
    translated in the request's language.
    """
    return [
        (_("issued"), "issued", COUNTED),
        (_("delivered"), "delivered", Item.Status.DELIVERED),
        (_("pending delivery"), "pending", PENDING),
        (_("cancelled or returned"), "cancelled", WITHDRAWN),
    ]


class Counted:
    """A queryset whose length is known already, for a Paginator."""

    def __init__(self, queryset, count: int):
        self.queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.queryset[index]


@dataclass
class KindTotal:
    """A row of a table by kind: one kind's figures (cards or books), and the plan's target."""

    kind: str
    label: str
    figures: figures.Figures
    target: int | None = None

    @property
    def allocated_share(self) -> float | None:
        return figures.share(self.figures.allocated or 0, self.target)


def kind_totals(row: Row, targets: dict[str, int | None] | None = None) -> list[KindTotal]:
    """Return ``row``'s figures as a row per kind, cards first, with their ``targets``."""
    targets = targets or {}
    return [
        KindTotal(kind, str(KIND_TITLES[kind]), row.kind(kind), targets.get(kind)) for kind in KINDS
    ]


class DashboardView(TemplateView):
    """A page of tables for the plan, province, sponsor and period chosen in the URL."""

    page = ""
    title = ""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm("distributions.view_dashboards"):
            raise PermissionDenied
        self.filters = DashboardFilters(request.GET, user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        tables = self.tables() if self.filters.plan else []
        export = request.GET.get("export")
        if export:
            table = next((table for table in tables if table.name == export), None)
            if table is None:
                raise Http404(_("This page has no table of that name."))
            return table.xlsx(filename=self.export_name())
        return self.render_to_response(self.get_context_data(tables=tables))

    def tables(self) -> list[Table]:
        raise NotImplementedError

    def export_name(self) -> str:
        return f"{self.page}-{self.filters.plan.number}"

    def heading(self) -> str:
        return self.title

    def crumbs(self) -> list[tuple[str, str]]:
        """Return the breadcrumbs after the overview: (label, url) pairs."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context["is_nav_sidebar_enabled"] = False  # the tables need the width
        context.update(
            filters=self.filters,
            plan=self.filters.plan,
            page=self.page,
            title=self.heading(),
            crumbs=self.crumbs(),
            query=self._query,
            pages=[
                (name, label, reverse(f"dashboards:{name}"))
                for name, label in (
                    ("overview", _("Overview")),
                    ("sponsors", _("Sponsors")),
                    ("timeline", _("Timeline")),
                    ("attention", _("Needs attention")),
                )
            ],
            charts=[
                (table.name, table.chart_data()) for table in kwargs["tables"] if table.chart_data()
            ],
        )
        return context

    # -- helpers shared by the pages ------------------------------------------------

    @cached_property
    def sees_items(self) -> bool:
        """Whether figures link to the admin's list of cards and books (its view permission)."""
        return self.request.user.has_perm("distributions.view_item")

    @cached_property
    def quotas(self) -> list[figures.QuotaLine]:
        return figures.plan_quotas(self.filters.plan, scope_of(self.request.user).sees(Quota))

    @cached_property
    def _query(self) -> str:
        return self.filters.query()

    def unit_url(self, page: str, unit_id: int | None) -> str | None:
        """Return a unit's page ("area" or "commune") with these filters."""
        if unit_id is None:  # a table's total
            return None
        return f"{reverse(f'dashboards:{page}', args=[unit_id])}?{self._query}"

    def items_link(self, kind: str | None, statuses: str, **where):
        """Return a column's link to the admin list of what a figure counts, if the user sees it."""
        if not self.sees_items:
            return None

        def link(row: Row) -> str:
            extra = {}
            for name, value in where.items():
                value = value(row) if callable(value) else value
                if value is not None:  # None on a total: all the rows above
                    extra[name] = value
            if kind:
                extra["kind__exact"] = kind
            return self.filters.admin_items_url(status__in=statuses, **extra)

        return link

    def figure_columns(
        self, *, allocation: bool = True, split: bool = False, **where
    ) -> list[Column]:
        """Return the columns of cards' and books' figures, each count linked to its items."""
        columns = []
        for kind in KINDS:
            group = KIND_TITLES[kind]

            def get(name, kind=kind):
                return lambda row: getattr(row.kind(kind), name)

            if allocation:
                columns.append(Column(_("allocated"), get("allocated"), "count", group))
            if split:
                columns.append(Column(_("split to sub-units"), get("split"), "count", group))
            columns += [
                Column(title, get(name), "count", group, self.items_link(kind, statuses, **where))
                for title, name, statuses in counts()
            ]
            if allocation:
                columns.append(Column(_("issued / allocated"), get("issued_share"), "share", group))
        columns.append(Column(_("value (VND)"), lambda row: row.value, "vnd"))
        return columns

    def kind_columns(self, *, allocation: bool = True, **where) -> list[Column]:
        """Return the columns of a table by kind (``kind_totals``), each count linked to its
        items (``where``: the admin's parameters for them, as in ``admin_items_url``).

        With ``allocation``, the plan's target and the quotas' allocation, and the shares.
        """

        def get(name):
            return lambda row: getattr(row.figures, name)

        def link(statuses: str):
            if not self.sees_items:
                return None
            return lambda row: self.filters.admin_items_url(
                kind__exact=row.kind, status__in=statuses, **where
            )

        columns = [Column(_("kind"), lambda row: row.label)]
        if allocation:
            columns += [
                Column(_("target"), lambda row: row.target, "count"),
                Column(_("allocated"), get("allocated"), "count"),
                Column(_("allocated / target"), lambda row: row.allocated_share, "share"),
            ]
        columns += [
            Column(title, get(name), "count", link=link(statuses))
            for title, name, statuses in counts()
        ]
        if allocation:
            columns += [
                Column(_("issued / allocated"), get("issued_share"), "share"),
                Column(_("delivered / allocated"), get("delivered_share"), "share"),
            ]
        columns.append(Column(_("value (VND)"), get("value"), "vnd"))
        return columns

    def chart_of(self, label: Column) -> Chart:
        """Return the bar chart of issued and delivered cards and books per row."""
        series = [
            Column(
                f"{KIND_TITLES[kind]}: {_(name)}",
                lambda row, k=kind, n=name: getattr(row.kind(k), n),
            )
            for kind in KINDS
            for name in ("issued", "delivered")
        ]
        return Chart(label=label, series=series)

    def named(self, rows: dict, names: dict[int, str]) -> list[Row]:
        for key, row in rows.items():
            row.label = names.get(key, "?")
        return sorted(rows.values(), key=lambda row: row.label)


class OverviewView(DashboardView):
    """The plan at a glance: targets, quotas and items, in total and per province."""

    page = "overview"
    template_name = "dashboards/overview.html"
    title = gettext_lazy("Plan overview")

    def tables(self) -> list[Table]:
        plan = self.filters.plan
        counted = figures.tally(self.filters.source(), "quota_id")
        chosen = self.filters.chosen_province
        provinces = figures.rows_by(
            self.quotas,
            counted,
            key=lambda q: q.province_id if chosen is None or q.province_id == chosen.pk else None,
        )
        rows = self.named(provinces, self.filters.province_names)
        total = figures.total_of(rows, _("Total"))
        targets = {Item.Kind.CARD: plan.target_cards, Item.Kind.BOOK: plan.target_books}
        label = Column(
            _("province"),
            lambda row: row.label,
            # Only the provinces the viewer may open (not a sponsor's, nor a commune's).
            link=lambda row: (
                self.unit_url("area", row.key) if row.key in self.filters.provinces else None
            ),
        )
        return [
            Table(
                name="totals",
                title=_("Totals of the plan"),
                columns=self.kind_columns(),
                rows=kind_totals(total, targets),
            ),
            Table(
                name="provinces",
                title=_("By province"),
                columns=[label, *self.figure_columns(area=lambda row: row.key)],
                rows=rows,
                total=total,
                chart=self.chart_of(label),
            ),
        ]


class UnitView(DashboardView):
    """A page of one unit (the URL's ``unit_id``), among those the viewer may see."""

    page = "overview"
    template_name = "dashboards/page.html"

    def units(self) -> QuerySet[AdminUnit]:
        """Return the units this page may show, before the viewer's scope."""
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        units = scoped(self.units(), request.user).select_related("parent", "province")
        self.unit = get_object_or_404(units, pk=kwargs["unit_id"])
        return super().dispatch(request, *args, **kwargs)

    def heading(self) -> str:
        return self.unit.name

    def export_name(self) -> str:
        return f"{self.unit.name}-{self.filters.plan.number}"


class AreaView(UnitView):
    """A province or district of the plan's edition: its quotas, and the communes its
    recipients live in today."""

    def units(self) -> QuerySet[AdminUnit]:
        return AdminUnit.objects.filter(level__in=[UnitLevel.PROVINCE, UnitLevel.DISTRICT])

    def crumbs(self):
        crumbs = []
        if self.unit.parent_id:
            crumbs.append((self.unit.parent.name, self.unit_url("area", self.unit.parent_id)))
        return [*crumbs, (self.unit.name, "")]

    def tables(self) -> list[Table]:
        by_quota = figures.tally(self.filters.source(within=self.unit), "quota_id")
        inside = [
            quota
            for quota in self.quotas
            if self.unit.pk in (quota.unit_id, quota.unit_parent_id, quota.province_id)
        ]
        rows = []
        for quota in inside:
            row = by_quota.get(quota.id) or Row(key=quota.unit_id, label="")
            row.key, row.label = quota.unit_id, quota.unit_name
            row.extra["level"], row.extra["quota"] = quota.unit_level, quota.id
            if quota.visible:
                row.cards.allocated, row.books.allocated = quota.cards, quota.books
                row.cards.split, row.books.split = quota.cards_split, quota.books_split
            rows.append(row)
        items = figures.Source.of_items(items_under(self.filters.items(), self.unit))
        by_commune = figures.tally(items, "commune_id", "commune__name")
        communes = []
        for (commune_id, name), row in sorted(by_commune.items(), key=lambda pair: pair[0][1]):
            row.key, row.label = commune_id, name
            communes.append(row)
        quota_label = Column(_("quota of"), lambda row: row.label, link=self._unit_link)
        commune_label = Column(
            _("commune (today)"),
            lambda row: row.label,
            link=lambda row: self.unit_url("commune", row.key),
        )
        return [
            Table(
                name="quotas",
                title=_("Quotas"),
                note=_(
                    "Each quota with the cards and books issued against it; "
                    "what was split to a sub-unit is counted in the sub-unit's line."
                ),
                columns=[
                    quota_label,
                    # A line counts its own quota's items (not its sub-units'); the total,
                    # everything in this area.
                    *self.figure_columns(
                        split=True,
                        quota__exact=lambda row: row.extra.get("quota"),
                        area=lambda row: None if row.key else self.unit.pk,
                    ),
                ],
                rows=rows,
                total=figures.total_of(rows, _("Total")),
                chart=self.chart_of(quota_label),
            ),
            Table(
                name="communes",
                title=_("Where the recipients live"),
                note=_("The communes of today where the people of these quotas live."),
                columns=[
                    commune_label,
                    *self.figure_columns(
                        allocation=False, area=self.unit.pk, commune=lambda row: row.key
                    ),
                ],
                rows=communes,
                total=figures.total_of(communes, _("Total")),
                chart=self.chart_of(commune_label),
            ),
        ]

    def _unit_link(self, row: Row) -> str | None:
        if row.key == self.unit.pk or row.extra.get("level") != UnitLevel.DISTRICT:
            return None
        return self.unit_url("area", row.key)


class CommuneView(UnitView):
    """A commune of today: the hand-overs held there and the cards and books of its people."""

    items_per_page = 100

    def units(self) -> QuerySet[AdminUnit]:
        return AdminUnit.objects.filter(current_communes())

    def crumbs(self):
        return [(self.unit.province.name, ""), (self.unit.name, "")]

    def tables(self) -> list[Table]:
        items = items_of_residents(self.filters.items(), self.unit)
        # A row per kind: the cards' row holds no books, and the books' no cards.
        by_kind = figures.tally(figures.Source.of_items(items), "kind")
        kinds = kind_totals(figures.total_of(list(by_kind.values()), ""))
        tables = [
            Table(
                name="summary",
                title=_("Cards and books of the people who live here"),
                columns=self.kind_columns(allocation=False, commune=self.unit.pk),
                rows=kinds,
                chart=Chart(
                    label=Column(_("kind"), lambda row: row.label),
                    series=[
                        Column(_("issued"), lambda row: row.figures.issued),
                        Column(_("delivered"), lambda row: row.figures.delivered),
                        Column(_("pending delivery"), lambda row: row.figures.pending),
                    ],
                ),
            ),
            self._handovers(),
        ]
        if self.sees_items:
            tables.append(
                self._items(
                    items, count=sum(f.issued + f.cancelled for f in (k.figures for k in kinds))
                )
            )
        return tables

    def _counted(self, **condition) -> Coalesce:
        """Return the number of a hand-over's items that the viewer and the filters count."""
        items = (
            self.filters.items()
            .filter(handover=OuterRef("pk"), **condition)
            .order_by()
            .values("handover")
            .annotate(number=Count("pk"))
            .values("number")
        )
        return Coalesce(Subquery(items), 0)

    def _handovers(self) -> Table:
        handovers = list(
            handovers_held_in(
                scoped(Handover.objects.filter(plan=self.filters.plan), self.request.user),
                self.unit,
            )
            .annotate(
                cards=self._counted(kind=Item.Kind.CARD, status__in=Item.COUNTED),
                books=self._counted(kind=Item.Kind.BOOK, status__in=Item.COUNTED),
                delivered=self._counted(status=Item.Status.DELIVERED),
            )
            .order_by("held_on", "pk")
        )
        minutes = self.request.user.has_perm("distributions.view_handover")
        return Table(
            name="handovers",
            title=_("Hand-overs held here"),
            columns=[
                Column(_("date"), lambda event: event.held_on, "date"),
                Column(
                    _("hand-over"),
                    lambda event: event.title,
                    link=(
                        lambda event: reverse(
                            "admin:distributions_handover_minutes", args=[event.pk]
                        )
                    )
                    if minutes
                    else None,
                ),
                Column(_("status"), lambda event: event.get_status_display()),
                Column(_("cards"), lambda event: event.cards, "count"),
                Column(_("books"), lambda event: event.books, "count"),
                Column(_("delivered there"), lambda event: event.delivered, "count"),
            ],
            rows=handovers,
        )

    def _items(self, items, count: int) -> Table:
        personal = sees_personal_data(self.request.user)
        rows = items.order_by("issued_on", "pk").values(
            "pk",
            "kind",
            "status",
            "number",
            "issued_on",
            "delivered_on",
            "value",
            "beneficiary__full_name",
            "beneficiary__birth_year",
            "beneficiary__personal_id",
            "pledge__sponsor__short_name",
        )
        export = self.request.GET.get("export") == "items"
        page = None
        if not export:
            # The summary above counted them: no second COUNT(*).
            page = Paginator(Counted(rows, count), self.items_per_page).get_page(
                self.request.GET.get("page")
            )
        kinds, statuses = dict(Item.Kind.choices), dict(Item.Status.choices)
        columns = [
            Column(
                _("recipient"),
                lambda item: item["beneficiary__full_name"],
                link=lambda item: reverse("admin:distributions_item_change", args=[item["pk"]]),
            ),
            Column(_("year of birth"), lambda item: item["beneficiary__birth_year"]),
        ]
        if personal:
            columns.append(
                Column(
                    _("personal ID"),
                    lambda item: masked_personal_id(item["beneficiary__personal_id"]),
                )
            )
        columns += [
            Column(_("kind"), lambda item: str(kinds[item["kind"]])),
            Column(_("number"), lambda item: item["number"]),
            Column(_("status"), lambda item: str(statuses[item["status"]])),
            Column(_("issued on"), lambda item: item["issued_on"], "date"),
            Column(_("delivered on"), lambda item: item["delivered_on"], "date"),
            Column(_("sponsor"), lambda item: item["pledge__sponsor__short_name"]),
            Column(_("value (VND)"), lambda item: item["value"], "vnd"),
        ]
        return Table(
            name="items",
            title=_("Cards and books"),
            columns=columns,
            rows=list(page.object_list if page else rows),
            note=_("ID numbers are masked."),
            page=page,
        )


class SponsorsView(DashboardView):
    """What each sponsor pledged, paid and funded, and where its cards and books went."""

    page = "sponsors"
    template_name = "dashboards/page.html"
    title = gettext_lazy("Sponsors")

    def tables(self) -> list[Table]:
        filters = self.filters
        pledges = scoped(Pledge.objects.filter(plan=filters.plan), self.request.user)
        if filters.chosen_province:
            pledges = pledges.filter(unit__province=filters.chosen_province)
        if filters.chosen_sponsor:
            pledges = pledges.filter(sponsor=filters.chosen_sponsor)
        lines = figures.sponsor_pledges(pledges)
        counted = figures.tally(filters.source(), "pledge__sponsor_id", "quota_id")
        by_quota = {quota.id: quota for quota in self.quotas}
        sponsors: dict[int, Row] = {}
        places: dict[tuple[int, int], Row] = {}
        for (sponsor_id, quota_id), row in counted.items():
            province = by_quota[quota_id].province_id
            sponsors.setdefault(sponsor_id, Row(key=sponsor_id, label="")).add(row)
            places.setdefault(
                (sponsor_id, province), Row(key=(sponsor_id, province), label="")
            ).add(row)
        names = {}
        for sponsor_id in set(lines) | set(sponsors):
            line = lines.get(sponsor_id)
            row = sponsors.setdefault(sponsor_id, Row(key=sponsor_id, label=""))
            row.extra["pledge"] = line or figures.SponsorLine(sponsor_id, "", "")
            names[sponsor_id] = line.short_name if line else ""
        missing = [pk for pk, name in names.items() if not name]
        if missing:
            names |= dict(Sponsor.objects.filter(pk__in=missing).values_list("pk", "short_name"))
        rows = self.named(sponsors, names)
        total = figures.total_of(rows, _("Total"))
        total.extra["pledge"] = figures.SponsorLine(
            0,
            "",
            "",
            *(
                sum(getattr(row.extra["pledge"], name) for row in rows)
                for name in ("cards", "books", "amount_pledged", "amount_received")
            ),
        )
        for (sponsor_id, province), row in places.items():
            row.label = names.get(sponsor_id, "?")
            row.extra["province"] = filters.province_names.get(province, "?")
        place_rows = sorted(places.values(), key=lambda row: (row.label, row.extra["province"]))
        label = Column(_("sponsor"), lambda row: row.label)

        def pledged(name: str):
            return lambda row: getattr(row.extra["pledge"], name)

        sponsor_link = {"pledge__sponsor__id__exact": lambda row: row.key}
        return [
            Table(
                name="sponsors",
                title=_("Sponsors"),
                columns=[
                    label,
                    Column(_("cards pledged"), pledged("cards"), "count"),
                    Column(_("books pledged"), pledged("books"), "count"),
                    Column(_("amount pledged (VND)"), pledged("amount_pledged"), "vnd"),
                    Column(_("amount received (VND)"), pledged("amount_received"), "vnd"),
                    *self.figure_columns(allocation=False, **sponsor_link),
                ],
                rows=rows,
                total=total,
                chart=self.chart_of(label),
            ),
            Table(
                name="by_province",
                title=_("Sponsors by province"),
                columns=[
                    label,
                    Column(_("province"), lambda row: row.extra.get("province", "")),
                    *self.figure_columns(
                        allocation=False,
                        pledge__sponsor__id__exact=lambda row: row.key and row.key[0],
                        area=lambda row: row.key and row.key[1],
                    ),
                ],
                rows=place_rows,
                total=figures.total_of(place_rows, _("Total")),
            ),
        ]


class TimelineView(DashboardView):
    """Cards and books issued and delivered each week, and their running totals."""

    page = "timeline"
    template_name = "dashboards/page.html"
    title = gettext_lazy("Timeline")

    def tables(self) -> list[Table]:
        weeks = figures.weeks(self.filters.source())
        columns = [Column(_("week of"), lambda week: week.start, "date")]
        running = []
        for kind in KINDS:
            for series, title in (
                ("issued", _("issued")),
                ("delivered", _("delivered")),
                ("issued_total", _("issued, running total")),
                ("delivered_total", _("delivered, running total")),
            ):
                column = Column(
                    title, lambda w, s=series, k=kind: getattr(w, s)[k], "count", KIND_TITLES[kind]
                )
                columns.append(column)
                if series.endswith("_total"):
                    running.append(column)
        return [
            Table(
                name="weeks",
                title=_("Issued and delivered per week"),
                note=_(
                    "Weeks start on Monday; a card delivered later counts in its week of delivery."
                ),
                columns=columns,
                rows=weeks,
                chart=Chart(
                    label=Column("", lambda w: formats.date_format(w.start, "SHORT_DATE_FORMAT")),
                    series=running,
                    kind="line",
                ),
            )
        ]


class AttentionView(DashboardView):
    """What someone should look at: late deliveries, idle quotas, doubtful or incomplete
    records, cards about to expire."""

    page = "attention"
    template_name = "dashboards/page.html"
    title = gettext_lazy("Needs attention")
    shown = 50  # rows of a list; its export has them all

    def tables(self) -> list[Table]:
        today = timezone.localdate()
        late_days, expiry_days = settings.DASHBOARD_OVERDUE_DAYS, settings.DASHBOARD_EXPIRY_DAYS
        late_before = today - datetime.timedelta(days=late_days)
        expiry_end = today + datetime.timedelta(days=expiry_days)
        counted = figures.late_and_expiring(
            self.filters.items(), issued_before=late_before, expiring=(today, expiry_end)
        )
        late_where = {"area": lambda row: row.key, "issued_on__lt": late_before.isoformat()}
        expiry_where = {
            "area": lambda row: row.key,
            "valid_until__gte": today.isoformat(),
            "valid_until__lte": expiry_end.isoformat(),
        }
        late = self._by_province(counted["late"])
        expiring = self._by_province(counted["expiring"])
        return [
            Table(
                name="overdue",
                title=_("Issued more than %(days)s days ago and not delivered")
                % {"days": late_days},
                columns=[
                    Column(_("province"), lambda row: row.label),
                    Column(
                        _("cards"),
                        lambda row: row.cards.issued,
                        "count",
                        link=self.items_link(Item.Kind.CARD, PENDING, **late_where),
                    ),
                    Column(
                        _("books"),
                        lambda row: row.books.issued,
                        "count",
                        link=self.items_link(Item.Kind.BOOK, PENDING, **late_where),
                    ),
                    Column(_("issued since"), lambda row: row.extra.get("first"), "date"),
                ],
                rows=late,
                total=figures.total_of(late, _("Total")),
                empty=_("Every card and book issued before %(day)s has been delivered.")
                % {"day": formats.date_format(late_before, "SHORT_DATE_FORMAT")},
            ),
            self._idle_quotas(today),
            self._duplicates(),
            self._without_id(),
            Table(
                name="expiring",
                title=_("Cards expiring in the next %(days)s days") % {"days": expiry_days},
                note=_("Their holders may need a sponsor again."),
                columns=[
                    Column(_("province"), lambda row: row.label),
                    Column(
                        _("cards"),
                        lambda row: row.cards.issued,
                        "count",
                        link=self.items_link(Item.Kind.CARD, COUNTED, **expiry_where),
                    ),
                    Column(_("first expiry"), lambda row: row.extra.get("first"), "date"),
                ],
                rows=expiring,
                total=figures.total_of(expiring, _("Total")),
            ),
        ]

    def _by_province(self, counted: dict) -> list[Row]:
        """Return one part of ``late_and_expiring`` per province of the plan's edition."""
        by_quota = {quota.id: quota for quota in self.quotas}
        rows: dict[int, Row] = {}
        for (quota_id, kind), (number, first) in counted.items():
            province = by_quota[quota_id].province_id
            row = rows.setdefault(
                province, Row(key=province, label=self.filters.province_names.get(province, "?"))
            )
            # Kept as "issued": the tables read that figure for either count.
            row.kind(kind).count(Item.Status.ISSUED, number, 0)
            earliest = row.extra.get("first")
            row.extra["first"] = first if earliest is None else min(first, earliest)
        return sorted(rows.values(), key=lambda row: row.label)

    def _idle_quotas(self, today: datetime.date) -> Table:
        plan = self.filters.plan
        days_left = (plan.ends_on - today).days
        warning_days = settings.DASHBOARD_QUOTA_WARNING_DAYS
        rows = []
        if days_left <= warning_days:
            chosen = self.filters.chosen_province
            for quota in self.quotas:
                if not quota.visible or (chosen and quota.province_id != chosen.pk):
                    continue
                for kind, own, used in (
                    (Item.Kind.CARD, quota.cards - quota.cards_split, quota.cards_used),
                    (Item.Kind.BOOK, quota.books - quota.books_split, quota.books_used),
                ):
                    if own and used < own / 2:
                        rows.append((quota, kind, own, used))
        return Table(
            name="idle_quotas",
            title=_("Quotas used under half as the plan nears its end"),
            note=_("The plan ends on %(day)s (%(days)s days from today).")
            % {"day": formats.date_format(plan.ends_on, "SHORT_DATE_FORMAT"), "days": days_left},
            columns=[
                Column(_("quota of"), lambda row: row[0].unit_name),
                Column(_("kind"), lambda row: str(KIND_TITLES[row[1]])),
                Column(_("to issue here"), lambda row: row[2], "count"),
                Column(_("issued"), lambda row: row[3], "count"),
                Column(_("issued / to issue"), lambda row: figures.share(row[3], row[2]), "share"),
            ],
            rows=rows,
            empty=(
                _("Every quota is at least half used.")
                if days_left <= warning_days
                else _("Shown from %(days)s days before the plan ends.") % {"days": warning_days}
            ),
        )

    def _people(self):
        people = scoped(Beneficiary.objects.all(), self.request.user)
        province = self.filters.chosen_province
        if province:
            people = people.filter(province_id=province.current_province_id)
        return people

    def _people_link(self, query: Callable[[Any], dict | None]):
        """Return a column's link to the admin's list of the recipients that ``query(row)``
        filters (None: no link), if the user sees that list."""
        if not self.request.user.has_perm("beneficiaries.view_beneficiary"):
            return None
        url = reverse("admin:beneficiaries_beneficiary_changelist")

        def link(row) -> str | None:
            values = query(row)
            return None if values is None else f"{url}?{urlencode(values)}"

        return link

    def _duplicates(self) -> Table:
        title = _("Possible duplicate recipients")
        if scope_of(self.request.user).everything and not self.filters.chosen_province:
            # A country's million people are compared province by province.
            return Table(
                name="duplicates",
                title=title,
                columns=[],
                rows=[],
                empty=_("Choose a province to compare its recipients."),
            )
        export = self.request.GET.get("export") == "duplicates"
        count, groups = figures.possible_duplicates(self._people(), None if export else self.shown)
        link = self._people_link(
            lambda group: {
                "search_name": group["search_name"],
                "birth_year": group["birth_year"],
                "province": group["province_id"],
                "commune": group["commune_id"],
            }
        )
        return Table(
            name="duplicates",
            title=title,
            note=ngettext(
                "%(count)s group of people with the same name, year of birth and commune.",
                "%(count)s groups of people with the same name, year of birth and commune.",
                count,
            )
            % {"count": grouped(count)},
            columns=[
                Column(_("full name"), lambda group: group["name"], link=link),
                Column(_("year of birth"), lambda group: group["birth_year"]),
                Column(_("commune"), lambda group: group["commune__name"]),
                Column(_("people"), lambda group: group["people"], "count"),
            ],
            rows=groups,
        )

    def _without_id(self) -> Table:
        rows = list(
            self._people()
            .filter(personal_id__isnull=True, anonymised_at__isnull=True)
            .order_by("province__code")
            .values("province_id", "province__name")
            # COUNT(*): read from beneficiary_without_id_idx alone, which holds no id.
            .annotate(people=Count("*"))
        )

        def without_id(row) -> dict | None:
            if not row["province_id"]:  # the total: the admin has no "every province" link
                return None
            return {
                "personal_id__isnull": True,
                "anonymised_at__isnull": True,
                "province": row["province_id"],
            }

        link = self._people_link(without_id)
        return Table(
            name="without_id",
            title=_("Recipients without a personal ID"),
            columns=[
                Column(_("province (today)"), lambda row: row["province__name"]),
                Column(_("people"), lambda row: row["people"], "count", link=link),
            ],
            rows=rows,
            total={
                "province__name": _("Total"),
                "province_id": "",
                "people": sum(r["people"] for r in rows),
            },
        )
