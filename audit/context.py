"""What the audit trail records about who made a change: the context of a request or command.

The triggers read this context from two PostgreSQL settings that pghistory
sets at the start of every writing statement (``pghistory.context``); it is
stored as JSON with each event row, so it is as protected as the row itself.
"""

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pghistory
from django.http import HttpRequest
from django.utils.functional import LazyObject

from accounts.security import client_ip

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or a client may send as a request id: a UUID, nginx's 32 hex
# digits and the like.  Anything else (too long, spaces, quotes, line breaks)
# is replaced, so that nothing a client sends ends up unchecked in logs.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_of(request: HttpRequest) -> str:
    """Return the request's X-Request-ID when it is well-formed, else a new UUID4."""
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    return sent if _REQUEST_ID.fullmatch(sent) else str(uuid.uuid4())


@dataclass
class CurrentRequest:
    """The request being served, as the log reads it: its id and who sent it."""

    request_id: str
    user_id: int | None = None


# A context variable, not a thread-local: under ASGI one thread serves many requests.
_current_request: ContextVar[CurrentRequest | None] = ContextVar("current_request", default=None)


def current_request() -> CurrentRequest | None:
    """Return the id and user of the request being served here, or None outside a request."""
    return _current_request.get()


@contextmanager
def serving(request: HttpRequest) -> Iterator[CurrentRequest]:
    """Give the request its id (``request.request_id``) and make it readable while it is served.

    The one request id of a request: the log lines, the response's X-Request-ID
    and the audit trail's events all carry it.
    """
    request.request_id = request_id_of(request)
    current = CurrentRequest(request_id=request.request_id)
    token = _current_request.set(current)
    try:
        yield current
    finally:
        _current_request.reset(token)


def note_user(user_id: int | None) -> None:
    """Record who sends the request being served, for its log lines (no-op outside a request)."""
    current = _current_request.get()
    if current is not None:
        current.user_id = user_id


def user_metadata(user: Any) -> dict[str, Any]:
    """Return the user's id and username, or None for both when nobody is signed in."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user": None, "username": None}
    return {"user": user.pk, "username": user.get_username()}


def request_metadata(request: HttpRequest) -> dict[str, Any]:
    """Return who sent the request, from where, and what it asked for.

    The address is the client's, as the login throttle reads it (the proxy's
    X-Forwarded-For only when TRUST_X_FORWARDED_FOR says it can be trusted).
    The URL is the path only, since query strings may carry searched ID numbers.
    """
    return {
        **user_metadata(getattr(request, "user", None)),
        "ip": client_ip(request) or None,
        "request_id": getattr(request, "request_id", None) or request_id_of(request),
        "method": request.method,
        "url": request.path,
    }


class AuditRequestMixin:
    """Update the context when a view signs the user in later (Django REST framework does).

    The session user is known before the view runs; an API token is checked in
    the view, which then sets ``request.user``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        # The lazy user of the authentication middleware is read at the start instead.
        if name == "user" and not isinstance(value, LazyObject):
            metadata = user_metadata(value)
            pghistory.context(**metadata)
            note_user(metadata["user"])
        super().__setattr__(name, value)


_command = threading.local()


def in_command_context(execute):
    """Wrap ``BaseCommand.execute`` so that changes made by a command carry its name.

    Only the outermost command names the context: load_reference_data calls
    load_admin_units, and its changes stay "load_reference_data".
    """

    # Positional-only: a command may have an option called "command" (shell -c).
    def execute_in_context(self, /, *args, **options):
        if getattr(_command, "name", None):
            return execute(self, *args, **options)
        _command.name = self.__module__.rsplit(".", 1)[-1]
        try:
            with pghistory.context(command=_command.name):
                return execute(self, *args, **options)
        finally:
            _command.name = None

    execute_in_context.__wrapped__ = execute
    return execute_in_context
