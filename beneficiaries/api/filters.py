import django_filters
from django.utils.translation import gettext_lazy as _

from ..models import Beneficiary
from ..selectors import beneficiary_search
from .serializers import PERSONAL_DATA


class BeneficiaryFilter(django_filters.FilterSet):
    province = django_filters.CharFilter(
        field_name="province__code", help_text=_("Code of a province of today (2 digits).")
    )
    commune = django_filters.CharFilter(
        field_name="commune__code", help_text=_("Code of a commune of today (5 digits).")
    )
    category = django_filters.ChoiceFilter(choices=Beneficiary.Category.choices)
    search = django_filters.CharFilter(
        method="search_by",
        help_text=_("Part of the name, without diacritics if you like; or a phone or ID number."),
    )

    class Meta:
        model = Beneficiary
        fields = ["province", "commune", "category"]

    def search_by(self, queryset, name, value):
        return beneficiary_search(
            queryset, value, personal_data=self.request.user.has_perm(PERSONAL_DATA)
        )
