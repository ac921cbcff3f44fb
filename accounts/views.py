from base64 import b32encode

import qrcode
import qrcode.image.svg
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import user_has_device

from .forms import TokenForm
from .services import totp_device_confirm, totp_device_start


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """Return the page shown, in the admin's look, when django-axes locks a sign-in out.

    Called by axes.middleware.AxesMiddleware (AXES_LOCKOUT_CALLABLE) in place of
    the sign-in page's response; status 429 Too Many Requests.
    """
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        # Every failed attempt, this one included, starts the cool-off again.
        "unlocked_at": timezone.now() + get_cool_off(request),
    }
    return render(
        request, "accounts/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )


def _qr_code_svg(text: str) -> str:
    """Return ``text`` as a QR code in an inline SVG element (drawn here: no outside service)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


@never_cache
@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the signed-in user's authenticator app: a QR code, then one code to confirm.

    Confirming also verifies this session, so the user goes on to the admin
    without signing in again.  A user who has a confirmed device already is
    sent on: replacing a lost device is an administrator's job (they delete the
    old one in the admin), so a stolen session cannot swap it.
    """
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if user_has_device(request.user):
        messages.info(request, _("Two-factor authentication is already set up for your account."))
        return redirect(next_url)

    device = totp_device_start(user=request.user)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        allowed, _details = device.verify_is_allowed()
        confirmed = allowed and totp_device_confirm(device=device, token=form.cleaned_data["token"])
        if confirmed:
            otp_login(request, confirmed)
            messages.success(
                request,
                _(
                    "Two-factor authentication is on: each time you sign in, "
                    "you will be asked for a code from your app."
                ),
            )
            return redirect(next_url)
        form.add_error(
            "token",
            _("This code is not valid. Check the clock of your phone and type the current code.")
            if allowed
            else _("Too many wrong codes: wait a little and try again."),
        )

    secret = b32encode(device.bin_key).decode()
    context = {
        **admin.site.each_context(request),
        "title": _("Two-factor authentication"),
        "form": form,
        "next": next_url,
        "qr_code": mark_safe(_qr_code_svg(device.config_url)),
        # For typing by hand when the camera cannot read the code, in groups of four.
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "accounts/two_factor_enrol.html", context)
