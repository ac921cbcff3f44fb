"""Reads that may lag a moment behind go to the replica, when one is configured.

The dashboards and the exports read a lot and write nothing: inside
``replica_reads()`` their queries go to DATABASES["replica"] (DATABASE_REPLICA_URL,
a streaming replica of the primary).  Everything else, and every write, stays on
the primary: a user who has just saved a record reads it back from there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

REPLICA = "replica"

_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Send the reads made inside this block to the replica (the primary if there is none)."""
    token = _reading_from_replica.set(REPLICA in settings.DATABASES)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _reading_from_replica.get() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A replica follows the primary's schema; nothing is migrated on it.
        return db != REPLICA


def reading_from_replica(view):
    """Decorate a view so that its reads, template included, go to the replica."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with replica_reads():
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # a TemplateResponse reads while it renders
        return response

    return wrapped
