"""Plans and their quotas."""

from django.contrib import admin
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from accounts.admin import SaveErrorsAdminMixin, ScopedAdminMixin

from ..forms import QuotaForm
from ..models import Plan, Quota
from ..services import plan_save, quota_delete
from .common import RecordKeepingDeleteMixin, _progress


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
class PlanAdmin(SaveErrorsAdminMixin, ScopedAdminMixin, RecordKeepingDeleteMixin, admin.ModelAdmin):
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
class QuotaAdmin(SaveErrorsAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
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
