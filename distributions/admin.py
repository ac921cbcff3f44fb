from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import ScopedAdminMixin
from beneficiaries.admin import BeneficiaryAdmin
from beneficiaries.models import Beneficiary
from reference.text import fold
from sponsors.admin import SponsorAdmin
from sponsors.models import Sponsor

from .forms import (
    CancelForm,
    ConfirmForm,
    DeliverForm,
    IssueForm,
    QuotaForm,
)
from .minutes import minutes_page, minutes_xlsx
from .models import Handover, Item, Plan, Pledge, Quota
from .selectors import beneficiary_items_data
from .services import (
    handover_save,
    item_cancel,
    item_confirm,
    item_deliver,
    plan_save,
    pledge_save,
    quota_delete,
)
from .templatetags.money import grouped, vnd


class RecordKeepingDeleteMixin:
    """Explain a refused deletion by the records that depend on the object.

    Items can never be deleted, so Django would otherwise blame the user's
    rights when a recipient, plan or sponsor with cards and books is deleted.
    """

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return to_delete, model_count, perms_needed, protected


def _progress(*figures: int) -> str:
    return " / ".join(grouped(figure) for figure in figures)


# -- plans and quotas -------------------------------------------------------


class QuotaInline(ScopedAdminMixin, admin.TabularInline):
    model = Quota
    form = QuotaForm
    fields = ["unit", "cards", "books", "split", "progress"]
    readonly_fields = ["split", "progress"]
    autocomplete_fields = ["unit"]
    extra = 0

    @admin.display(description=_("split to sub-units (cards / books)"))
    def split(self, quota: Quota) -> str:
        return _progress(quota.cards_split, quota.books_split) if quota.pk else ""

    @admin.display(description=_("issued / delivered here (cards; books)"))
    def progress(self, quota: Quota) -> str:
        if not quota.pk:
            return ""
        return "; ".join(
            [
                _progress(quota.cards_used, quota.cards_delivered),
                _progress(quota.books_used, quota.books_delivered),
            ]
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.actor = request.user
        return formset


@admin.register(Plan)
class PlanAdmin(ScopedAdminMixin, RecordKeepingDeleteMixin, admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["number", "title", "issuing_body", ("signed_on", "signed_by")]}),
        (
            _("Period and targets"),
            {"fields": [("starts_on", "ends_on"), ("target_cards", "target_books")]},
        ),
        (None, {"fields": ["status", "notes", "scan"]}),
    ]
    list_display = ["number", "title", "signed_on", "status", "cards_progress", "books_progress"]
    list_filter = ["status"]
    search_fields = ["number", "title"]
    date_hierarchy = "signed_on"

    @admin.display(description=_("cards: allocated / issued / delivered"))
    def cards_progress(self, plan: Plan) -> str:
        return _progress(plan.cards_allocated, plan.cards_issued or 0, plan.cards_given or 0)

    @admin.display(description=_("books: allocated / issued / delivered"))
    def books_progress(self, plan: Plan) -> str:
        return _progress(plan.books_allocated, plan.books_issued or 0, plan.books_given or 0)

    def get_queryset(self, request):
        # One aggregate over the quota counters, not a count of items per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                cards_issued=Sum("quotas__cards_used"),
                books_issued=Sum("quotas__books_used"),
                cards_given=Sum("quotas__cards_delivered"),
                books_given=Sum("quotas__books_delivered"),
            )
        )

    def get_inlines(self, request, obj):
        # Quotas count against a saved plan's targets: add them once it exists.
        return [QuotaInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        plan_save(plan=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Quota:
            return super().save_formset(request, form, formset, change)
        # Changed lines were written by quota_set while the forms were checked.
        formset.save(commit=False)
        for quota in formset.deleted_objects:
            quota_delete(quota=quota, actor=request.user)


@admin.register(Quota)
class QuotaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Quotas of one's area, e.g. a province's quota split among its communes."""

    form = QuotaForm
    fields = ["plan", "unit", "cards", "books"]
    list_display = ["unit", "plan", "cards", "books", "cards_used", "books_used", "parent"]
    list_filter = ["plan"]
    search_fields = ["unit__search_name", "unit__code", "plan__number"]
    list_select_related = ["unit", "plan", "parent__unit"]
    autocomplete_fields = ["unit"]

    def get_readonly_fields(self, request, obj=None):
        # A quota stays with its plan and unit; only its numbers change.
        return ["plan", "unit"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        pass  # quota_set wrote it while the form was checked

    def has_delete_permission(self, request, obj=None):
        return False


# -- sponsors and pledges ---------------------------------------------------


class PledgeInline(ScopedAdminMixin, admin.StackedInline):
    model = Pledge
    fields = [
        ("plan", "unit"),
        ("cards", "books"),
        ("amount_pledged", "pledged_on"),
        ("amount_received", "received_on"),
        "funded",
        "notes",
    ]
    readonly_fields = ["funded"]
    autocomplete_fields = ["plan", "unit"]
    extra = 0

    @admin.display(description=_("funded so far"))
    def funded(self, pledge: Pledge) -> str:
        if not pledge.pk:
            return ""
        return _("%(cards)s cards, %(books)s books, worth %(value)s") % {
            "cards": grouped(pledge.cards_funded),
            "books": grouped(pledge.books_funded),
            "value": vnd(pledge.value_funded),
        }


admin.site.unregister(Sponsor)


@admin.register(Sponsor)
class SponsorWithPledgesAdmin(RecordKeepingDeleteMixin, SponsorAdmin):
    inlines = [PledgeInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Pledge:
            return super().save_formset(request, form, formset, change)
        for pledge in formset.save(commit=False):
            pledge_save(pledge=pledge, actor=request.user)
        for pledge in formset.deleted_objects:
            pledge.delete()


@admin.register(Pledge)
class PledgeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Pledges are edited on their sponsor's page; this list serves search and autocomplete."""

    list_display = [
        "sponsor",
        "plan",
        "unit",
        "cards",
        "books",
        "cards_funded",
        "books_funded",
        "amount_pledged_vnd",
        "amount_received_vnd",
    ]
    # Only the sponsors of the pledges the user may see: no other names leak.
    list_filter = ["plan", ("sponsor", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sponsor__short_name", "sponsor__name_vi", "plan__number"]
    list_select_related = ["sponsor", "plan", "unit"]

    @admin.display(description=_("amount pledged"), ordering="amount_pledged")
    def amount_pledged_vnd(self, pledge: Pledge) -> str:
        return vnd(pledge.amount_pledged)

    @admin.display(description=_("amount received"), ordering="amount_received")
    def amount_received_vnd(self, pledge: Pledge) -> str:
        return vnd(pledge.amount_received)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- hand-overs ---------------------------------------------------------------


class HandoverItemInline(ScopedAdminMixin, admin.TabularInline):
    model = Item
    fields = ["kind", "beneficiary", "number", "status", "delivered_on", "pledge"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Handover)
class HandoverAdmin(ScopedAdminMixin, RecordKeepingDeleteMixin, admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["plan", "title", ("held_on", "place"), "status"]}),
        (_("Who was there"), {"fields": ["officials_present", "sponsors_present"]}),
        (None, {"fields": ["notes", "minutes_links"]}),
    ]
    list_display = ["title", "held_on", "place", "plan", "status", "cards", "books"]
    list_filter = ["status", "plan"]
    search_fields = ["title", "place__search_name"]
    date_hierarchy = "held_on"
    autocomplete_fields = ["plan", "place"]
    filter_horizontal = ["sponsors_present"]
    readonly_fields = ["minutes_links"]
    list_select_related = ["place", "plan"]
    inlines = [HandoverItemInline]

    @admin.display(description=_("cards"))
    def cards(self, handover: Handover) -> int:
        return handover.card_count

    @admin.display(description=_("books"))
    def books(self, handover: Handover) -> int:
        return handover.book_count

    @admin.display(description=_("hand-over minutes"))
    def minutes_links(self, handover: Handover) -> str:
        if not handover.pk:
            return ""
        return format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:distributions_handover_minutes", args=[handover.pk]),
            _("Print the minutes"),
            reverse("admin:distributions_handover_minutes_xlsx", args=[handover.pk]),
            _("Download as Excel"),
            reverse("admin:distributions_item_add") + f"?handover={handover.pk}",
            _("Issue a card or book at this hand-over"),
        )

    def get_queryset(self, request):
        counted = Item.objects.filter(handover=OuterRef("pk"), status__in=Item.COUNTED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                card_count=_count(counted.filter(kind=Item.Kind.CARD)),
                book_count=_count(counted.filter(kind=Item.Kind.BOOK)),
            )
        )

    def save_model(self, request, obj, form, change):
        handover_save(
            handover=obj, sponsors=form.cleaned_data["sponsors_present"], actor=request.user
        )

    def get_urls(self):
        return [
            path(
                "<int:handover_id>/minutes/",
                self.admin_site.admin_view(self.minutes_view),
                name="distributions_handover_minutes",
            ),
            path(
                "<int:handover_id>/minutes.xlsx",
                self.admin_site.admin_view(self.minutes_xlsx_view),
                name="distributions_handover_minutes_xlsx",
            ),
            *super().get_urls(),
        ]

    def _viewable(self, request, handover_id: int) -> Handover:
        # As for the admin's own pages: no permission 403, out of scope 404.
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=handover_id)

    def minutes_view(self, request, handover_id: int):
        return minutes_page(request, self._viewable(request, handover_id))

    def minutes_xlsx_view(self, request, handover_id: int):
        return minutes_xlsx(request, self._viewable(request, handover_id))


def _count(queryset) -> Subquery:
    return Subquery(
        queryset.order_by().values("handover").annotate(total=Count("pk")).values("total")
    )


# -- cards and books ----------------------------------------------------------


@admin.register(Item)
class ItemAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
        ("pledge__sponsor", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["beneficiary__search_name", "number"]
    list_select_related = ["beneficiary", "quota__unit", "pledge__sponsor"]
    date_hierarchy = "issued_on"
    actions = ["confirm", "deliver", "cancel"]

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
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(
            Q(beneficiary__search_name__contains=fold(term)) | Q(number=term)
        ), False

    def has_delete_permission(self, request, obj=None):
        # A card or book is part of the record: it is cancelled or returned, never deleted.
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {key: request.GET.get(key) for key in ["handover", "quota", "beneficiary"]}
        form = IssueForm(
            request.POST or None,
            initial={k: v for k, v in initial.items() if v},
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


# -- what each recipient received, on their page ------------------------------


class BeneficiaryItemInline(ScopedAdminMixin, admin.TabularInline):
    model = Item
    fields = ["kind", "plan", "status", "issued_on", "delivered_on", "handover"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("cards and books received")

    def has_add_permission(self, request, obj=None):
        return False


class PlanFilter(admin.SimpleListFilter):
    title = _("plan")
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return [(plan.pk, plan.number) for plan in Plan.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            held = Item.objects.filter(
                beneficiary=OuterRef("pk"), plan_id=self.value(), status__in=Item.COUNTED
            )
            return queryset.filter(Exists(held))
        return queryset


class HasCardFilter(admin.SimpleListFilter):
    title = _("has a health-insurance card")
    parameter_name = "has_card"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() not in {"yes", "no"}:
            return queryset
        card = Item.objects.filter(
            beneficiary=OuterRef("pk"), kind=Item.Kind.CARD, status__in=Item.COUNTED
        )
        return queryset.filter(Exists(card) if self.value() == "yes" else ~Exists(card))


admin.site.unregister(Beneficiary)


@admin.register(Beneficiary)
class BeneficiaryWithItemsAdmin(RecordKeepingDeleteMixin, BeneficiaryAdmin):
    list_filter = [*BeneficiaryAdmin.list_filter, PlanFilter, HasCardFilter]
    inlines = [BeneficiaryItemInline]

    def personal_data(self, person: Beneficiary) -> dict:
        # An access request covers what the person received, too.
        return super().personal_data(person) | {"cards_and_books": beneficiary_items_data(person)}
