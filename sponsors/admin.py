from django.contrib import admin

from accounts.admin import ScopedAdminMixin

from .models import Sponsor


@admin.register(Sponsor)
class SponsorAdmin(ScopedAdminMixin, admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["short_name", "name_vi", "name_en", "kind", "tax_code"]}),
        (
            None,
            {"fields": ["address", "contact_name", "contact_phone", "contact_email", "notes"]},
        ),
    ]
    list_display = ["short_name", "name_vi", "kind", "tax_code"]
    list_filter = ["kind"]
    search_fields = ["short_name", "name_vi", "name_en", "tax_code"]
