"""Fill in admin change forms the way a browser would submit them."""

from django import forms
from django.db.models import Model


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (list, tuple)):
        return [item.pk if isinstance(item, Model) else item for item in value]
    return value


def _form_data(form) -> dict:
    data = {}
    for bound_field in form:
        if bound_field.field.disabled or isinstance(bound_field.field, forms.FileField):
            continue  # files are not re-sent when a form is saved again
        value = _value(bound_field)
        if value is False:
            continue  # an unticked checkbox sends nothing
        data[bound_field.html_name] = "on" if value is True else value
    return data


def change_form_data(response) -> dict:
    """Return the POST data of an admin add/change page as it stands, inlines included."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= _form_data(formset.management_form)
        for form in formset.forms:
            data |= _form_data(form)
    return data


def add_inline_row(data: dict, prefix: str, **fields) -> dict:
    """Append a new row to the inline formset ``prefix`` in ``data``."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = value.pk if isinstance(value, Model) else value
    return data
