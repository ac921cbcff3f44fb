import secrets

from django.db import transaction

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
