from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """``API_THROTTLE_RATE`` requests per API client or staff member (by address if neither).

    The answer beyond it is 429 with ``Retry-After``.  Counts live in the cache
    (``CACHE_URL``: Redis to share them between several servers).
    """

    scope = "client"

    def get_rate(self) -> str:
        # Read per request, so that settings changed at run time (tests) apply.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
