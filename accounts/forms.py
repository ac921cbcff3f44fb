from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    """The code an authenticator app shows, typed to confirm a new device."""

    token = forms.CharField(
        label=_("Authentication code"),
        max_length=8,
        validators=[RegexValidator(r"^\d{6,8}$", _("Type the 6 digits your app shows."))],
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
