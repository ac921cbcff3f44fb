"""How callers prove who they are: partner systems by API key, staff by their session."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import pghistory
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from accounts.scope import Scope, scope_of
from accounts.security import client_ip, otp_required

from .models import ApiKey

KEYWORD = "Api-Key"
_KEY_COLUMNS = [
    "hashed_key",
    "expiry_date",
    "revoked",
    "client__is_active",
    "client__expires_on",
    "client__allowed_networks",
    "client__scopes",
    "client__user__username",
    "client__user__is_active",
    "client__user__is_superuser",
    "client__user__sponsor",
]
# Writing the last use on every request would cost a write per read.
LAST_USE_PRECISION = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>``: a SHA-512 comparison with the stored hash.

    The key, its client, the client's user, permissions and areas are read with one
    query, then kept in the cache for API_ACCESS_CACHE_SECONDS: that query and the
    three of permissions and areas were most of a small request's time.  Revoking
    or rotating a key, or saving its client, drops the entry (``forget_keys``).
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _space, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        prefix = key.partition(".")[0][:8]
        access = _access(prefix)
        if access is None or not access.api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("This API key is not valid or was revoked."))
        api_key, client = access.api_key, access.api_key.client
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
        # Once a minute per key (the first request to claim the minute writes it).
        if cache.add(f"api-key-used:{prefix}", True, LAST_USE_PRECISION.total_seconds()):
            ApiKey.objects.filter(pk=api_key.pk, revoked=False).update(
                last_used_at=timezone.now(), last_used_ip=address
            )
        pghistory.context(api_client=client.pk)
        # Where Django's ModelBackend and accounts.scope keep them for the request.
        client.user._perm_cache, client.user._scope = access.permissions, access.scope
        return client.user, api_key

    def authenticate_header(self, request):
        return KEYWORD


@dataclass
class _Access:
    api_key: ApiKey
    permissions: set[str]
    scope: Scope


def _cache_key(prefix: str) -> str:
    return f"api-key:{prefix}"


def _access(prefix: str) -> _Access | None:
    """Return the usable key with ``prefix``, its client and what they may do, or None."""
    access = cache.get(_cache_key(prefix))
    if access is not None:
        return access
    api_key = (
        ApiKey.objects.select_related("client__user")
        # What is read here and by has_perm, scope_of and the audit trail.
        .only(*_KEY_COLUMNS)
        .filter(prefix=prefix, revoked=False)
        .first()
    )
    if api_key is None:
        return None
    user = api_key.client.user
    access = _Access(api_key, user.get_all_permissions(), scope_of(user))
    cache.set(_cache_key(prefix), access, settings.API_ACCESS_CACHE_SECONDS)
    return access


def forget_keys(prefixes: Iterable[str]) -> None:
    """Drop cached keys, so that a revocation or a client's change applies at once.

    At once on every server when the cache is shared (CACHE_URL); with each
    process's own memory, on the others within API_ACCESS_CACHE_SECONDS.
    """
    keys = [_cache_key(prefix) for prefix in prefixes]
    cache.delete_many(keys)
    # Again after the commit: a request reading the row before it may have cached it anew.
    transaction.on_commit(lambda: cache.delete_many(keys))


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
