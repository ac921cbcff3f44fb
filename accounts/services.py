import secrets

from django.db import transaction
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User


@transaction.atomic
def first_admin_ensure(*, username: str, password: str | None) -> tuple[User, str | None]:
    """Return the first superuser, creating it when the database has none.

    The second item is the password that was set, to show once; it is None when
    a superuser already existed (its password is never changed here).  Without
    ``password`` a random one is made: there is no default password.
    """
    existing = User.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return existing, None
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=username, email="", password=password)
    return user, password


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """Return the user's unconfirmed authenticator device, creating it on first use.

    The same device (so the same QR code) comes back until it is confirmed: a
    reload of the enrolment page does not spoil a code that was already scanned.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=gettext("Authenticator app"), confirmed=False
        )
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> TOTPDevice | None:
    """Confirm the device when ``token`` is the code it shows now; return it, or None.

    A wrong code counts against the device's throttle (each failure doubles the
    wait before the next code is checked), as at sign-in.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device
