import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from api.filters import FilterSet
from reference.models import UnitLevel
from reference.selectors import unit_id_today

from ..access import sees_personal_data
from ..models import Beneficiary
from ..selectors import beneficiary_search


class BeneficiaryFilter(FilterSet):
    province = django_filters.CharFilter(
        method="in_unit", help_text=_("Code of a province of today (2 digits).")
    )
    commune = django_filters.CharFilter(
        method="in_unit", help_text=_("Code of a commune of today (5 digits).")
    )
    category = django_filters.ChoiceFilter(
        choices=Beneficiary.Category.choices,
        method="in_category",
        help_text=_("For callers allowed to see personal data."),
    )
    search = django_filters.CharFilter(
        method="search_by",
        help_text=_("Part of the name, without diacritics if you like; or a phone or ID number."),
    )

    class Meta:
        model = Beneficiary
        fields = ["province", "commune", "category"]

    def in_unit(self, queryset, name, value):
        # The unit's id first, so that the page is one range of (province|commune, id).
        level = UnitLevel.PROVINCE if name == "province" else UnitLevel.COMMUNE
        unit = unit_id_today(code=value, level=level)
        return queryset.filter(**{f"{name}_id": unit}) if unit else queryset.none()

    def in_category(self, queryset, name, value):
        # A sensitive field: filtering by it would reveal it (the admin hides the filter).
        if not sees_personal_data(self.request.user):
            raise ValidationError({"category": [_("You may not filter by this field.")]})
        return queryset.filter(category=value)

    def search_by(self, queryset, name, value):
        return beneficiary_search(
            queryset, value, personal_data=sees_personal_data(self.request.user)
        )
