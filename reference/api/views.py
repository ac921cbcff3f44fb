import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from accounts.scope import scoped
from api.filters import FilterSet
from api.views import ApiViewMixin

from ..models import AdminUnit, UnitLevel
from ..selectors import name_search_terms


class AdminUnitSerializer(serializers.ModelSerializer):
    edition = serializers.CharField(source="edition.code")

    class Meta:
        model = AdminUnit
        fields = [
            "id",
            "edition",
            "code",
            "level",
            "unit_type",
            "name",
            "short_name",
            "parent",
            "province",
        ]


class AdminUnitFilter(FilterSet):
    edition = django_filters.CharFilter(
        field_name="edition__code", help_text=_("2024 (before the 2025 reform) or 2025.")
    )
    level = django_filters.ChoiceFilter(choices=UnitLevel.choices)
    parent = django_filters.NumberFilter(field_name="parent_id")
    search = django_filters.CharFilter(
        method="search_by", help_text=_("Part of the name; diacritics and case do not matter.")
    )

    class Meta:
        model = AdminUnit
        fields = ["edition", "level", "parent", "code"]

    def search_by(self, queryset, name, value):
        # "Xã Hợp Thành", "hop thanh" and "HỢP THÀNH" all find Xã Hợp Thành.
        return queryset.filter(search_name__contains=name_search_terms(value)[-1])


class AdminUnitViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Provinces, districts and communes of each edition, within the caller's areas."""

    serializer_class = AdminUnitSerializer
    filterset_class = AdminUnitFilter

    def get_queryset(self):
        return scoped(AdminUnit.objects.select_related("edition"), self.request.user).order_by(
            "edition__in_force", "code"
        )
