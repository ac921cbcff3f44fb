"""``Idempotency-Key`` on POST: a retry gets the first answer, never a second effect.

A POST with a key runs in one transaction with the storing of its response
(2xx and 4xx): either both are committed or neither, so a server that dies
between the work and the answer leaves nothing for a retry to repeat.  That
transaction first takes an advisory lock named after the caller and the key
(``pg_try_advisory_xact_lock``, released by the commit or rollback, and kept by
a pooler in transaction mode too).  A retry with the same method, path and body
gets the stored response; with anything else, 422; while the first still runs
(the lock is held), 409.  A 5xx is rolled back and not stored: a retry runs
again.  Stored responses are kept for ``IDEMPOTENCY_TTL``.
"""

import hashlib
import json
import sys
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import IdempotencyKeyInUse, IdempotencyKeyMismatch
from .models import IdempotentResponse

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers a replay must carry as the first response did.
_KEPT_HEADERS = ("Location", "ETag")


class _Replay(Exception):
    def __init__(self, response: Response):
        self.response = response


@dataclass
class _Claim:
    user_id: int
    key: str
    fingerprint: str

    @property
    def _lock_name(self) -> str:
        return f"idempotency:{self.user_id}:{self.key}"

    def stored(self) -> IdempotentResponse | None:
        return IdempotentResponse.objects.filter(
            user_id=self.user_id,
            key=self.key,
            created_at__gte=timezone.now() - settings.IDEMPOTENCY_TTL,
        ).first()

    def lock(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [self._lock_name]
            )
            return cursor.fetchone()[0]

    def unlock(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [self._lock_name])

    def store(self, response: Response) -> None:
        body = (
            json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
        )
        IdempotentResponse.objects.update_or_create(
            user_id=self.user_id,
            key=self.key,
            defaults={
                "fingerprint": self.fingerprint,
                "status": response.status_code,
                "body": body,
                "headers": {h: response[h] for h in _KEPT_HEADERS if response.has_header(h)},
                "created_at": timezone.now(),
            },
        )


def _replay(claim: _Claim, stored: IdempotentResponse) -> _Replay:
    if stored.fingerprint != claim.fingerprint:
        raise IdempotencyKeyMismatch()
    headers = {**stored.headers, REPLAYED_HEADER: "true"}
    return _Replay(Response(stored.body, status=stored.status, headers=headers))


def _claim_of(request) -> _Claim | None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [_("Send at most 255 printable ASCII characters, such as a UUID.")]}
        )
    try:
        body = request.body
    except RawPostDataException:  # a form, already read: its fields stand for the body
        body = repr(sorted(request.POST.lists())).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(part)
        digest.update(b"\0")
    return _Claim(user_id=request.user.pk, key=key, fingerprint=digest.hexdigest())


class IdempotentMixin:
    """Replay, refuse or run a POST according to its ``Idempotency-Key`` (views' mixin)."""

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_claim = None
        self._idempotency_transaction = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Also when the view raised (a 500): DRF then skips finalize_response.
            if self._idempotency_transaction is not None:
                self._idempotency_transaction.__exit__(*sys.exc_info())

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        claim = _claim_of(request)
        if claim is None:
            return
        stored = claim.stored()
        if stored is not None:
            raise _replay(claim, stored)
        self._idempotency_transaction = transaction.atomic()
        self._idempotency_transaction.__enter__()
        if not claim.lock():
            raise IdempotencyKeyInUse()
        # The first request may have committed between the look-up and the lock.
        stored = claim.stored()
        if stored is not None:
            raise _replay(claim, stored)
        self._idempotency_claim = claim

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is not None:
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif not transaction.get_rollback():  # else a database error already undid the work
                claim.store(response)
        return response
