from django import template

from ..tables import formatted

register = template.Library()


@register.filter
def share(value: float | None) -> str:
    """Return a share (0..1) as a percentage in the active language's way: 92,5 % or 92.5 %."""
    return formatted(value, "share")
