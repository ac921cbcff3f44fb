"""What each recipient received, on their page (replacing the beneficiaries app's own)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ScopedAdminMixin
from beneficiaries.admin import BeneficiaryAdmin
from beneficiaries.models import Beneficiary

from ..models import Item, Plan
from ..selectors import beneficiary_items_data, holding
from .common import RecordKeepingDeleteMixin


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
            return queryset.filter(holding(plan_id=self.value()))
        return queryset


class HasCardFilter(admin.SimpleListFilter):
    title = _("has a health-insurance card")
    parameter_name = "has_card"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() not in {"yes", "no"}:
            return queryset
        card = holding(kind=Item.Kind.CARD)
        return queryset.filter(card if self.value() == "yes" else ~card)


admin.site.unregister(Beneficiary)


@admin.register(Beneficiary)
class BeneficiaryWithItemsAdmin(RecordKeepingDeleteMixin, BeneficiaryAdmin):
    list_filter = [*BeneficiaryAdmin.list_filter, PlanFilter, HasCardFilter]
    inlines = [BeneficiaryItemInline]

    def personal_data(self, person: Beneficiary) -> dict:
        # An access request covers what the person received, too.
        return super().personal_data(person) | {"cards_and_books": beneficiary_items_data(person)}
