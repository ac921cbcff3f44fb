from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..selectors import LABELS, event_changes, event_who, object_events

register = template.Library()

HISTORY_LIMIT = 200


@register.inclusion_tag("audit/object_history.html", takes_context=True)
def audit_history(context, obj):
    """Render a record's audit trail for its admin "History" page (one query).

    Who, when and what changed for anyone who may see the page; the address
    and request id only for those who may search the audit trail.
    """
    events = object_events(obj)
    if events is None:
        return {"events": None}
    viewer = context["request"].user
    latest = list(events[: HISTORY_LIMIT + 1])
    may_search = viewer.has_perm("audit.view_auditevent")
    return {
        "events": [
            {
                "event": event,
                "action": LABELS.get(event.pgh_label, event.pgh_label),
                "who": event_who(event),
                "changes": event_changes(event, viewer=viewer),
            }
            for event in latest[:HISTORY_LIMIT]
        ],
        "more": len(latest) > HISTORY_LIMIT,
        "limit": HISTORY_LIMIT,
        "show_origin": may_search,
        "audit_url": (
            reverse("admin:audit_auditevent_changelist")
            + "?"
            + urlencode({"model": obj._meta.label, "q": obj.pk})
            if may_search
            else ""
        ),
    }
