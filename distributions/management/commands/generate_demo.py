import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from psycopg2 import errors
from tqdm import tqdm

from beneficiaries.demo import MAX_RECIPIENTS, generated_recipients_count
from distributions.demo.bulk import (
    MAX_PLANS,
    demo_generate,
    generated_delete,
    generated_plans,
    yearly_plans,
)
from reference import bulk
from reference.selectors import RateMissing, UnitNotFound


class _Bars(bulk.Phases):
    """A progress bar per phase, then its seconds."""

    def __init__(self, command: BaseCommand, show: bool):
        super().__init__()
        self.command = command
        self.show = show
        self.bar = None

    def started(self, name, total):
        if self.show:
            self.bar = tqdm(
                total=total, desc=name, unit=" rows" if (total or 0) > 100 else "", leave=False
            )

    def advanced(self, done):
        if self.bar is not None:
            self.bar.update(done)

    def finished(self, name, seconds):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.show:
            self.command.stdout.write(f"  {name}: {seconds:.1f} s")


class Command(BaseCommand):
    help = (
        "Generate demo data at scale: N made-up recipients (Faker's vi_VN names, every "
        "province's communes of today, valid ID numbers), yearly plans with quotas, the seven "
        "demo sponsors' pledges, hand-overs and cards and books in every status, written in SQL "
        "with the triggers off, then counted and checked. Refuses to run when generated data "
        "is there already, unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--beneficiaries",
            type=int,
            required=True,
            metavar="N",
            help=f"recipients to generate (1 to {MAX_RECIPIENTS:,})",
        )
        parser.add_argument(
            "--plans",
            type=int,
            default=2,
            help=f"yearly plans, the last one under way (1 to {MAX_PLANS}; default 2)",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="another seed gives other people (default 0)"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the data generated before (plans DEMO-..., their records and people)",
        )

    def handle(self, *args, **options):
        count, plans = options["beneficiaries"], options["plans"]
        if not 1 <= count <= MAX_RECIPIENTS:
            raise CommandError(f"--beneficiaries must be between 1 and {MAX_RECIPIENTS:,}.")
        if not 1 <= plans <= MAX_PLANS:
            raise CommandError(f"--plans must be between 1 and {MAX_PLANS}.")
        if not 0 <= options["seed"] < 2**40:
            raise CommandError("--seed must be between 0 and 2**40.")
        try:
            self.generate(
                count,
                plans,
                seed=options["seed"],
                replace=options["replace"],
                show=options["verbosity"] >= 1,
            )
        except (RateMissing, UnitNotFound) as error:
            raise CommandError(f"{error} Run load_reference_data first.") from error
        except errors.InsufficientPrivilege as error:
            raise CommandError(
                f"{error.pgerror.strip()}: the bulk load turns triggers off for its sessions "
                "(session_replication_role), which takes a superuser."
            ) from error

    def generate(self, count: int, plans: int, *, seed: int, replace: bool, show: bool) -> None:
        start = time.perf_counter()
        existing, people = generated_plans(), generated_recipients_count()
        if existing or people:
            found = f"plans {', '.join(existing) or 'none'}, {people:,} generated recipients"
            if not replace:
                raise CommandError(
                    f"Generated data is already there ({found}): run with --replace to delete "
                    "it and generate again."
                )
            step = time.perf_counter()
            deleted_plans, items, deleted_people = generated_delete()
            if show:
                self.stdout.write(
                    f"Deleted {deleted_plans} plans, {items:,} cards and books and "
                    f"{deleted_people:,} recipients generated before "
                    f"({time.perf_counter() - step:.1f} s)."
                )

        today = timezone.localdate()
        specs = yearly_plans(plans, today=today, recipients_count=count)
        if show:
            self.stdout.write(
                f"Generating {count:,} recipients and their cards and books under "
                f"{', '.join(spec.number for spec in specs)}..."
            )
        generated = demo_generate(
            recipients_count=count,
            plans=specs,
            today=today,
            seed=seed,
            phases=_Bars(self, show),
        )
        if generated.broken:
            raise CommandError(
                "The generated data breaks rules: " + "; ".join(generated.broken) + "."
            )
        if show:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Generated {count:,} recipients (ids {generated.recipients.first_id:,} to "
                    f"{generated.recipients.last_id:,}), {len(specs)} "
                    f"plan{'s' * (len(specs) > 1)}, "
                    f"{generated.items:,} cards and books, {generated.tally_rows:,} tally rows; "
                    f"every rule checked holds. {time.perf_counter() - start:.1f} s in all."
                )
            )
