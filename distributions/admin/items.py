"""Cards and books: issuing one, and the bulk confirm, deliver and cancel actions."""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from import_export.forms import ExportForm

from accounts.admin import ReplicaExportMixin, ScopedAdminMixin
from beneficiaries.access import sees_personal_data
from beneficiaries.models import Beneficiary
from beneficiaries.resources import EXPORT_FORMATS
from beneficiaries.selectors import beneficiary_search
from reference.models import AdminUnit
from reference.text import fold
from vss_program.paginator import EstimatedCountAdminMixin

from ..forms import CancelForm, ConfirmForm, DeliverForm, IssueForm
from ..models import Item
from ..resources import ItemExportResource
from ..selectors import items_of_residents, items_under, sponsors_pledging
from ..services import item_cancel, item_confirm, item_deliver
from ..templatetags.money import vnd


class _UnitFilter(admin.SimpleListFilter):
    """A filter by one unit, set by a link from the dashboards (a country has too many to list).

    It offers only the unit chosen, so it shows, and applies, only when one is.  Any
    unit is taken, even outside the viewer's areas (a recipient who moved away): the
    list is scoped already, and a filter left out would list more than the figure.
    """

    unit: AdminUnit | None = None

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name, "")
        if not (value.isascii() and value.isdigit()):
            return []
        # Read once, for its name here and for narrowing the list.
        self.unit = AdminUnit.objects.select_related("province").filter(pk=value).first()
        return [(value, self.unit.name if self.unit else value)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return self.narrowed(queryset, self.unit) if self.unit else queryset.none()


class PledgedSponsorFilter(admin.RelatedFieldListFilter):
    """The sponsors with pledges the user sees: RelatedOnlyFieldListFilter would read every
    item to list them."""

    def field_choices(self, field, request, model_admin):
        return [(sponsor.pk, str(sponsor)) for sponsor in sponsors_pledging(request.user)]


class AreaFilter(_UnitFilter):
    title = _("area of the quota")
    parameter_name = "area"
    narrowed = staticmethod(items_under)


class ResidentCommuneFilter(_UnitFilter):
    title = _("commune where the recipient lives")
    parameter_name = "commune"
    narrowed = staticmethod(items_of_residents)


@admin.register(Item)
class ItemAdmin(
    EstimatedCountAdminMixin, ScopedAdminMixin, ReplicaExportMixin, ExportMixin, admin.ModelAdmin
):
    fieldsets = [
        (None, {"fields": ["kind", "beneficiary", "plan", "quota", "pledge", "handover"]}),
        (None, {"fields": ["number", "status", "issued_on", "value_vnd"]}),
        (
            _("Health-insurance card"),
            {
                "fields": [
                    ("benefit_level", "participant_group", "living_area"),
                    ("primary_care_code", "primary_care_name"),
                    ("valid_from", "valid_until"),
                ]
            },
        ),
        (_("Social-insurance book"), {"fields": [("months_paid", "income_base")]}),
        (
            _("Delivery"),
            {"fields": [("delivered_on", "delivery_method", "delivered_by"), "cancel_reason"]},
        ),
        (None, {"fields": ["created_by", "created_at"]}),
    ]
    list_display = [
        "kind",
        "beneficiary",
        "unit",
        "sponsor",
        "status",
        "issued_on",
        "delivered_on",
        "value_vnd",
    ]
    list_filter = [
        "kind",
        "status",
        "plan",
        "delivery_method",
        ("pledge__sponsor", PledgedSponsorFilter),
        ("issued_on", admin.DateFieldListFilter),
        AreaFilter,
        ResidentCommuneFilter,
    ]
    # Shows the search box; get_search_results does the searching.
    search_fields = ["beneficiary__search_name", "number"]
    list_select_related = ["beneficiary", "quota__unit", "pledge__sponsor"]
    # Newest first through item_issued_idx, and sortable by nothing else: sorting a
    # million items by another column would sort them all on every page.  No date
    # hierarchy, which lists the years, months or days that have items by reading
    # them all; the date filter needs no query, and the dashboards link any period.
    sortable_by = ["issued_on"]
    # Half of Django's 100: each row's ten cells are most of a page's time.
    list_per_page = 50
    # The page's items before their people, quotas and sponsors (vss_program.paginator).
    keys_first = True
    actions = ["confirm", "deliver", "cancel"]
    # Export of the list as filtered (django-import-export), with the IDs masked.
    resource_classes = [ItemExportResource]
    export_formats = EXPORT_FORMATS
    export_form_class = ExportForm
    to_encoding = "utf-8-sig"  # CSV with a BOM, or Excel reads Vietnamese as Latin-1

    @admin.display(description=_("unit"), ordering="quota__unit__code")
    def unit(self, item: Item):
        return item.quota.unit

    @admin.display(description=_("sponsor"), ordering="pledge__sponsor__short_name")
    def sponsor(self, item: Item):
        return item.pledge.sponsor

    @admin.display(description=_("value"), ordering="value")
    def value_vnd(self, item: Item) -> str:
        return vnd(item.value)

    def get_readonly_fields(self, request, obj=None):
        # Issued items change only through their workflow: deliver, return, cancel.
        return flatten_fieldsets(self.fieldsets)

    def get_search_results(self, request, queryset, search_term):
        """Find an item by its number, or by its recipient as the recipients' list finds them.

        Each through an index, never an OR that the planner could answer only by
        reading every item: a card's code (letters and digits) is looked up by
        number alone; a number of digits only (a book's, or a person's ID or
        phone) by number and among the few people it finds; words by person.
        """
        term = search_term.strip()
        if not fold(term):
            return queryset, False  # punctuation only: nothing to look for
        numbered = Q(kind__in=Item.Kind.values, number__in={term, term.upper()}) & ~Q(number="")
        if not term.isdigit() and any(character.isdigit() for character in term):
            return queryset.filter(numbered), False
        people = beneficiary_search(
            Beneficiary.objects.all(), term, personal_data=sees_personal_data(request.user)
        ).values_list("pk", flat=True)
        if term.isdigit():
            return queryset.filter(numbered | Q(beneficiary__in=list(people))), False
        return queryset.filter(beneficiary__in=people), False

    def has_change_permission(self, request, obj=None):
        # An item's page is read-only: it changes only through the actions of the list,
        # which need the change permission without an object.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A card or book is part of the record: it is cancelled or returned, never deleted.
        return False

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_export_filename(self, request, queryset, file_format):
        return f"the-bhyt-so-bhxh-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        # Links prefill ids; anything else in the address is ignored.
        initial = {key: request.GET.get(key, "") for key in ["handover", "quota", "beneficiary"]}
        form = IssueForm(
            request.POST or None,
            initial={k: v for k, v in initial.items() if v.isascii() and v.isdigit()},
            actor=request.user,
        )
        if request.method == "POST":
            with transaction.atomic():
                if form.is_valid():
                    item = form.item
                    self.log_addition(request, item, [{"added": {}}])
                    self.message_user(
                        request,
                        _("Issued: %(item)s, worth %(value)s.")
                        % {"item": item, "value": vnd(item.value)},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:distributions_item_change", args=[item.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue a card or a book"),
            "form": form,
            "opts": self.opts,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/distributions/item/issue.html", context)

    def _workflow_action(self, request, queryset, form_class, title: str, apply):
        """Ask for the details of a bulk action, then apply it to each item in one transaction."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                with transaction.atomic():
                    for item in queryset:
                        apply(item, form.cleaned_data)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
                return None
            count = queryset.count()
            self.message_user(
                request,
                ngettext("%(count)d item updated.", "%(count)d items updated.", count)
                % {"count": count},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "items": queryset.select_related("beneficiary"),
            "action": request.POST["action"],
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/distributions/item/action_form.html", context)

    @admin.action(description=_("Mark the selected reserved items issued"), permissions=["change"])
    def confirm(self, request, queryset):
        return self._workflow_action(
            request,
            queryset,
            ConfirmForm,
            _("Mark issued"),
            lambda item, data: item_confirm(
                item=item, issued_on=data["issued_on"], actor=request.user
            ),
        )

    @admin.action(description=_("Mark the selected items delivered"), permissions=["change"])
    def deliver(self, request, queryset):
        return self._workflow_action(
            request,
            queryset,
            DeliverForm,
            _("Mark delivered"),
            lambda item, data: item_deliver(
                item=item,
                delivered_on=data["delivered_on"],
                method=data["method"],
                delivered_by=data["delivered_by"],
                actor=request.user,
            ),
        )

    @admin.action(
        description=_("Cancel the selected items, or record their return"), permissions=["change"]
    )
    def cancel(self, request, queryset):
        return self._workflow_action(
            request,
            queryset,
            CancelForm,
            _("Cancel or record a return"),
            lambda item, data: item_cancel(
                item=item, reason=data["reason"], returned=data["returned"], actor=request.user
            ),
        )
