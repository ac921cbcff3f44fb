"""ETag and If-Match: a partner never overwrites a change it has not seen.

A record's ETag changes whenever it is saved (it is made of its id and
``updated_at``).  GET returns it (and 304 to a matching If-None-Match);
PUT and PATCH must send it back in If-Match: 428 without it, 412 when the
record has changed since.  The comparison is made on the row locked for the
update, so two writers holding the same ETag cannot both succeed.
"""

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from .errors import PreconditionFailed, PreconditionRequired


def etag_of(instance) -> str:
    """Return the strong ETag of ``instance`` (a model with ``updated_at``)."""
    return f'"{instance.pk}-{int(instance.updated_at.timestamp() * 1_000_000):x}"'


def created_response(request, instance, data) -> Response:
    """Return the 201 of a create: the new record, where it lives and its ETag."""
    headers = {"Location": request.build_absolute_uri(f"{instance.pk}/"), "ETag": etag_of(instance)}
    return Response(data, status=status.HTTP_201_CREATED, headers=headers)


def _tags(header: str) -> set[str]:
    # Weak and strong forms name the same version here.
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def if_match_check(request, instance, *, required: bool) -> None:
    """Raise 428/412 unless the request's If-Match names ``instance`` as it is now.

    Call it with the row locked (``select_for_update``) in the writing transaction.
    """
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired()
        return
    tags = _tags(header)
    if "*" not in tags and etag_of(instance) not in tags:
        raise PreconditionFailed()


class ConditionalRetrieveMixin:
    """ETag on GET of one record, and 304 to a matching If-None-Match (viewsets)."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        etag = etag_of(instance)
        if etag in _tags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(self.get_serializer(instance).data, headers={"ETag": etag})


class ConditionalMixin(ConditionalRetrieveMixin):
    """ETag on GET and on write responses; If-Match required by PUT and PATCH (viewsets)."""

    def locked_object(self):
        """Return the view's object, its row locked until the transaction ends."""
        instance = self.get_object()
        return type(instance).objects.select_for_update().get(pk=instance.pk)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.locked_object()
            if_match_check(request, instance, required=True)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
        return Response(serializer.data, headers={"ETag": etag_of(serializer.instance)})
