"""The admin site: Django's, plus django-otp's one-time code when OTP_REQUIRED."""

from urllib.parse import urlencode

from django import forms
from django.contrib.admin import AdminSite as DjangoAdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from .security import otp_required


class OTPLoginForm(OTPAdminAuthenticationForm):
    """The admin sign-in form: username, password and the code of the user's device.

    A user whose password is right but who has no confirmed device yet is signed
    in without a code.  That session is not verified, so the admin stays closed
    to it and ``AdminSite.login`` sends it to enrol a device: self-enrolment on
    first use, which is how someone without a device gets one.
    """

    otp_device = forms.CharField(required=False, widget=forms.Select, label=_("Device"))
    otp_token = forms.CharField(
        required=False,
        label=_("Authentication code"),
        help_text=_(
            "The 6-digit code from your authenticator app. Leave it empty if you have "
            "not set up two-factor authentication yet: you will be asked to after signing in."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the code from your authenticator app."),
        "invalid_token": _(
            "This code is not valid. Check the clock of your phone and type the current code."
        ),
        "n_failed_attempts": _("Too many wrong codes: wait a little and try again."),
        "verification_not_allowed": _("Too many wrong codes: wait a little and try again."),
        "device_required": _("Choose the device that shows your code."),
    }

    def clean_otp(self, user) -> None:
        if user is None:
            return
        devices = list(devices_for_user(user))
        if not devices:
            return
        # One device (the usual case): use it, rather than asking to choose it first.
        if len(devices) == 1 and not self.cleaned_data.get("otp_device"):
            self.cleaned_data["otp_device"] = devices[0].persistent_id
        super().clean_otp(user)


class AdminSite(OTPAdminSite):
    """Django's admin site, which becomes django-otp's OTPAdminSite when OTP_REQUIRED.

    Then only users verified by a confirmed device are let in, and the sign-in
    form asks for the device's code.  Without it (development), the admin is
    Django's own: username and password.  Decided on each request.
    """

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @property
    def login_form(self):
        return OTPLoginForm if otp_required() else None

    @property
    def login_template(self):
        return "accounts/admin_login_otp.html" if otp_required() else None

    def has_permission(self, request: HttpRequest) -> bool:
        if otp_required():
            return super().has_permission(request)
        return DjangoAdminSite.has_permission(self, request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        user = request.user
        if (
            request.method == "GET"
            and otp_required()
            and user.is_active
            and user.is_staff
            and not user.is_verified()
            and not any(devices_for_user(user))
        ):
            # Signed in by password only, with no device yet: enrol one first.
            next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
            enrol_url = reverse("accounts:two_factor_enrol")
            return HttpResponseRedirect(f"{enrol_url}?{urlencode({'next': next_url})}")
        return super().login(request, extra_context)
