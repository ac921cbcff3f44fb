"""The errors the services raise that callers treat apart from plain bad input."""

from django.core.exceptions import ValidationError

from accounts.scope import OutOfScope


class QuotaExhausted(ValidationError):
    """A quota or a pledge has no place left: a conflict, not bad input."""

    # What the API answers (409 with this type), without importing this app.
    conflict_type = "quota_exhausted"


__all__ = ["OutOfScope", "QuotaExhausted"]
