"""What the site answers while its database cannot be reached: 503 with Retry-After.

Django answers every exception that no view or middleware handled with
``handler500`` (``server_error`` below), called inside the ``except`` block of the
middleware layer that caught it (django/core/handlers/exception.py), so the
exception is still ``sys.exc_info()`` here, wherever it was raised: in a view, in
the API's authentication, or in a middleware reading the session's user.  A
connection that cannot be opened, or is lost, gets 503: the API's error shape under
/api/, a page that reads nothing from the database elsewhere, in the request's
language, and one line in the log.  Any other error (a statement timeout, a lock
not granted, a bug) keeps Django's 500 page and traceback.  With DEBUG, Django
shows its technical page for both.  The probes are answered before any of this
(vss_program/health.py).
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response
from django.views import defaults

from api.errors import DatabaseUnavailable, problem

# A restarted PostgreSQL accepts connections again within seconds.
RETRY_AFTER_SECONDS = 10

# SQLSTATEs that mean the connection, not the statement, failed: class 08 (connection
# exception) and the server shutting down or starting up (admin_shutdown, crash_shutdown,
# cannot_connect_now).  psycopg2 gives none (pgcode None) when the connection cannot be
# opened or is cut; a statement timeout (57014), a lock (55P03) or a deadlock (40P01)
# has its own and is an ordinary 500.
_CONNECTION_FAILED = ("08",)
_SERVER_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03"})


def connection_failure(error: BaseException | None) -> BaseException | None:
    """Return the error that says the database cannot be reached: ``error``, one it was raised
    from or while handling, or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, InterfaceError) and "connection" in str(error):
            return error  # "connection already closed"; not a closed cursor (a bug)
        if isinstance(error, OperationalError):
            # Django re-raises psycopg2's error "from" it: the SQLSTATE is the cause's.
            code = getattr(error.__cause__, "pgcode", None)
            if code is None or code.startswith(_CONNECTION_FAILED) or code in _SERVER_UNAVAILABLE:
                return error
        error = error.__cause__ or error.__context__
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    """Return 503 while the database cannot be reached, else Django's 500 (``handler500``)."""
    error = connection_failure(sys.exc_info()[1])
    if error is None:
        return defaults.server_error(request)
    # The language of the request, as LocaleMiddleware reads it (cookie, Accept-Language):
    # the error may come from a middleware around it, once it has answered.
    with translation.override(translation.get_language_from_request(request)):
        if request.path.startswith("/api/"):
            response = JsonResponse(problem(DatabaseUnavailable(), 503), status=503)
        else:
            # Rendered without the request: no context processor, no user to read.
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # One line instead of Django's traceback: which request, and why.  Once per request: the
    # session middleware, on the way out, fails again on the session it could not read.
    if getattr(request, "database_outage_logged", False):
        response._has_been_logged = True
        return response
    request.database_outage_logged = True
    log_response(
        "%s: %s: the database cannot be reached: %s",
        response.reason_phrase,
        request.path,
        " ".join(str(error).split()),  # psycopg's messages run over several lines
        response=response,
        request=request,
    )
    return response
