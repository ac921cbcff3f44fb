"""The errors the services raise that callers treat apart from plain bad input."""

from django.core.exceptions import ValidationError


class QuotaExhausted(ValidationError):
    """A quota or a pledge has no place left: a conflict, not bad input."""


class OutOfScope(ValidationError):
    """The record lies outside the areas the actor works for."""
