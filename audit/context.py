"""What the audit trail records about who made a change: the context of a request or command.

The triggers read this context from two PostgreSQL settings that pghistory
sets at the start of every writing statement (``pghistory.context``); it is
stored as JSON with each event row, so it is as protected as the row itself.
"""

import re
import threading
import uuid
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
            pghistory.context(**user_metadata(value))
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
