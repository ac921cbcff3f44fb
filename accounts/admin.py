from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from .models import UnitAssignment, User
from .scope import scoped


class ScopedAdminMixin:
    """Show and offer only what the user's areas allow, in lists, forms and choices.

    An object outside the scope does not exist for the user: its pages answer
    404, like an unknown id, so nothing leaks about other provinces.
    """

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped(field.queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped(field.queryset, request.user)
        return field

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


class UnitAssignmentInline(admin.TabularInline):
    model = UnitAssignment
    autocomplete_fields = ["unit"]
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Programme"), {"fields": ["sponsor"]}),
    ]
    list_display = [*DjangoUserAdmin.list_display, "sponsor"]
    list_filter = [*DjangoUserAdmin.list_filter, "sponsor"]
    inlines = [UnitAssignmentInline]
