"""One log line per request, and the request's id and user on every line logged while serving it."""

import logging
import time

from django.utils.log import log_response

from audit.context import REQUEST_ID_HEADER, current_request, serving

logger = logging.getLogger("vss_program.requests")

# Probed every few seconds: their successes are written only with LOG_LEVEL=DEBUG.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RequestContextFilter(logging.Filter):
    """Add ``request_id`` and ``user_id`` to every record written while a request is served.

    Set on the handler, so records of every logger (Django's, the libraries')
    carry them.  Reads a context variable only: nothing here may query the
    database, whose own log passes through this filter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        current = current_request()
        if current is not None:
            record.request_id = current.request_id
            record.user_id = current.user_id
        return True


class RequestLogMiddleware:
    """Log each request's method, path, status and duration, with its request id.

    First in MIDDLEWARE, so that the time includes the other middleware (the
    session saved on every request among them) and the requests they answer
    themselves (HTTPS redirects, static files) are logged too.  The id is the
    audit trail's (``audit.context.serving``), sent back as X-Request-ID.  A
    streamed body (an export) is sent after the line is written.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        with serving(request):
            response = self.get_response(request)
            response.headers.setdefault(REQUEST_ID_HEADER, request.request_id)
            self._log(request, response, time.perf_counter() - started)
        return response

    def _log(self, request, response, seconds: float) -> None:
        status = response.status_code
        probe = request.path_info in PROBE_PATHS
        if status >= 400:
            # Django's handler writes this line ("Not Found: /x") after the
            # middleware, when the request id is gone; written here, it is not again.
            # A probe's 503 is the state it reports, not a fault of the site.
            log_response(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=response,
                request=request,
                level="warning" if probe else None,
            )
        level = logging.DEBUG if probe and status == 200 else logging.INFO
        if not logger.isEnabledFor(level):
            return
        duration_ms = round(seconds * 1000, 1)
        path = request.path
        if not path.isprintable():
            # A decoded %0A would start a forged line in the text format.
            path = path.encode("unicode_escape").decode("ascii")
        logger.log(
            level,
            "%s %s %s %.1f ms",
            request.method,
            path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
