import pghistory
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest

from .context import (
    REQUEST_ID_HEADER,
    AuditRequestMixin,
    note_user,
    request_id_of,
    request_metadata,
)


class _AuditWSGIRequest(AuditRequestMixin, WSGIRequest):
    pass


class _AuditASGIRequest(AuditRequestMixin, ASGIRequest):
    pass


class AuditContextMiddleware:
    """Attach who, from where and which request to every change made while serving a request.

    Goes after the authentication middleware, so the user is known.  The
    request id (the client's or proxy's X-Request-ID when well-formed, else a
    new UUID4) is also ``request.request_id`` and the response's X-Request-ID,
    so a user's report, the server log and the audit trail can be matched.  The
    request log middleware, first of all, gives the request that id
    (``audit.context.serving``); this one makes it only when that one is absent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = getattr(request, "request_id", None) or request_id_of(request)
        metadata = request_metadata(request)
        note_user(metadata["user"])
        with pghistory.context(**metadata) as context:
            request.audit_context_id = context.id
            # As pghistory's own middleware does: a later `request.user = ...`
            # (an API token checked in the view) updates the context.
            if isinstance(request, WSGIRequest):
                request.__class__ = _AuditWSGIRequest
            elif isinstance(request, ASGIRequest):
                request.__class__ = _AuditASGIRequest
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # An admin bulk action ("deliver", "cancel") is named in the form, not the URL.
        # The admin reads its forms anyway; other views' bodies (the API's
        # JSON, uploads) are left for the view to read.
        if (
            request.method == "POST"
            and request.resolver_match.app_name == "admin"
            and request.POST.get("action")
        ):
            pghistory.context(action=request.POST["action"])
        return None
