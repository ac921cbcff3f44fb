"""What every view of the API shares: idempotent POSTs and refusal of unreadable input."""

from django.utils.translation import gettext as _
from rest_framework import exceptions

from .idempotency import IdempotentMixin


class ApiViewMixin(IdempotentMixin):
    """Put first in the bases of every API view and viewset."""

    def initial(self, request, *args, **kwargs):
        # PostgreSQL cannot hold NUL in text: refuse it before a filter sends it.
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.query_params.lists()
        ):
            raise exceptions.ValidationError(_("The address contains a NUL character."))
        super().initial(request, *args, **kwargs)
