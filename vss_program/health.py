"""Probes for a load balancer or an orchestrator: is the process alive, may it take requests.

Both are public (no sign-in), answered over plain HTTP even where HTTPS is
enforced (SECURE_REDIRECT_EXEMPT), never cached, and logged only when they
fail (README, "Running in production").  ProbeMiddleware answers them before
the session is read, so that a probe sent with a login's cookie does not depend
on the database either.  Their bodies are read by machines and operators, so
they are in English whatever the request's language, and they never carry an
error's text: that goes to the server's log.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# How many unapplied migrations /readyz names (an empty database has them all).
_LISTED_MIGRATIONS = 5


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Return 200 while the process answers requests.

    Checks nothing else, the database least of all: a database outage must not
    make an orchestrator restart every app server.
    """
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Return 200 when the database answers and has every migration applied, else 503.

    Three queries (``SELECT 1``, the table list, the applied migrations); reading
    the migration files takes about 15 ms.  A database that has migrations this code
    does not know (migrated by a newer release) is ready.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    checks = {"database": "ok", "migrations": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        # psycopg's messages run over several lines.
        logger.warning("Not ready: the database does not answer: %s", " ".join(str(exc).split()))
        checks.update(database="does not answer", migrations="not checked")
        return _answer(checks)
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        logger.exception("Not ready: the migrations cannot be checked")
        checks["migrations"] = "cannot be checked"
        return _answer(checks)
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    if unapplied:
        listed = ", ".join(unapplied[:_LISTED_MIGRATIONS])
        more = len(unapplied) - _LISTED_MIGRATIONS
        checks["migrations"] = f"{len(unapplied)} not applied: {listed}" + (
            f" and {more} more" if more > 0 else ""
        )
        logger.warning("Not ready: migrations not applied: %s", ", ".join(unapplied))
    return _answer(checks)


def _answer(checks: dict[str, str]) -> JsonResponse:
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Answer the probes before the session middleware, and the user, are reached.

    Placed after the security middleware (the HTTPS redirect's exemption) and before
    the session middleware.  Further in, a probe that carries a login's cookie (a
    browser, a proxy that forwards cookies) would read the user from the database,
    then save the session there: while the database is down /healthz would fail
    and /readyz answer 500 instead of its 503.  The Host is still checked against
    ALLOWED_HOSTS (400 otherwise), as CommonMiddleware does for every other address.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        request.get_host()  # DisallowedHost: answered 400 by Django
        return probe(request)
