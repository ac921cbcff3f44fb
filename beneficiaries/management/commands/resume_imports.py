"""Queue again the confirmed imports that a killed worker left unwritten."""

from django.core.management.base import BaseCommand, CommandError

from beneficiaries.models import ImportJob
from beneficiaries.tasks import BEING_WRITTEN, QUEUED, import_write_resume


class Command(BaseCommand):
    help = (
        "Queue again the writing of confirmed imports that no worker is writing (their worker "
        "was killed, or its machine stopped): the next db_worker writes each of them once. "
        "Imports waiting in the queue or being written are left alone, so this is safe to "
        "run at any time, e.g. each time a worker starts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "jobs",
            nargs="*",
            type=int,
            metavar="IMPORT",
            help="numbers of the imports (default: every import confirmed and not written)",
        )

    def handle(self, *args, jobs, **options):
        if jobs:
            chosen = ImportJob.objects.filter(pk__in=jobs)
        else:
            chosen = ImportJob.objects.filter(status__in=ImportJob.TO_WRITE)
        queued = 0
        for job in chosen.defer("file_content").order_by("pk"):
            outcome = import_write_resume(job)
            if outcome == QUEUED:
                queued += 1
                self.stdout.write(f"Import {job.pk} ({job.file_name}): queued again.")
            elif outcome == BEING_WRITTEN:
                # A killed worker's last statement may still run in PostgreSQL for a moment.
                self.stdout.write(
                    f"Import {job.pk} ({job.file_name}): being written now; "
                    "if its worker died, run this again in a minute."
                )
            else:
                self.stdout.write(f"Import {job.pk} ({job.file_name}): left alone ({outcome}).")
        self.stdout.write(f"{queued} import(s) queued again.")
        missing = sorted(set(jobs) - set(chosen.values_list("pk", flat=True)))
        if missing:
            raise CommandError(f"No such import: {', '.join(map(str, missing))}.")
