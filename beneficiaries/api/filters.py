import django_filters
from django.utils.translation import gettext_lazy as _

from api.filters import FilterSet
from reference.models import UnitLevel
from reference.selectors import unit_id_today

from ..models import Beneficiary
from ..selectors import beneficiary_search
from .serializers import PERSONAL_DATA


class BeneficiaryFilter(FilterSet):
    province = django_filters.CharFilter(
        method="in_unit", help_text=_("Code of a province of today (2 digits).")
    )
    commune = django_filters.CharFilter(
        method="in_unit", help_text=_("Code of a commune of today (5 digits).")
    )
    category = django_filters.ChoiceFilter(choices=Beneficiary.Category.choices)
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

    def search_by(self, queryset, name, value):
        return beneficiary_search(
            queryset, value, personal_data=self.request.user.has_perm(PERSONAL_DATA)
        )
