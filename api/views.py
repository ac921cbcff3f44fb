"""What every view of the API shares: idempotent POSTs and refusal of unreadable input."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions

from .errors import problem
from .idempotency import IdempotentMixin


def not_found(request, exception):
    """Django's 404 (``handler404``), in the API's JSON shape for an address under /api/.

    An id the router's pattern refuses (``/api/v1/plans/0.5/``) never reaches a view.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(problem(exceptions.NotFound(), 404), status=404)
    return defaults.page_not_found(request, exception)


class ApiViewMixin(IdempotentMixin):
    """Put first in the bases of every API view and viewset."""

    def initial(self, request, *args, **kwargs):
        # PostgreSQL cannot hold NUL in text: refuse it before a filter sends it.
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.query_params.lists()
        ):
            raise exceptions.ValidationError(_("The URL contains a NUL character."))
        super().initial(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        # A record is found by its id: the list's filters would cost a FilterSet and a form.
        if getattr(self, "detail", False):
            return queryset
        return super().filter_queryset(queryset)
