from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: staff of VSS, a province or a commune, or a sponsor.

    Our own model from the first migration, so that roles and area assignments
    can be added later without swapping the user model.
    """

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
