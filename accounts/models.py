from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reference.models import AdminUnit, UnitLevel
from sponsors.models import Sponsor


class User(AbstractUser):
    """A person who signs in: staff of VSS, a province or a commune, or a sponsor.

    What they may do comes from their groups (roles, see accounts/roles.py);
    where, from their assignments to administrative units; a sponsor viewer
    sees only their own organisation.
    """

    sponsor = models.ForeignKey(
        Sponsor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="viewers",
        verbose_name=_("sponsor organisation"),
        help_text=_("For sponsor viewers: the organisation whose pledges they follow."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("view_all_areas", _("Can see and work on every province")),
        ]


class UnitAssignment(models.Model):
    """A province or commune (of today's edition) that a staff member works for."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("user")
    )
    unit = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province or commune"),
    )

    class Meta:
        verbose_name = _("assigned area")
        verbose_name_plural = _("assigned areas")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="assignment_once_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.unit}"

    def clean(self) -> None:
        # Areas are today's: older records reach them through province successors.
        if (
            self.unit_id
            and not AdminUnit.objects.filter(
                Q(level=UnitLevel.PROVINCE) | Q(level=UnitLevel.COMMUNE),
                pk=self.unit_id,
                edition__in_force__contains=timezone.localdate(),
            ).exists()
        ):
            raise ValidationError(
                {"unit": _("Choose a province or a commune of today's administrative units.")}
            )
