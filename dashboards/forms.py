"""The filters every dashboard shares, read from the URL so that a page can be shared."""

from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scope import scope_of, scoped
from distributions.models import Item, ItemTally, Plan
from distributions.selectors import items_under, sponsors_pledging
from reference.models import AdminUnit, UnitLevel
from sponsors.models import Sponsor

from .figures import Source

# The admin's list of cards and books takes the same filters under these names.
ADMIN_ITEM_PARAMETERS = {
    "plan": "plan__id__exact",
    "sponsor": "pledge__sponsor__id__exact",
    "from": "issued_on__gte",
    "to": "issued_on__lte",
    "province": "area",
}


def _default_plan(plans: list[Plan]) -> Plan | None:
    """Return the plan a page opens on: the latest active one, else the latest signed."""
    active = [plan for plan in plans if plan.status == Plan.Status.ACTIVE]
    return (active or plans or [None])[0]


class DashboardFilters(forms.Form):
    """Plan, province (of the plan's edition), sponsor and period of issue.

    Three queries: the plans, the provinces and the sponsors the viewer may
    choose from; the chosen ones are taken from those lists.  A value that is
    not among them is an error shown on the form, and the filter is left out.
    """

    plan = forms.TypedChoiceField(label=_("plan"), coerce=int, required=False)
    province = forms.TypedChoiceField(
        label=_("province"), coerce=int, required=False, empty_value=None
    )
    sponsor = forms.TypedChoiceField(
        label=_("sponsor"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data, *, user: User):
        super().__init__(data)
        self.user = user
        # "from" and "to" are the URL's words, and Python keywords.
        date_input = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(
            label=_("issued from"), required=False, widget=date_input
        )
        self.fields["to"] = forms.DateField(
            label=_("issued until"), required=False, widget=date_input
        )
        self.plans = list(Plan.objects.order_by("-signed_on", "number"))
        self.fields["plan"].choices = [(plan.pk, str(plan)) for plan in self.plans]
        self.plan = self._chosen_plan(data.get("plan"))
        self.provinces: dict[int, AdminUnit] = {}  # those the user may choose
        self.province_names: dict[int, str] = {}  # all, to name rows (a sponsor's items)
        self.sponsors: dict[int, Sponsor] = {}
        if self.plan is not None:
            provinces = (
                AdminUnit.objects.in_force_on(self.plan.signed_on)
                .filter(level=UnitLevel.PROVINCE)
                .annotate(visible=scope_of(user).sees(AdminUnit))
                .select_related("province")
                .order_by("code")
            )
            for unit in provinces:
                self.province_names[unit.pk] = unit.name
                if unit.visible:
                    self.provinces[unit.pk] = unit
            self.sponsors = {sponsor.pk: sponsor for sponsor in sponsors_pledging(user, self.plan)}
        self.fields["province"].choices = [("", _("All provinces"))] + [
            (pk, unit.name) for pk, unit in self.provinces.items()
        ]
        self.fields["sponsor"].choices = [("", _("All sponsors"))] + [
            (pk, sponsor.short_name) for pk, sponsor in self.sponsors.items()
        ]
        self.is_valid()

    def _chosen_plan(self, value) -> Plan | None:
        for plan in self.plans:
            if str(plan.pk) == value:
                return plan
        return _default_plan(self.plans)

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end of the period is before its start."))
        return data

    def _value(self, name: str):
        return self.cleaned_data.get(name) if name not in self.errors else None

    @property
    def chosen_province(self) -> AdminUnit | None:
        return self.provinces.get(self._value("province"))

    @property
    def chosen_sponsor(self) -> Sponsor | None:
        return self.sponsors.get(self._value("sponsor"))

    @property
    def period(self) -> tuple:
        if "to" in self.errors:
            return (self._value("from"), None)
        return (self._value("from"), self._value("to"))

    @cached_property
    def _values(self) -> dict[str, str]:
        return self.values()

    @cached_property
    def _admin_values(self) -> dict[str, str]:
        return {ADMIN_ITEM_PARAMETERS[name]: value for name, value in self._values.items()}

    def values(self) -> dict[str, str]:
        """Return the filters in force, as the URL writes them."""
        start, end = self.period
        values = {
            "plan": self.plan.pk if self.plan else None,
            "province": self.chosen_province.pk if self.chosen_province else None,
            "sponsor": self.chosen_sponsor.pk if self.chosen_sponsor else None,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    def summary(self) -> str:
        """Return the filters in words, for the printed page (which has no form)."""
        start, end = self.period
        parts = [
            str(self.plan or ""),
            self.chosen_province.name if self.chosen_province else _("all provinces"),
            self.chosen_sponsor.short_name if self.chosen_sponsor else _("all sponsors"),
        ]
        if start or end:
            day = lambda value: formats.date_format(value, "SHORT_DATE_FORMAT") if value else "…"  # noqa: E731
            parts.append(_("issued %(start)s – %(end)s") % {"start": day(start), "end": day(end)})
        return " · ".join(str(part) for part in parts)

    def query(self, **changes) -> str:
        """Return the query string of these filters with ``changes`` (None removes one)."""
        values = self._values | {k: str(v) for k, v in changes.items() if v is not None}
        for name, value in changes.items():
            if value is None:
                values.pop(name, None)
        return urlencode(values)

    def items(self) -> QuerySet[Item]:
        """Return the viewer's items of the plan, narrowed by province, sponsor and period."""
        return self._narrowed(scoped(Item.objects.filter(plan=self.plan), self.user), "issued_on")

    def source(self, within: AdminUnit | None = None) -> Source:
        """Return where the figures of these filters (``within`` an area) are summed from.

        The tally of items where it can answer: for a viewer whose scope is by
        province or sponsor, over whole weeks of issue (Monday to Sunday) or no
        period.  Otherwise the items themselves: commune staff see the items of
        their communes' people, which the tally does not tell apart.
        """
        start, end = self.period
        whole_weeks = (not start or start.weekday() == 0) and (not end or end.weekday() == 6)
        if whole_weeks and not scope_of(self.user).communes:
            tally = scoped(ItemTally.objects.filter(plan=self.plan), self.user)
            rows, source = self._narrowed(tally, "issued_week"), Source.of_tally
        else:
            rows, source = self.items(), Source.of_items
        return source(items_under(rows, within) if within else rows)

    def _narrowed(self, rows: QuerySet, issued: str) -> QuerySet:
        if self.chosen_province:
            rows = items_under(rows, self.chosen_province)
        if self.chosen_sponsor:
            rows = rows.filter(pledge__sponsor=self.chosen_sponsor)
        start, end = self.period
        if start:
            rows = rows.filter(**{f"{issued}__gte": start})
        if end:
            rows = rows.filter(**{f"{issued}__lte": end})
        return rows

    def admin_items_url(self, **extra) -> str:
        """Return the admin's list of the cards and books a figure counts.

        ``extra`` adds the admin's own parameters (kind__exact, status__in, area,
        commune, ...); an area replaces the province filter.
        """
        values = self._admin_values | {name: str(value) for name, value in extra.items()}
        return f"{self._admin_items}?{urlencode(values)}"

    @cached_property
    def _admin_items(self) -> str:
        return reverse("admin:distributions_item_changelist")
