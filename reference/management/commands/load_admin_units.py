import time

from django.core.management.base import BaseCommand

from reference.editions import EDITIONS
from reference.models import Edition, UnitLevel
from reference.services import admin_units_load, province_successors_link


class Command(BaseCommand):
    help = (
        "Load Vietnam's administrative units (2024 edition: 63 provinces with districts; "
        "2025 edition: 34 provinces, no districts). Safe to run again: it writes only changes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--edition",
            choices=sorted(EDITIONS),
            action="append",
            help="Load only this edition (may be repeated). Default: all.",
        )

    def handle(self, *args, **options):
        for code in options["edition"] or sorted(EDITIONS):
            started = time.monotonic()
            report = admin_units_load(source=EDITIONS[code])
            if options["verbosity"] < 1:
                continue
            levels = ", ".join(
                f"{UnitLevel(level).name.lower()}s {count:,}"
                for level, count in sorted(report.per_level.items())
                if count
            )
            self.stdout.write(
                f"Edition {code} ({report.edition.source}): {levels}; "
                f"new {report.created:,}, changed {report.changed:,}, "
                f"unchanged {report.unchanged:,}, kept though not in source "
                f"{report.not_in_source:,} [{time.monotonic() - started:.1f} s]"
            )

        editions = list(Edition.objects.order_by("in_force"))
        for old, new in zip(editions, editions[1:], strict=False):
            linked = province_successors_link(old=old, new=new)
            if options["verbosity"] >= 1 and linked:
                self.stdout.write(
                    f"Provinces of {old.code} linked to those of {new.code}: {linked}"
                )
