import os

from django.core.management.base import BaseCommand

from accounts.services import first_admin_ensure


class Command(BaseCommand):
    help = (
        "Create the first administrator login if there is none, and print its password once. "
        "DJANGO_SUPERUSER_USERNAME (default admin) and DJANGO_SUPERUSER_PASSWORD override."
    )

    def handle(self, *args, **options):
        user, password = first_admin_ensure(
            username=os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin",
            password=os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None,
        )
        if password is None:
            self.stdout.write(f"Administrator login exists: {user.username}")
            return
        self.stdout.write(self.style.SUCCESS("Created the first administrator login:"))
        self.stdout.write(f"  user name: {user.username}")
        self.stdout.write(f"  password:  {password}")
        self.stdout.write("This password is shown once. Change it after signing in.")
