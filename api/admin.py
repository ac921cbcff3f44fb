from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from accounts.admin import SaveErrorsAdminMixin
from reference.models import AdminUnit

from .models import ApiClient, ApiKey, validate_network
from .services import api_client_save, api_key_issue, api_key_revoke, api_key_rotate

# The library's own key model is not used: our keys belong to a client.
admin.site.unregister(APIKey)

KEY_TEMPLATE = "admin/api/keys_issued.html"


def _keys_page(request, title: str, issued: list[tuple[ApiKey, str]]) -> TemplateResponse:
    """Return the one page that ever shows the secrets (never stored, never in a message)."""
    context = {**admin.site.each_context(request), "title": title, "issued": issued}
    # Admin views are never cached (no-store): the secrets stay out of caches too.
    return TemplateResponse(request, KEY_TEMPLATE, context)


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=ApiClient.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=ApiClient._meta.get_field("scopes").help_text,
    )
    allowed_networks = SimpleArrayField(
        forms.CharField(validators=[validate_network]),
        label=_("allowed IP addresses"),
        required=False,
        help_text=ApiClient._meta.get_field("allowed_networks").help_text,
    )

    class Meta:
        model = ApiClient
        fields = [
            "name",
            "organisation",
            "role",
            "province",
            "sponsor",
            "scopes",
            "allowed_networks",
            "expires_on",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Areas are today's, as for staff (accounts.UnitAssignment).
        self.fields["province"].queryset = AdminUnit.objects.provinces().in_force_on(
            timezone.localdate()
        )


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["name", "prefix", "created", "expiry_date", "revoked", "last_used_at", "last_used_ip"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(SaveErrorsAdminMixin, admin.ModelAdmin):
    form = ApiClientForm
    list_display = [
        "name",
        "organisation",
        "role",
        "province",
        "sponsor",
        "is_active",
        "expires_on",
    ]
    list_filter = ["organisation", "is_active"]
    list_select_related = ["province", "sponsor"]
    search_fields = ["name"]
    readonly_fields = ["user", "created_at", "created_by"]
    inlines = [ApiKeyInline]
    actions = ["issue_key"]

    def save_model(self, request, obj, form, change):
        api_client_save(client=obj, actor=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        # Instead of the usual redirect (which also marks the page saved): the first key.
        super().response_add(request, obj, post_url_continue)
        issued = api_key_issue(client=obj, actor=request.user)
        return _keys_page(request, _("API client created"), [issued])

    @admin.action(description=_("Issue a new key"), permissions=["change"])
    def issue_key(self, request, queryset):
        issued = [api_key_issue(client=client, actor=request.user) for client in queryset]
        return _keys_page(request, _("New API keys"), issued)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "prefix", "created", "expiry_date", "revoked", "last_used_at"]
    list_filter = ["revoked"]
    list_select_related = ["client"]
    search_fields = ["name", "prefix", "client__name"]
    fields = [
        "client",
        "name",
        "prefix",
        "created",
        "expiry_date",
        "revoked",
        "last_used_at",
        "last_used_ip",
    ]
    readonly_fields = fields
    actions = ["rotate", "rotate_now", "revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, so that their use can be traced

    @admin.action(
        description=_("Rotate: new key, the old one works 24 more hours"), permissions=["change"]
    )
    def rotate(self, request, queryset):
        issued = [
            api_key_rotate(key=key, overlap=timedelta(hours=24), actor=request.user)
            for key in queryset.filter(revoked=False)
        ]
        return _keys_page(request, _("Replacement API keys"), issued)

    @admin.action(description=_("Rotate: new key, the old one stops now"), permissions=["change"])
    def rotate_now(self, request, queryset):
        issued = [
            api_key_rotate(key=key, actor=request.user) for key in queryset.filter(revoked=False)
        ]
        return _keys_page(request, _("Replacement API keys"), issued)

    @admin.action(description=_("Revoke for good"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked=False):
            api_key_revoke(key=key, actor=request.user)
        messages.success(request, _("The keys are revoked."))
