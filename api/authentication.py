"""How callers prove who they are: partner systems by API key, staff by their session."""

import datetime

import pghistory
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from accounts.scope import scope_of
from accounts.security import client_ip, otp_required

from .models import ApiKey

KEYWORD = "Api-Key"
# Writing the last use on every request would cost a write per read.
LAST_USE_PRECISION = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>``: one indexed query, a SHA-512 comparison."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _space, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        prefix = key.partition(".")[0]
        api_key = (
            ApiKey.objects.select_related("client__user")
            .filter(prefix=prefix[:8], revoked=False)
            .first()
        )
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("This API key is not valid or was revoked."))
        client = api_key.client
        if api_key.has_expired or client.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."))
        if not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("This API client has been switched off."))
        address = client_ip(request)
        if not client.allows_address(address):
            raise exceptions.PermissionDenied(
                _("This API client may not call from the address %(address)s.")
                % {"address": address}
            )
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USE_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=address)
        pghistory.context(api_client=client.pk)
        _load_access(client)
        return client.user, api_key

    def authenticate_header(self, request):
        return KEYWORD


def _load_access(client) -> None:
    """Give the client's user its permissions and areas, from the cache when they are there.

    Reading them costs three queries a request otherwise.  The cache key names the
    client's last change, so a change of role or province applies at once; a change
    of a role's permissions in the admin, within API_ACCESS_CACHE_SECONDS.
    """
    user = client.user
    key = f"api-access:{client.pk}:{client.updated_at.timestamp()}"
    cached = cache.get(key)
    if cached is None:
        cached = (user.get_all_permissions(), scope_of(user))
        cache.set(key, cached, settings.API_ACCESS_CACHE_SECONDS)
    # Where Django's ModelBackend and accounts.scope keep them for the request.
    user._perm_cache, user._scope = cached


class StaffSessionAuthentication(SessionAuthentication):
    """A signed-in staff member in the browsable API, with the second factor when required."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if not user.is_staff or (otp_required() and not user.is_verified()):
            return None
        return result
