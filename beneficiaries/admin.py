import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm

from accounts.admin import ReplicaExportMixin, SaveErrorsAdminMixin, ScopedAdminMixin
from accounts.scope import scoped
from audit.services import export_record, unmask_record
from reference.admin import ProvinceFilter
from reference.models import AdminUnit, UnitLevel
from vss_program.paginator import EstimatedCountAdminMixin

from .access import SENSITIVE_FIELDS, sees_personal_data
from .forms import BeneficiaryForm, masked_with_reveal
from .models import Beneficiary, ImportJob
from .resources import EXPORT_FORMATS, BeneficiaryExportResource
from .selectors import beneficiary_personal_data, beneficiary_search
from .services import beneficiary_anonymise, beneficiary_save


def _rewritten(fieldsets, hidden: frozenset[str], replaced: dict[str, str]) -> list:
    """Return ``fieldsets`` without the ``hidden`` fields and with ``replaced`` ones swapped."""
    result = []
    for name, options in fieldsets:
        fields = []
        for entry in options["fields"]:
            row = entry if isinstance(entry, list | tuple) else (entry,)
            row = tuple(replaced.get(field, field) for field in row if field not in hidden)
            if row:
                fields.append(row if len(row) > 1 else row[0])
        if fields:
            result.append((name, {**options, "fields": fields}))
    return result


class CommuneFilter(admin.SimpleListFilter):
    """Communes of the chosen province only: a country has too many to list."""

    title = _("commune")
    parameter_name = "commune"

    def lookups(self, request, model_admin):
        province = request.GET.get(ProvinceFilter.parameter_name)
        if not province:
            return []
        communes = scoped(
            AdminUnit.objects.filter(province_id=province, level=UnitLevel.COMMUNE), request.user
        )
        return [(commune.pk, commune.name) for commune in communes.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(commune_id=self.value())
        return queryset


@admin.register(Beneficiary)
class BeneficiaryAdmin(
    EstimatedCountAdminMixin,
    SaveErrorsAdminMixin,
    ScopedAdminMixin,
    ReplicaExportMixin,
    ImportExportMixin,
    admin.ModelAdmin,
):
    """Recipients, with their personal data masked unless the viewer's role needs them.

    ID numbers are masked everywhere (********1234); users with
    ``view_personal_data`` may reveal the personal ID on the change page,
    export everything held about a person, and export the list (as filtered)
    in the import template's columns; each time is recorded in the audit
    trail.  Without it, ethnic group and hardship category are not shown.
    """

    form = BeneficiaryForm
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
        "person_name",
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
    readonly_fields = [
        "consent_recorded_by",
        "anonymised_at",
        "personal_id_masked",
        "personal_id_revealable",
        "social_insurance_number_masked",
    ]
    list_per_page = 50
    # A million people are listed by name only, which an index keeps in order (by folded
    # name, then id): sorting them by another column would sort them all on every page.
    sortable_by = ["person_name"]
    # A search's results newest first (vss_program.paginator.EstimatedCountChangeList).
    search_ordering = ["-pk"]
    actions = ["anonymise_selected"]
    # Export of the list (django-import-export): a file format, so no choice of columns.
    resource_classes = [BeneficiaryExportResource]
    export_formats = EXPORT_FORMATS
    export_form_class = ExportForm
    to_encoding = "utf-8-sig"  # CSV with a BOM, or Excel reads Vietnamese as Latin-1

    class Media:
        js = ["js/reveal-personal-id.js"]

    @admin.display(
        description=Beneficiary._meta.get_field("full_name").verbose_name, ordering="search_name"
    )
    def person_name(self, obj: Beneficiary) -> str:
        # Sorted as the list is ordered (Meta.ordering): by the folded name, through its index.
        return obj.full_name

    @admin.display(description=_("personal ID"))
    def masked_id(self, obj: Beneficiary) -> str:
        return obj.masked_personal_id

    @admin.display(description=_("personal identification number"))
    def personal_id_masked(self, obj: Beneficiary) -> str:
        return obj.masked_personal_id

    @admin.display(description=_("personal identification number"))
    def personal_id_revealable(self, obj: Beneficiary) -> str:
        return masked_with_reveal(
            obj.masked_personal_id, self._reveal_url(obj), "id_personal_id_masked"
        )

    @admin.display(description=_("social-insurance number"))
    def social_insurance_number_masked(self, obj: Beneficiary) -> str:
        return obj.masked_social_insurance_number

    def sees_personal_data(self, request: HttpRequest) -> bool:
        return sees_personal_data(request.user)

    def _reveal_url(self, obj: Beneficiary) -> str:
        return reverse(
            "admin:beneficiaries_beneficiary_personal_id",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    def get_fieldsets(self, request, obj=None):
        sees = self.sees_personal_data(request)
        replaced = {}
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only, the admin would print the stored numbers in full.
            replaced["personal_id"] = "personal_id_revealable" if sees else "personal_id_masked"
            if not sees:
                replaced["social_insurance_number"] = "social_insurance_number_masked"
        fieldsets = _rewritten(
            super().get_fieldsets(request, obj), frozenset() if sees else SENSITIVE_FIELDS, replaced
        )
        if obj is not None and obj.anonymised_at is not None:
            fieldsets.append((None, {"fields": ["anonymised_at"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        sees = self.sees_personal_data(request)
        form.masked_fields = (
            ("personal_id",) if sees else ("personal_id", "social_insurance_number")
        )
        form.reveal_urls = {"personal_id": self._reveal_url(obj)} if sees and obj else {}
        return form

    def get_list_display(self, request):
        if self.sees_personal_data(request):
            return self.list_display
        return [field for field in self.list_display if field not in SENSITIVE_FIELDS]

    def lookup_allowed(self, lookup, value, request=None):
        # Hidden filters must stay hidden when typed into the address bar:
        # ?category=poor or ?personal_id__startswith=010 would tell what they hide.
        field = lookup.split(LOOKUP_SEP, 1)[0]
        hidden = SENSITIVE_FIELDS | {"personal_id", "social_insurance_number"}
        if field in hidden and (request is None or not self.sees_personal_data(request)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_list_filter(self, request):
        if self.sees_personal_data(request):
            return self.list_filter
        return [field for field in self.list_filter if field not in SENSITIVE_FIELDS]

    def has_add_permission(self, request):
        # A recipient is recorded with their hardship category: a sensitive field.
        return super().has_add_permission(request) and self.sees_personal_data(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.anonymised_at is not None:
            return False  # shown read-only; beneficiary_save refuses it too
        return super().has_change_permission(request, obj)

    def has_anonymise_permission(self, request) -> bool:
        return request.user.has_perm("beneficiaries.anonymise_beneficiary")

    def has_export_permission(self, request) -> bool:
        # The file holds ID numbers in full.
        return self.has_view_permission(request) and self.sees_personal_data(request)

    def get_search_results(self, request, queryset, search_term):
        found = beneficiary_search(
            queryset, search_term, personal_data=self.sees_personal_data(request)
        )
        return found, False

    def has_import_permission(self, request) -> bool:
        return self.admin_site.get_model_admin(ImportJob).has_add_permission(request)

    def import_action(self, request, **kwargs):
        # The Import button leads to the checked, staged import of imports/admin.py:
        # the library's row-by-row import is far too slow for communes' lists.
        if not self.has_import_permission(request):
            raise PermissionDenied
        return redirect("admin:beneficiaries_importjob_add")

    def process_import(self, request, **kwargs):
        raise Http404

    def get_export_queryset(self, request):
        # The change list's scope, filters and search; anonymised people have nothing to export.
        return super().get_export_queryset(request).filter(anonymised_at__isnull=True)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        export_record(
            user=request.user,
            beneficiaries=queryset,
            filters=request.GET.dict(),
            file_format=file_format.get_extension(),
            request=request,
        )
        return data

    def get_export_filename(self, request, queryset, file_format):
        return f"danh-sach-nguoi-nhan-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"

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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.sees_personal_data(request):
            context["personal_data_url"] = reverse(
                "admin:beneficiaries_beneficiary_personal_data",
                args=[obj.pk],
                current_app=self.admin_site.name,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/personal-id/",
                self.admin_site.admin_view(self.personal_id_view),
                name="beneficiaries_beneficiary_personal_id",
            ),
            path(
                "<int:object_id>/personal-data/",
                self.admin_site.admin_view(self.personal_data_view),
                name="beneficiaries_beneficiary_personal_data",
            ),
            *super().get_urls(),
        ]

    # -- personal data: reveal, export, anonymise ------------------------------

    def _person_for_personal_data(self, request: HttpRequest, object_id: int) -> Beneficiary:
        """Return the recipient: 403 without view_personal_data, 404 outside the user's scope."""
        if not self.sees_personal_data(request):
            raise PermissionDenied
        person = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, person):
            raise PermissionDenied
        return person

    def personal_id_view(self, request: HttpRequest, object_id: int) -> JsonResponse:
        """Return the full personal ID as JSON, for the "Show the full number" link; recorded."""
        person = self._person_for_personal_data(request, object_id)
        if person.personal_id:
            unmask_record(user=request.user, beneficiary=person, request=request)
        return JsonResponse({"personal_id": person.personal_id or ""})

    def personal_data(self, person: Beneficiary) -> dict[str, Any]:
        """Return what an access request exports; BeneficiaryWithItemsAdmin adds the items."""
        return beneficiary_personal_data(person)

    def personal_data_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Download everything held about one person, unmasked (Decree 13/2023, Law 91/2025).

        For the person who asked: their own data in full, as UTF-8 JSON.  The
        export is recorded in the audit trail like a reveal of their ID number.
        """
        person = self._person_for_personal_data(request, object_id)
        data = {
            "exported_at": timezone.localtime().isoformat(),
            "exported_by": request.user.get_username(),
            **self.personal_data(person),
        }
        unmask_record(user=request.user, beneficiary=person, request=request)
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{person.pk}.json"'
        return response

    @admin.action(description=_("Anonymise the selected recipients"), permissions=["anonymise"])
    def anonymise_selected(self, request, queryset):
        """Ask for confirmation, like deleting, then anonymise each recipient (one transaction)."""
        if request.POST.get("post") == "yes":
            anonymised = []
            with transaction.atomic():
                for person in queryset.filter(anonymised_at__isnull=True):
                    anonymised.append(beneficiary_anonymise(beneficiary=person, actor=request.user))
            for person in anonymised:
                self.log_change(request, person, [{"changed": {"fields": ["anonymised at"]}}])
            self.message_user(
                request,
                ngettext(
                    "%(count)d recipient anonymised.",
                    "%(count)d recipients anonymised.",
                    len(anonymised),
                )
                % {"count": len(anonymised)},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Anonymise the selected recipients?"),
            "people": list(queryset.order_by("search_name", "pk")),
            "opts": self.opts,
            "action": request.POST.get("action", "anonymise_selected"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/beneficiaries/beneficiary/anonymise_selected_confirmation.html", context
        )


# The import screens register their own admin (beneficiaries/imports/admin.py).
from .imports import admin as _imports_admin  # noqa: E402, F401
