import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.security import client_ip


class ClientRateThrottle(BaseThrottle):
    """``API_THROTTLE_RATE`` requests per API client or staff member (by address if neither).

    A counter per caller and period, so that a request costs a few cache operations
    whatever the rate (DRF's own throttles keep, and copy, the time of every request
    in the period).  With ``CACHE_URL`` (Redis) the counter is shared by every server;
    its key names the period and lives a second longer, so it cannot expire between
    the ``add`` and the ``incr``.  Beyond the rate: 429 with ``Retry-After``, the
    seconds until the period ends.
    """

    def allow_request(self, request, view) -> bool:
        # Read per request, so that settings changed at run time (tests) apply.
        allowed, period = SimpleRateThrottle.parse_rate(None, settings.API_THROTTLE_RATE)
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            # As the sign-in throttle reads it: X-Forwarded-For only when it can be trusted.
            ident = client_ip(request)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{ident}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            hits = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=period + 1)
            hits = 1
        self._wait = (window + 1) * period - now
        return hits <= allowed

    def wait(self) -> float:
        return self._wait
