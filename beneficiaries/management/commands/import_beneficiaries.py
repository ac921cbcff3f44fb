"""Import recipients from a spreadsheet, with the same checks and writing as the admin."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from beneficiaries.imports.services import (
    import_commit,
    import_confirm,
    import_job_create,
    import_rejected_rows,
    import_validate,
    row_error_text,
)
from beneficiaries.imports.workbooks import rejects_workbook
from beneficiaries.models import ImportJob, ImportRow
from reference.models import AdminUnit, UnitLevel

# Exit codes, for scripts.
REJECTED = 1
UNREADABLE = 2
MAX_ROWS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import recipients from an XLSX, XLS or CSV file in the template's columns. Prints the "
        "check's totals; exits with 1 when rows were rejected in all-or-nothing mode (nothing "
        "is written then) and 2 when the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--province", help="code of today's province every row must belong to (e.g. 15)"
        )
        parser.add_argument(
            "--edition",
            choices=ImportJob.Edition.values,
            default=ImportJob.Edition.CURRENT,
            help="list of units the communes are named in (default 2025)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="write the valid rows and set the rejected ones aside (default: all or nothing)",
        )
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="update people already recorded (default: leave their record as it is)",
        )
        parser.add_argument(
            "--import-duplicates",
            action="store_true",
            help="record possible duplicates as new people (default: leave them out)",
        )
        parser.add_argument(
            "--rejects", type=Path, help="write the rows left out to this XLSX, with their errors"
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}", returncode=UNREADABLE) from None
        try:
            job = import_job_create(
                actor=None,
                file_name=path.name,
                content=content,
                province=self._province(options["province"]),
                edition=options["edition"],
                mode=ImportJob.Mode.VALID_ROWS
                if options["valid_only"]
                else ImportJob.Mode.ALL_OR_NOTHING,
                existing=ImportJob.Existing.UPDATE
                if options["update_existing"]
                else ImportJob.Existing.SKIP,
                duplicates=ImportJob.Duplicates.IMPORT
                if options["import_duplicates"]
                else ImportJob.Duplicates.LEAVE_OUT,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=UNREADABLE) from None

        with tqdm(
            total=job.progress_total,
            unit=" rows",
            desc="Checking",
            disable=options["verbosity"] < 1,
            file=self.stderr._out,
        ) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            job = import_validate(job=job, progress=progress)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.error, returncode=UNREADABLE)
        self._print_totals(job)
        if options["rejects"]:
            options["rejects"].write_bytes(rejects_workbook(import_rejected_rows(job)))
            self.stdout.write(f"Rows left out written to {options['rejects']}")
        if not job.can_commit:
            self.stderr.write(
                f"{job.rejected_count} rows rejected: nothing written (all or nothing). "
                "Correct them, or use --valid-only."
            )
            raise SystemExit(REJECTED)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing written.")
            return
        try:
            job = import_confirm(job=job, actor=None, duplicates=job.duplicates)
            job = import_commit(job=job)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Written: {job.new_count + self._duplicates_written(job)} new, "
                f"{job.updated_count} updated (import #{job.pk})."
            )
        )

    def _province(self, code: str | None) -> AdminUnit | None:
        if not code:
            return None
        try:
            return AdminUnit.objects.in_force_on(timezone.localdate()).get(
                level=UnitLevel.PROVINCE, code=code.strip().zfill(2)
            )
        except AdminUnit.DoesNotExist:
            raise CommandError(
                f"No province of today's list has the code {code}.", returncode=UNREADABLE
            ) from None

    def _duplicates_written(self, job: ImportJob) -> int:
        return job.duplicate_count if job.duplicates == ImportJob.Duplicates.IMPORT else 0

    def _print_totals(self, job: ImportJob) -> None:
        totals = [
            ("rows", job.row_count),
            ("new", job.new_count),
            ("to update", job.updated_count),
            ("unchanged", job.unchanged_count),
            ("already recorded, left as they are", job.skipped_count),
            ("possible duplicates", job.duplicate_count),
            ("rejected", job.rejected_count),
        ]
        for label, count in totals:
            self.stdout.write(f"{label:>36}: {count}")
        left_out = job.rows.filter(
            outcome__in=[ImportRow.Outcome.REJECTED, ImportRow.Outcome.DUPLICATE]
        )
        shown = left_out.order_by("row_number").values("row_number", "outcome", "errors", "similar")
        for row in shown[:MAX_ROWS_SHOWN]:
            self.stdout.write(f"Row {row['row_number']}: {row_error_text(row)}")
        if job.rejected_count + job.duplicate_count > MAX_ROWS_SHOWN:
            self.stdout.write("... see all of them with --rejects FILE.xlsx")
