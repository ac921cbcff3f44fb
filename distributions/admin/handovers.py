"""Hand-overs, their items and their printed minutes."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import SaveErrorsAdminMixin, ScopedAdminMixin
from accounts.scope import scoped

from ..minutes import minutes_page, minutes_xlsx
from ..models import Handover, Item
from ..services import handover_save
from .common import RecordKeepingDeleteMixin


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
class HandoverAdmin(
    SaveErrorsAdminMixin, ScopedAdminMixin, RecordKeepingDeleteMixin, admin.ModelAdmin
):
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
        # Counted among the items the user may see, like the list of the items itself.
        counted = scoped(Item.objects.all(), request.user).filter(
            handover=OuterRef("pk"), status__in=Item.COUNTED
        )
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
