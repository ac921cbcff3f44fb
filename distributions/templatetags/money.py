from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def grouped(number: int) -> str:
    """Return a whole number grouped the active language's way: 1.263.600 or 1,263,600."""
    return number_format(int(number), force_grouping=True)


@register.filter
def vnd(amount: int) -> str:
    """Return ``amount`` as 1.263.600 ₫ in Vietnamese and 1,263,600 VND in English."""
    if (get_language() or "").startswith("en"):
        return f"{grouped(amount)} VND"
    return f"{grouped(amount)} ₫"
