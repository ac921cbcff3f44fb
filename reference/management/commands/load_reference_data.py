from django.core.management import call_command
from django.core.management.base import BaseCommand

from reference.services import rates_load_defaults


class Command(BaseCommand):
    help = "Load all reference data: administrative units and the default dated rates."

    def handle(self, *args, **options):
        call_command("load_admin_units", verbosity=options["verbosity"])
        added = rates_load_defaults()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Rates: {added} default figure(s) added.")
