"""One shape for every error the API returns, in the language of ``Accept-Language``.

``{"type": "quota_exhausted", "title": "...", "status": 409, "detail": "...",
"errors": {"field": ["message", ...]}}``: ``type`` is a stable code a program
can act on, ``title`` and ``detail`` are for people, ``errors`` lists what is
wrong with each field (bad input only).  The services' ValidationError is bad
input (400), their QuotaExhausted a conflict (409), OutOfScope a refusal (403);
a constraint that PostgreSQL enforces against a concurrent write, a conflict too.
While the database cannot be reached, every request is 503 ``database_unavailable``
(vss_program/outage.py).
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from accounts.scope import OutOfScope


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the record.")
    default_code = "conflict"


class QuotaConflict(Conflict):
    default_code = "quota_exhausted"


class IdempotencyKeyInUse(Conflict):
    default_detail = _(
        "A request with this Idempotency-Key is still being processed. Retry in a moment."
    )
    default_code = "idempotency_key_in_use"


class IdempotencyKeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was used for a different request. Use a new key for a new request."
    )
    default_code = "idempotency_key_mismatch"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The record has changed since you read it (If-Match). Read it again and resend."
    )
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _(
        "Send the ETag you read in an If-Match header, so that no one else's change is lost."
    )
    default_code = "precondition_required"


class OutOfArea(exceptions.PermissionDenied):
    """A record named in the request lies outside the caller's areas (``errors`` says which)."""

    default_code = "out_of_scope"

    def __init__(self, error: OutOfScope):
        super().__init__(" ".join(error.messages))
        self.field_errors = error.message_dict if hasattr(error, "error_dict") else {}


class InvalidValue(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("A value in the request is out of range or cannot be stored.")
    default_code = "invalid_value"


class DatabaseUnavailable(exceptions.APIException):
    """The database cannot be reached: answered by vss_program.outage, never raised by a view."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service cannot reach its database. Retry in a moment.")
    default_code = "database_unavailable"


# The type and title of each error, by the class DRF raised.
_KINDS = [
    (exceptions.ValidationError, "invalid", _("The request is not valid.")),
    (exceptions.ParseError, "malformed_request", _("The request body cannot be read.")),
    (exceptions.NotAuthenticated, "not_authenticated", _("Authentication is required.")),
    (exceptions.AuthenticationFailed, "authentication_failed", _("Authentication failed.")),
    (OutOfArea, "out_of_scope", _("Outside your areas.")),
    (exceptions.PermissionDenied, "permission_denied", _("Not allowed.")),
    (exceptions.NotFound, "not_found", _("Not found.")),
    (exceptions.MethodNotAllowed, "method_not_allowed", _("Method not allowed.")),
    (exceptions.NotAcceptable, "not_acceptable", _("Response format not available.")),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", _("Unsupported body format.")),
    (exceptions.Throttled, "throttled", _("Too many requests.")),
    (QuotaConflict, "quota_exhausted", _("Quota or pledge used up.")),
    (IdempotencyKeyInUse, "idempotency_key_in_use", _("Request still in progress.")),
    (Conflict, "conflict", _("Conflict.")),
    (IdempotencyKeyMismatch, "idempotency_key_mismatch", _("Idempotency-Key reused.")),
    (PreconditionFailed, "precondition_failed", _("The record has changed.")),
    (PreconditionRequired, "precondition_required", _("If-Match is required.")),
    (InvalidValue, "invalid_value", _("Value out of range.")),
    (DatabaseUnavailable, "database_unavailable", _("Service briefly unavailable.")),
]
PROBLEM_TYPES = [kind for _exception, kind, _title in _KINDS] + ["error"]


def _as_api_exception(exc: Exception) -> Exception:
    """Return the DRF exception standing for a Django or service exception."""
    if getattr(exc, "conflict_type", None) == QuotaConflict.default_code:  # QuotaExhausted
        return QuotaConflict(" ".join(exc.messages))
    if isinstance(exc, IntegrityError):
        return Conflict()
    if isinstance(exc, OutOfScope):
        return OutOfArea(exc)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DataError):
        return InvalidValue()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def problem(exc: exceptions.APIException, status_code: int) -> dict:
    """Return the body of the error response for ``exc``."""
    kind, title = "error", exc.default_detail
    for exception_class, code, kind_title in _KINDS:
        if isinstance(exc, exception_class):
            kind, title = code, kind_title
            break
    body = {"type": kind, "title": str(title), "status": status_code}
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) and not isinstance(detail, str):
        if isinstance(detail, list):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        general = detail.pop(api_settings.NON_FIELD_ERRORS_KEY, None) or detail.pop(
            NON_FIELD_ERRORS, None
        )
        body["detail"] = (
            " ".join(_messages(general))
            if general
            else str(_("Check the fields listed in errors."))
        )
        body["errors"] = detail
    else:
        body["detail"] = " ".join(_messages(detail))
    if getattr(exc, "field_errors", None):
        body["errors"] = exc.field_errors
    return body


def api_exception_handler(exc: Exception, context: dict):
    """Return the JSON error response for ``exc`` (DRF's handler, in our one shape)."""
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    response.data = problem(exc, response.status_code)
    return response
