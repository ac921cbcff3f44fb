"""The admin's import screens: upload, preview with progress, confirm, rejected rows.

django-import-export gives the recipients' list its export and the look of
its import; checking and writing go through ``imports.services``, as the
command does, because the plain row-by-row path is far too slow for the
lists communes send and loses rows on the first bad cell.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import scope_of
from reference.models import AdminUnit, UnitLevel

from ..models import STAGED_FIELDS, Beneficiary, ImportJob, ImportRow
from ..tasks import import_check_start, import_write_start
from .reader import SUFFIXES
from .services import import_confirm, import_job_create, import_rejected_rows, row_error_text
from .workbooks import rejects_workbook, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Enough to read on a page; the rejected-rows file has them all.
ROWS_SHOWN = 200
DUPLICATES_SHOWN = 50
# 100,000 rows of 14 columns as XLSX are about 6 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "XLSX, XLS or CSV (UTF-8) in the template's columns; title rows above the header "
            "row are fine."
        ),
    )
    province = forms.ModelChoiceField(
        label=gettext_lazy("Province"), queryset=AdminUnit.objects.none(), required=False
    )
    edition = forms.ChoiceField(
        label=gettext_lazy("Communes are named in"),
        choices=ImportJob.Edition.choices,
        initial=ImportJob.Edition.CURRENT,
        widget=forms.RadioSelect,
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Rows with errors"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    existing = forms.ChoiceField(
        label=gettext_lazy("People already recorded"),
        choices=ImportJob.Existing.choices,
        initial=ImportJob.Existing.SKIP,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        provinces = AdminUnit.objects.in_force_on(timezone.localdate()).filter(
            level=UnitLevel.PROVINCE
        )
        if not scope.everything:
            provinces = provinces.filter(pk__in=scope.context_provinces)
            self.fields["province"].required = True
        self.fields["province"].queryset = provinces.order_by("name")
        if not self.fields["province"].required:
            self.fields["province"].empty_label = _("All provinces")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)d MB: split it.")
                % {"size": MAX_UPLOAD_BYTES // 1024 // 1024}
            )
        if not upload.name.lower().endswith(tuple(SUFFIXES)):
            raise ValidationError(_("Upload an XLSX, XLS or CSV file."))
        return upload


class ConfirmForm(forms.Form):
    duplicates = forms.ChoiceField(
        label=gettext_lazy("Possible duplicates"),
        choices=ImportJob.Duplicates.choices,
        initial=ImportJob.Duplicates.LEAVE_OUT,
        widget=forms.RadioSelect,
    )


def _person_summary(values: dict, communes: dict[int, AdminUnit]) -> dict:
    """What the side-by-side view shows of a row or a recorded person (ID numbers masked)."""
    birth = values.get("birth_date")
    birth = birth.strftime("%d/%m/%Y") if birth else values.get("birth_year", "")
    commune = communes.get(values.get("commune_id"))
    personal_id = values.get("personal_id") or ""
    return {
        "full_name": values.get("full_name", ""),
        "birth": birth,
        "sex": Beneficiary.Sex(values["sex"]).label if values.get("sex") else "",
        "commune": commune.name if commune else "",
        "village": values.get("address_line", ""),
        "personal_id": f"{'*' * 8}{personal_id[-4:]}" if personal_id else "",
    }


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "province",
        "status",
        "row_count",
        "new_count",
        "updated_count",
        "rejected_count",
        "duplicate_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["province", "created_by"]
    search_fields = ["file_name"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).defer("file_content")
        scope = scope_of(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(Q(created_by=request.user) | Q(province_id__in=scope.provinces))

    def has_change_permission(self, request, obj=None):
        return False  # a job is confirmed on its page, never edited

    def has_add_permission(self, request):
        # Importing records hardship categories: sensitive data.
        return super().has_add_permission(request) and request.user.has_perm(
            "beneficiaries.view_personal_data"
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("template/", view(self.template_view), name="beneficiaries_importjob_template"),
            path(
                "<int:object_id>/progress/",
                view(self.progress_view),
                name="beneficiaries_importjob_progress",
            ),
            path(
                "<int:object_id>/rejects/",
                view(self.rejects_view),
                name="beneficiaries_importjob_rejects",
            ),
            path(
                "<int:object_id>/check-again/",
                view(self.check_again_view),
                name="beneficiaries_importjob_check_again",
            ),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, object_id) -> ImportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def _context(self, request: HttpRequest, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "has_view_permission": self.has_view_permission(request),
            **extra,
        }

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_job_create(
                    actor=request.user,
                    file_name=upload.name,
                    content=upload.read(),
                    province=form.cleaned_data["province"],
                    edition=form.cleaned_data["edition"],
                    mode=form.cleaned_data["mode"],
                    existing=form.cleaned_data["existing"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error("file", error)
            else:
                import_check_start(job)
                return redirect(reverse("admin:beneficiaries_importjob_change", args=[job.pk]))
        return TemplateResponse(
            request,
            "admin/beneficiaries/importjob/upload.html",
            self._context(
                request,
                title=_("Import recipients from a spreadsheet"),
                form=form,
                template_url=reverse("admin:beneficiaries_importjob_template"),
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job(request, object_id)
        form = ConfirmForm(request.POST or None, initial={"duplicates": job.duplicates})
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise PermissionDenied
            if form.is_valid():
                try:
                    job = import_confirm(
                        job=job, actor=request.user, duplicates=form.cleaned_data["duplicates"]
                    )
                    job = import_write_start(job)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                return redirect(request.path)
        return TemplateResponse(
            request,
            "admin/beneficiaries/importjob/job.html",
            self._context(
                request,
                title=str(job),
                job=job,
                form=form,
                can_confirm=job.can_commit and self.has_add_permission(request),
                progress_percent=(
                    100 * job.progress_done // job.progress_total if job.progress_total else 0
                ),
                rejected=self._rejected_rows(job),
                duplicates=self._duplicate_rows(job),
                recipients_url=reverse("admin:beneficiaries_beneficiary_changelist"),
            ),
        )

    def _rejected_rows(self, job: ImportJob) -> list[dict]:
        rows = job.rows.filter(outcome=ImportRow.Outcome.REJECTED).order_by("row_number")
        return [
            {"row_number": row["row_number"], "error": row_error_text(row)}
            for row in rows.values("row_number", "outcome", "errors", "similar")[:ROWS_SHOWN]
        ]

    def _duplicate_rows(self, job: ImportJob) -> list[dict]:
        """Each possible duplicate beside the people it resembles (three queries in all)."""
        rows = list(
            job.rows.filter(outcome=ImportRow.Outcome.DUPLICATE)
            .order_by("row_number")
            .values("row_number", "similar", *STAGED_FIELDS)[:DUPLICATES_SHOWN]
        )
        pks = {entry["pk"] for row in rows for entry in row["similar"] if "pk" in entry}
        numbers = {entry["row"] for row in rows for entry in row["similar"] if "row" in entry}
        recorded = {
            person["id"]: person
            for person in Beneficiary.objects.filter(pk__in=pks).values(
                "id", "full_name", "birth_date", "birth_year", "sex", "commune_id",
                "address_line", "personal_id",
            )
        }  # fmt: skip
        earlier = {
            row["row_number"]: row
            for row in job.rows.filter(row_number__in=numbers).values("row_number", *STAGED_FIELDS)
        }
        commune_ids = {row["commune_id"] for row in rows} | {
            row["commune_id"] for row in earlier.values()
        }
        communes = AdminUnit.objects.in_bulk(commune_ids)
        result = []
        for row in rows:
            similar = []
            for entry in row["similar"]:
                if "pk" in entry and entry["pk"] in recorded:
                    similar.append(
                        {
                            "label": _("Recorded recipient"),
                            "url": reverse(
                                "admin:beneficiaries_beneficiary_change", args=[entry["pk"]]
                            ),
                            **_person_summary(recorded[entry["pk"]], communes),
                        }
                    )
                elif "row" in entry and earlier.get(entry["row"]):
                    similar.append(
                        {
                            "label": _("Row %(row)d of this file") % {"row": entry["row"]},
                            **_person_summary(earlier[entry["row"]], communes),
                        }
                    )
            result.append(
                {
                    "row_number": row["row_number"],
                    "person": _person_summary(row, communes),
                    "similar": similar,
                }
            )
        return result

    def progress_view(self, request: HttpRequest, object_id: int) -> JsonResponse:
        job = self._job(request, object_id)
        return JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "running": job.is_running,
                "done": job.progress_done,
                # Rows are counted while checked; writing is one statement, shown as a moving bar.
                "total": job.progress_total if job.status == ImportJob.Status.VALIDATING else 0,
            }
        )

    def rejects_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        job = self._job(request, object_id)
        response = HttpResponse(rejects_workbook(import_rejected_rows(job)), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="hang-bi-loai-{job.pk}.xlsx"'
        return response

    def check_again_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        job = self._job(request, object_id)
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        if job.status == ImportJob.Status.FAILED:
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
            job.refresh_from_db()
            import_check_start(job)
        return redirect(reverse("admin:beneficiaries_importjob_change", args=[job.pk]))

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(template_workbook(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="mau-danh-sach-nguoi-nhan.xlsx"'
        return response
