from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from reference.admin import ProvinceFilter
from reference.models import AdminUnit, UnitLevel
from reference.text import fold

from .models import Beneficiary
from .services import beneficiary_save


class CommuneFilter(admin.SimpleListFilter):
    """Communes of the chosen province only: a country has too many to list."""

    title = _("commune")
    parameter_name = "commune"

    def lookups(self, request, model_admin):
        province = request.GET.get(ProvinceFilter.parameter_name)
        if not province:
            return []
        communes = AdminUnit.objects.filter(province_id=province, level=UnitLevel.COMMUNE)
        return [(commune.pk, commune.name) for commune in communes.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune_id=self.value())
        return queryset


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "full_name",
                    ("birth_date", "birth_year"),
                    ("sex", "ethnic_group"),
                    "category",
                ]
            },
        ),
        (_("Identifiers"), {"fields": ["personal_id", "social_insurance_number", "phone"]}),
        (_("Address"), {"fields": ["commune", "address_line", "household_key"]}),
        (_("Consent"), {"fields": [("consent_on", "consent_method"), "consent_recorded_by"]}),
        (None, {"fields": ["notes"]}),
    ]
    list_display = [
        "full_name",
        "birth_year",
        "sex",
        "masked_id",
        "commune",
        "category",
    ]
    list_filter = [ProvinceFilter, CommuneFilter, "category"]
    search_fields = ["search_name", "personal_id", "social_insurance_number", "phone"]
    list_select_related = ["commune"]
    autocomplete_fields = ["commune"]
    readonly_fields = ["consent_recorded_by"]
    list_per_page = 50

    @admin.display(description=_("personal ID"))
    def masked_id(self, obj: Beneficiary) -> str:
        return obj.masked_personal_id

    def get_search_results(self, request, queryset, search_term):
        # Names are matched folded ("luong thi truc" finds "Lương Thị Trúc");
        # numbers exactly, so an ID never matches part of another.
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            number = Q(personal_id=term) | Q(social_insurance_number=term) | Q(phone=term)
            return queryset.filter(number), False
        return queryset.filter(search_name__contains=fold(term)), False

    def save_model(self, request, obj, form, change):
        _saved, duplicates = beneficiary_save(beneficiary=obj, actor=request.user)
        if duplicates:
            links = format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:beneficiaries_beneficiary_change", args=[d.pk]), str(d))
                    for d in duplicates
                ),
            )
            self.message_user(
                request,
                format_html(
                    _(
                        "Possible duplicate: same name, year of birth and commune as {}. "
                        "Check before issuing a card or a book."
                    ),
                    links,
                ),
                messages.WARNING,
            )
