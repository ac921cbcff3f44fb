"""Probes for a load balancer or an orchestrator: is the process alive, may it take requests.

Both are public (no sign-in), answered over plain HTTP even where HTTPS is
enforced (SECURE_REDIRECT_EXEMPT), never cached, and logged only when they
fail (README, "Running in production").  Their bodies are read by machines and
operators, so they are in English whatever the request's language, and they
never carry an error's text: that goes to the server's log.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
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
