from django.core.management.base import BaseCommand, CommandError

from distributions.demo import PLAN_NUMBER, ReferenceDataMissing, demo_load
from reference.selectors import RateMissing


class Command(BaseCommand):
    help = (
        f"Load demo data: plan {PLAN_NUMBER}, its seven sponsors and the Lào Cai City hand-over "
        "of 16/01/2024 (600 cards, 50 books), plus a made-up Hà Giang counterpart. "
        "Safe to run again: it creates only what is missing."
    )

    def handle(self, *args, **options):
        try:
            report = demo_load()
        except (ReferenceDataMissing, RateMissing) as error:
            raise CommandError(f"{error} Run load_reference_data first.") from error
        if options["verbosity"] < 1:
            return
        if not report.total:
            self.stdout.write("Demo data already loaded: nothing created.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data for plan {PLAN_NUMBER} created: plans {report.plans}, "
                f"sponsors {report.sponsors}, quotas {report.quotas}, pledges {report.pledges}, "
                f"hand-overs {report.handovers}, recipients {report.recipients:,}, "
                f"cards {report.cards:,}, books {report.books:,}, "
                f"deliveries {report.deliveries:,}."
            )
        )
