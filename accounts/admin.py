from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from vss_program.routers import reading_from_replica

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


class ReplicaExportMixin:
    """Read a list's export (django-import-export) from the replica, when there is one."""

    def export_action(self, request):
        return reading_from_replica(super().export_action)(request)


class SaveErrorsAdminMixin:
    """Show on the form what the services refuse on saving, and save all of a page or nothing.

    A POST of an add or change page runs in one transaction, rolled back unless
    the page was saved: forms that write while they are checked (quota lines)
    leave nothing behind when another part of the page is invalid.  A
    ValidationError raised by ``save_model`` or ``save_related`` (e.g. a status
    going backwards) rolls everything back and the page is checked again with
    that error added to its form, so that it is shown with what the user typed.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return self._changeform_all_or_nothing(request, object_id, form_url, extra_context)
        except ValidationError as error:
            request._save_error = error
            return self._changeform_all_or_nothing(request, object_id, form_url, extra_context)

    def _changeform_all_or_nothing(self, request, object_id, form_url, extra_context):
        request._saved = False
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if not request._saved:
                transaction.set_rollback(True)
            return response

    def response_add(self, request, obj, post_url_continue=None):
        request._saved = True  # reached only once the object and its inlines are saved
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request._saved = True
        return super().response_change(request, obj)

    def save_related(self, request, form, formsets, change):
        try:
            super().save_related(request, form, formsets, change)
        except ValidationError as error:
            # The fields named are those of an inline line, not of the main form.
            raise ValidationError(error.messages) from error

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_save_error", None)
        if error is None:
            return form

        class WithSaveError(form):
            def full_clean(self):
                super().full_clean()
                if self.is_bound:
                    _add_save_error(self, error)

        WithSaveError.__name__ = WithSaveError.__qualname__ = form.__name__
        return WithSaveError


def _add_save_error(form, error: ValidationError) -> None:
    """Add ``error`` to a checked form, on the fields it names that the form has.

    Added once the form is checked, so that the values stay in ``cleaned_data``
    for the model's own checks.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


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
