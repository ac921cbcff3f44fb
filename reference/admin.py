from functools import reduce
from operator import or_

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import scoped

from .models import AdminUnit, Edition, Rate
from .selectors import name_search_terms


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference data changes only through `load_admin_units`, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Edition)
class EditionAdmin(ReadOnlyAdmin):
    list_display = ["code", "in_force", "source"]


class ProvinceFilter(admin.SimpleListFilter):
    title = _("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        # The provinces of the chosen edition, else of the one in force today.
        edition = request.GET.get("edition__id__exact")
        provinces = AdminUnit.objects.provinces().select_related("edition")
        if edition:
            provinces = provinces.filter(edition_id=edition)
        else:
            # Joined, not asked first: one query on every list that has this filter.
            provinces = provinces.in_force_on(timezone.localdate())
        provinces = scoped(provinces, request.user)
        return [(unit.pk, f"{unit.name} ({unit.edition.code})") for unit in provinces]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(province_id=self.value())
        return queryset


@admin.register(AdminUnit)
class AdminUnitAdmin(ReadOnlyAdmin):
    fields = ["edition", "code", "level", "unit_type", "name", "short_name", "parent", "province"]
    list_display = ["code", "name", "unit_type", "parent", "edition"]
    list_filter = ["edition", "level", "unit_type", ProvinceFilter]
    search_fields = ["code", "search_name"]
    list_select_related = ["parent", "edition"]
    list_per_page = 50

    def get_queryset(self, request):
        # The units are public, but the ones offered to pick for a record are
        # those of the user's areas.
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            queryset = scoped(queryset, request.user)
        return queryset

    def get_search_results(self, request, queryset, search_term):
        # Match names the way people type them: "hop thanh" finds "Xã Hợp Thành".
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        terms = name_search_terms(term)
        return queryset.filter(reduce(or_, (Q(search_name__contains=t) for t in terms))), False


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    """Dated figures an administrator keeps up to date when a decree changes one."""

    list_display = ["kind", "valid_from", "value", "legal_basis"]
    list_filter = ["kind"]
    ordering = ["kind", "-valid_from"]
