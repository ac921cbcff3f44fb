"""Sponsors with their pledges (replacing the sponsors app's own page), and pledges."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import SaveErrorsAdminMixin, ScopedAdminMixin
from sponsors.admin import SponsorAdmin
from sponsors.models import Sponsor

from ..models import Pledge
from ..services import pledge_save
from ..templatetags.money import grouped, vnd
from .common import RecordKeepingDeleteMixin


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
class SponsorWithPledgesAdmin(SaveErrorsAdminMixin, RecordKeepingDeleteMixin, SponsorAdmin):
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
