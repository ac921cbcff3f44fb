import datetime

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import AuditEvent
from .selectors import LABELS, event_changes, event_who, events_of_model, tracked_models


class TrackedModelFilter(admin.SimpleListFilter):
    """Which kind of record: the query then reads that model's event tables only."""

    title = _("record")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [
            (model._meta.label, capfirst(model._meta.verbose_name_plural))
            for model in tracked_models()
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.across(*events_of_model(self.value()))
        return queryset


class LabelFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "label"

    def lookups(self, request, model_admin):
        return list(LABELS.items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(pgh_label=self.value())
        return queryset


class UserFilter(admin.SimpleListFilter):
    title = _("user")
    parameter_name = "user"

    def lookups(self, request, model_admin):
        return [(user.pk, user.get_username()) for user in User.objects.order_by("username")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(user=self.value())
        return queryset


class DateRangeForm(forms.Form):
    since = forms.DateField(label=_("from"), required=False)
    until = forms.DateField(label=_("until"), required=False)


class DateRangeFilter(admin.ListFilter):
    """Events between two days (inclusive, in the site's time zone), from a small form."""

    title = _("date")
    template = "audit/date_range_filter.html"
    parameters = ("since", "until")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        self.form = DateRangeForm(self.used_parameters or None)

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def choices(self, changelist):
        # The other filters and the search stay as they are when the form is sent.
        kept = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in self.parameters
            for value in values
        ]
        yield {
            "form": self.form,
            "kept": kept,
            "reset": changelist.get_query_string(remove=list(self.parameters)),
        }

    def queryset(self, request, queryset):
        if not self.form.is_valid():
            return queryset
        since, until = self.form.cleaned_data["since"], self.form.cleaned_data["until"]
        if since:
            queryset = queryset.filter(pgh_created_at__gte=_start_of(since))
        if until:
            queryset = queryset.filter(
                pgh_created_at__lt=_start_of(until + datetime.timedelta(days=1))
            )
        return queryset


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class AuditChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # The diffs show personal data according to who is looking.
        for event in self.result_list:
            event.viewer = request.user


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Every recorded change and access, for administrators: nobody can add, change or delete."""

    fields = ["when", "what", "record", "who", "ip", "request_id", "where", "changes"]
    readonly_fields = fields
    list_display = ["when", "what", "record", "who", "ip", "request_id", "changes"]
    list_filter = [TrackedModelFilter, LabelFilter, UserFilter, DateRangeFilter]
    search_fields = ["pgh_obj_id"]
    search_help_text = _("The record's number (its id), or a request ID.")
    ordering = ["-pgh_created_at", "-pgh_id"]
    list_per_page = 50
    # Counting the whole trail on every page would read every event table.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("when"), ordering="pgh_created_at")
    def when(self, event: AuditEvent):
        return event.pgh_created_at

    @admin.display(description=_("action"))
    def what(self, event: AuditEvent) -> str:
        return LABELS.get(event.pgh_label, event.pgh_label)

    @admin.display(description=_("record"))
    def record(self, event: AuditEvent) -> str:
        model = self._tracked_model(event)
        name = f"{model._meta.verbose_name} #{event.pgh_obj_id}"
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[event.pgh_obj_id],
            )
        except NoReverseMatch:
            return name
        return format_html('<a href="{}">{}</a>', url, name)

    @admin.display(description=_("who"))
    def who(self, event: AuditEvent) -> str:
        return event_who(event)

    @admin.display(description=_("where"))
    def where(self, event: AuditEvent) -> str:
        context = event.pgh_context or {}
        parts = [context.get("method"), context.get("url")]
        if context.get("action"):
            parts.append(_("admin action “%(action)s”") % {"action": context["action"]})
        if context.get("command"):
            parts.append(_("command %(name)s") % {"name": context["command"]})
        if context.get("import_job"):
            parts.append(_("import #%(number)s") % {"number": context["import_job"]})
        return " ".join(str(part) for part in parts if part) or "—"

    @admin.display(description=_("changes"))
    def changes(self, event: AuditEvent) -> str:
        changes = event_changes(event, viewer=getattr(event, "viewer", None))
        if not changes:
            return "—"
        return format_html(
            '<ul class="audit-changes">{}</ul>',
            format_html_join(
                "",
                "<li><b>{}</b>: {} → {}</li>",
                ((change.field, change.before, change.after) for change in changes),
            ),
        )

    def _tracked_model(self, event: AuditEvent):
        return apps.get_model(event.pgh_obj_model)

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    def get_object(self, request, object_id, from_field=None):
        event = super().get_object(request, object_id, from_field)
        if event is not None:
            event.viewer = request.user
        return event

    def get_queryset(self, request):
        queryset = AuditEvent.objects.select_related("user")
        object_id = request.resolver_match.kwargs.get("object_id")
        if object_id:
            # One event: "audit.ItemEvent:12" names its table.
            queryset = queryset.across(unquote(object_id).partition(":")[0])
        return queryset

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(pgh_obj_id=term), False
        return queryset.filter(request_id=term), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
