"""The recipient's admin form: identity numbers are typed in, never shown in full."""

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Beneficiary


def masked_with_reveal(masked: str, reveal_url: str, target: str) -> str:
    """Return the masked number, and the link that shows it in full when ``reveal_url``.

    The link works through static/js/reveal-personal-id.js (no inline script:
    the Content-Security-Policy forbids it); each reveal is recorded on the server.
    """
    if not masked:
        return ""
    if not reveal_url:
        return format_html('<span class="masked-number" id="{}">{}</span>', target, masked)
    return format_html(
        '<span class="masked-number" id="{}">{}</span> '
        '<a class="button" href="{}" data-reveal-target="{}" data-reveal-error="{}">{}</a>',
        target,
        masked,
        reveal_url,
        target,
        _("The number could not be shown."),
        _("Show the full number"),
    )


class MaskedNumberInput(forms.TextInput):
    """An empty input for a number on record, with the stored number masked beside it."""

    def __init__(self, *, masked: str = "", reveal_url: str = "", attrs=None):
        super().__init__({"autocomplete": "off", "inputmode": "numeric", **(attrs or {})})
        self.masked = masked
        self.reveal_url = reveal_url

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        target = f"{(attrs or {}).get('id') or name}_masked"
        extra = masked_with_reveal(self.masked, self.reveal_url, target)
        return format_html("{} {}", html, extra) if extra else html


class BeneficiaryForm(forms.ModelForm):
    """A recipient's form whose ID numbers are write-only.

    The stored number is never put in the page: the input starts empty, the
    masked number (********1234) stands beside it; left empty, the number on
    record is kept, typed, it replaces it (checked by the model as usual).
    The admin sets, for each request, which fields are masked and where the
    reveal links point.
    """

    masked_fields: tuple[str, ...] = ("personal_id",)
    reveal_urls: dict[str, str] = {}

    class Meta:
        model = Beneficiary
        fields = [
            "full_name",
            "birth_date",
            "birth_year",
            "sex",
            "ethnic_group",
            "category",
            "personal_id",
            "social_insurance_number",
            "phone",
            "commune",
            "address_line",
            "household_key",
            "consent_on",
            "consent_method",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.masked_fields:
            field = self.fields.get(name)
            if field is None:
                continue
            self.initial.pop(name, None)
            masked = getattr(self.instance, f"masked_{name}")
            field.widget = MaskedNumberInput(
                masked=masked,
                reveal_url=self.reveal_urls.get(name, ""),
                attrs=field.widget_attrs(forms.TextInput()),
            )
            if masked:
                field.help_text = _(
                    "Leave empty to keep the number on record; type a new number to replace it."
                )

    def _kept_unless_typed(self, name: str) -> str | None:
        typed = (self.cleaned_data.get(name) or "").strip()
        if name in self.masked_fields and not typed:
            return getattr(self.instance, name)
        return typed or None

    def clean_personal_id(self) -> str | None:
        return self._kept_unless_typed("personal_id")

    def clean_social_insurance_number(self) -> str | None:
        return self._kept_unless_typed("social_insurance_number")
