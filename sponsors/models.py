from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as NumberError
from stdnum.vn import mst


def validate_tax_code(value: str) -> None:
    """Check a Vietnamese tax code: 10 digits, or 13 for a branch, with its check digit."""
    try:
        mst.validate(value)
    except NumberError:
        raise ValidationError(
            _("“%(value)s” is not a valid tax code (10 digits, or 13 for a branch)."),
            code="invalid_tax_code",
            params={"value": value},
        ) from None


class Sponsor(models.Model):
    """An organisation (or a person) that pays for cards and books."""

    class Kind(models.TextChoices):
        BANK = "bank", _("bank")
        INSURER = "insurer", _("insurer")
        STATE_ENTERPRISE = "state_enterprise", _("state enterprise")
        INDIVIDUAL = "individual", _("individual")
        OTHER = "other", _("other")

    name_vi = models.CharField(_("name in Vietnamese"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    short_name = models.CharField(_("short name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    tax_code = models.CharField(
        _("tax code"),
        max_length=14,
        blank=True,
        validators=[validate_tax_code],
        help_text=_("10 digits, or 13 for a branch (written with or without the dash)."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")
        ordering = ["short_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"], condition=~Q(tax_code=""), name="sponsor_tax_code_unique"
            ),
            models.CheckConstraint(
                name="sponsor_tax_code_digits",
                condition=Q(tax_code="") | Q(tax_code__regex=r"^([0-9]{10}|[0-9]{13})$"),
            ),
        ]

    def __str__(self) -> str:
        return self.short_name

    def clean(self) -> None:
        # Stored without the branch dash, so one company has one spelling.
        if self.tax_code:
            self.tax_code = mst.compact(self.tax_code)
