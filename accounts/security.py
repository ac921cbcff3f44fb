"""Sign-in policy that several parts share: the client's address and the second factor."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return the address that failed sign-ins are counted against (django-axes).

    REMOTE_ADDR, unless TRUST_X_FORWARDED_FOR says one proxy in front of the site
    appends the client's address to X-Forwarded-For: then the last entry, the one
    that proxy wrote.  Entries before it come from the client and can be forged,
    so they are never used; a malformed last entry falls back to REMOTE_ADDR.
    """
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def otp_required() -> bool:
    """Return whether staff must confirm each sign-in with a one-time code.

    Read on every request (not at start-up) so that a test can switch it with
    ``override_settings(OTP_REQUIRED=...)``.
    """
    return settings.OTP_REQUIRED
