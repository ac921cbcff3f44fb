from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def vnd(amount: int) -> str:
    """Return ``amount`` as 1.263.600 ₫ in Vietnamese and 1,263,600 VND in English."""
    grouped = f"{int(amount):,}"
    if (get_language() or "").startswith("en"):
        return f"{grouped} VND"
    return f"{grouped.replace(',', '.')} ₫"
