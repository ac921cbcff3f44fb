"""Importing recipients from a spreadsheet: create a job, check it (the preview), write it.

The preview reads and checks every row, finds the people already recorded and
the possible duplicates, and stores each row's outcome and values.  The
commit writes exactly those rows, in one transaction, with two statements
(an INSERT and an UPDATE from the stored rows): nothing is checked a second
time and nothing is half-written if the process dies.  The database still
holds the last word: its unique and check constraints refuse what changed
since the preview.
"""

import datetime
import gc
import io
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import OutOfScope, Scope, scope_of
from audit.context import user_metadata
from reference.models import AdminUnit, Edition

from ..models import STAGED_FIELDS, Beneficiary, ImportJob, ImportRow
from ..selectors import births_compatible
from .communes import CommuneResolver
from .reader import FileError, read_table, require_spreadsheet
from .rows import OPTIONAL_FIELDS, RowChecker, column_label

Outcome = ImportRow.Outcome
Status = ImportJob.Status
# Rows per database round trip: the preview's queries grow with the file by
# batches, never by rows.
BATCH_SIZE = 5000

Progress = Callable[[int, int], None]


def import_job_create(
    *,
    actor: User | None,
    file_name: str,
    content: bytes,
    province: AdminUnit | None,
    edition: str = ImportJob.Edition.CURRENT,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    existing: str = ImportJob.Existing.SKIP,
    duplicates: str = ImportJob.Duplicates.LEAVE_OUT,
) -> ImportJob:
    """Record an uploaded file for checking; raise ValidationError when it cannot be one.

    A user who does not work for the whole country names the province the
    list belongs to, one of theirs.  The file is read by the check, once.
    """
    _require_province(actor, province)
    require_spreadsheet(content, file_name)
    return ImportJob.objects.create(
        file_name=file_name,
        file_content=content,
        province=province,
        edition=edition,
        mode=mode,
        existing=existing,
        duplicates=duplicates,
        language=translation.get_language() or "vi",
        created_by=actor,
    )


def _require_province(actor: User | None, province: AdminUnit | None) -> None:
    """Refuse a province the actor does not work in; only national staff may leave it open.

    Commune staff work in a province too: their rows are then limited to their
    communes, row by row.
    """
    if actor is None:
        return
    scope = scope_of(actor)
    if scope.everything:
        return
    if province is None:
        raise OutOfScope({"province": _("Choose the province the list belongs to.")})
    if province.pk not in scope.context_provinces:
        raise OutOfScope({"province": _("This lies outside the areas you work for.")})


def _job_update(job: ImportJob, **fields) -> None:
    """Save some fields of a job at once, outside any transaction: progress must be seen."""
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _edition(code: str) -> Edition:
    return Edition.objects.get(code=code)


def import_validate(*, job: ImportJob, progress: Progress | None = None) -> ImportJob:
    """Check every row of the job's file and store what the commit would do (writes no recipient).

    Runs again from the start when a worker died half-way.  ``progress`` is
    called with (rows done, rows in all) as the rows are checked.
    """
    job.refresh_from_db()
    if job.status not in {Status.QUEUED, Status.VALIDATING, Status.VALIDATED, Status.FAILED}:
        raise ValidationError(_("This import has already been confirmed."))
    with translation.override(job.language), _collector_paused():
        try:
            _validate(job, progress)
        except FileError as error:
            ImportRow.objects.filter(job=job).delete()
            _job_update(job, status=Status.FAILED, error=" ".join(error.messages))
    return job


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector: the check makes millions of small objects and no
    cycles, which it would otherwise scan again and again (2 s of a 15-s preview)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(job: ImportJob, progress: Progress | None) -> None:
    _job_update(job, status=Status.VALIDATING, error="", progress_done=0)
    ImportRow.objects.filter(job=job).delete()
    table = read_table(bytes(job.file_content), job.file_name)
    _job_update(
        job,
        header_row=table.header_row,
        ignored_headers=table.ignored_headers,
        progress_total=table.height,
    )
    checker = _row_checker(job, table.columns)
    staged: list[_Row] = []
    for number, cells in table.rows:
        values, errors = checker.check(cells)
        staged.append(_Row(number, cells, values, errors))
        if len(staged) % BATCH_SIZE == 0:
            _job_update(job, progress_done=len(staged))
            if progress:
                progress(len(staged), table.height)
    _job_update(job, progress_done=len(staged), progress_total=len(staged))
    if progress:
        progress(len(staged), len(staged))

    scope = scope_of(job.created_by) if job.created_by else Scope(everything=True)
    _match_recorded(staged, job, scope)
    _match_possible_duplicates(staged)
    _stage(job, staged, checker)
    counts = {outcome: 0 for outcome in Outcome.values}
    for row in staged:
        counts[row.outcome] += 1
    _job_update(
        job,
        status=Status.VALIDATED,
        validated_at=timezone.now(),
        row_count=len(staged),
        new_count=counts[Outcome.NEW],
        updated_count=counts[Outcome.UPDATE],
        unchanged_count=counts[Outcome.UNCHANGED],
        skipped_count=counts[Outcome.SKIP],
        rejected_count=counts[Outcome.REJECTED],
        duplicate_count=counts[Outcome.DUPLICATE],
    )


def _row_checker(job: ImportJob, columns: dict[str, int]) -> RowChecker:
    current = _edition(ImportJob.Edition.CURRENT)
    edition = _edition(job.edition)
    # The province chosen is today's; a list of 2024 names the provinces of then.
    return RowChecker(
        columns=columns,
        resolver=CommuneResolver(edition, province=job.province if edition == current else None),
        current_resolver=None if edition == current else CommuneResolver(current),
        province=job.province,
        scope=scope_of(job.created_by) if job.created_by else Scope(everything=True),
        today=timezone.localdate(),
    )


class _Row:
    """A row being checked: kept small, since a file may have 100,000 of them."""

    __slots__ = (
        "number",
        "cells",
        "values",
        "errors",
        "outcome",
        "beneficiary",
        "stamp",
        "similar",
    )

    def __init__(self, number: int, cells: list, values: dict | None, errors: list):
        self.number = number
        self.cells = cells
        self.values = values
        self.errors = errors
        self.outcome = Outcome.NEW if values is not None else Outcome.REJECTED
        self.beneficiary: int | None = None
        self.stamp: datetime.datetime | None = None
        self.similar: list[dict] = []

    def reject(self, column: str, message: str) -> None:
        self.errors.append((column, message))
        self.outcome = Outcome.REJECTED
        self.values = None


class _Record(dict):
    """A recorded recipient's columns that rows are compared with, and its id and last change."""

    __slots__ = ("id", "stamp")


def _merged(record: dict, values: dict) -> dict:
    """Return the stored record with the row's values over it; empty cells keep what is stored."""
    merged = {**values}
    for name in OPTIONAL_FIELDS:
        if not merged[name]:
            merged[name] = record[name]
    # A year alone says less than the date on record for the same year.
    if merged["birth_date"] is None and merged["birth_year"] == record["birth_year"]:
        merged["birth_date"] = record["birth_date"]
    return merged


def _batches(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _match_recorded(staged: list[_Row], job: ImportJob, scope: Scope) -> None:
    """Find each person already recorded (same personal ID or social-insurance number).

    A person repeated in the file is imported once: the later rows are
    rejected, naming the first.
    """
    first_by_id: dict[tuple[str, str], int] = {}
    candidates = []
    for row in staged:
        if row.values is None:
            continue
        for field in ("personal_id", "social_insurance_number"):
            number = row.values[field]
            if number is None:
                continue
            first = first_by_id.setdefault((field, number), row.number)
            if first != row.number:
                row.reject(
                    field,
                    _("the same number as row %(row)d: a person is listed once.") % {"row": first},
                )
                break
        else:
            if row.values["personal_id"] or row.values["social_insurance_number"]:
                candidates.append(row)

    visible = scope.filter(Beneficiary.objects.all())
    for batch in _batches(candidates):
        personal_ids = [r.values["personal_id"] for r in batch if r.values["personal_id"]]
        si_numbers = [
            r.values["social_insurance_number"]
            for r in batch
            if r.values["social_insurance_number"]
        ]
        records = _records(
            "personal_id = ANY(%s) OR social_insurance_number = ANY(%s)",
            [personal_ids, si_numbers],
        )
        by_number = {}
        for record in records:
            for field in ("personal_id", "social_insurance_number"):
                if record[field]:
                    by_number[(field, record[field])] = record
        ids = [record.id for record in records]
        in_scope = (
            set(ids)
            if scope.everything
            else set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        )
        for row in batch:
            _match_row(row, by_number, in_scope, job)


def _match_row(row: _Row, by_number: dict, in_scope: set[int], job: ImportJob) -> None:
    values = row.values
    matches = {
        field: by_number.get((field, values[field]))
        for field in ("personal_id", "social_insurance_number")
        if values[field]
    }
    found = [record for record in matches.values() if record is not None]
    if not found:
        return
    record = found[0]
    if any(other.id != record.id for other in found):
        row.reject(
            "social_insurance_number",
            _("this number belongs to another recorded person than the personal ID does."),
        )
        return
    for field in ("personal_id", "social_insurance_number"):
        if values[field] and record[field] and values[field] != record[field]:
            row.reject(
                field,
                _("the recorded person with the same %(other)s has another number here.")
                % {
                    "other": column_label(
                        "social_insurance_number" if field == "personal_id" else "personal_id"
                    )
                },
            )
            return
    if record.id not in in_scope:
        row.reject(
            "personal_id" if "personal_id" in matches else "social_insurance_number",
            _("this person is already recorded outside the areas you work for."),
        )
        return
    merged = _merged(record, values)
    row.beneficiary = record.id
    row.stamp = record.stamp
    if merged == record:
        row.outcome = Outcome.UNCHANGED
    elif job.existing == ImportJob.Existing.UPDATE:
        row.outcome = Outcome.UPDATE
        row.values = merged
    else:
        row.outcome = Outcome.SKIP


def _numbers_differ(a: dict, b: dict) -> bool:
    """Return whether two people carry different ID numbers: then they are two people."""
    return any(
        a[field] and b[field] and a[field] != b[field]
        for field in ("personal_id", "social_insurance_number")
    )


def _similar(a: dict, b: dict) -> bool:
    return births_compatible(a["birth_date"], b["birth_date"]) and not _numbers_differ(a, b)


def _match_possible_duplicates(staged: list[_Row]) -> None:
    """Mark new rows that look like a recorded person, or an earlier row, without ID proof.

    Same folded name, year (and date when both have one) of birth and commune,
    the rule of ``beneficiary_possible_duplicates``.  A row equal in every
    column to the one recorded person it resembles is that person: unchanged,
    so that importing a list twice changes nothing.
    """
    new_rows = [row for row in staged if row.outcome == Outcome.NEW]
    for batch in _batches(new_rows):
        keys = {
            (r.values["search_name"], r.values["birth_year"], r.values["commune_id"]) for r in batch
        }
        names, years, communes = zip(*keys, strict=True) if keys else ((), (), ())
        records = _records(
            """(search_name, birth_year, commune_id) IN (
                   SELECT * FROM unnest(%s::varchar[], %s::int[], %s::bigint[]))
               AND anonymised_at IS NULL""",
            [list(names), list(years), list(communes)],
        )
        by_key: dict[tuple, list[_Record]] = {}
        for record in records:
            key = (record["search_name"], record["birth_year"], record["commune_id"])
            by_key.setdefault(key, []).append(record)
        for row in batch:
            key = (row.values["search_name"], row.values["birth_year"], row.values["commune_id"])
            similar = [r for r in by_key.get(key, ()) if _similar(r, row.values)]
            if not similar:
                continue
            if len(similar) == 1 and _merged(similar[0], row.values) == similar[0]:
                row.outcome = Outcome.UNCHANGED
                row.beneficiary = similar[0].id
            else:
                row.outcome = Outcome.DUPLICATE
                row.similar = [{"pk": record.id} for record in similar]

    earlier: dict[tuple, list[_Row]] = {}
    for row in new_rows:
        if row.outcome != Outcome.NEW:
            continue
        key = (row.values["search_name"], row.values["birth_year"], row.values["commune_id"])
        similar = [other for other in earlier.get(key, ()) if _similar(other.values, row.values)]
        if similar:
            row.outcome = Outcome.DUPLICATE
            row.similar = [{"row": other.number} for other in similar]
        else:
            earlier.setdefault(key, []).append(row)


def _records(condition: str, params: list) -> list[_Record]:
    """Return the recipients meeting an SQL condition, with the columns rows are compared on.

    Plain SQL with arrays (``= ANY(%s)``): with 5,000 numbers a batch, the
    ORM's ``__in`` costs more in Python than the query does in PostgreSQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, updated_at, {', '.join(STAGED_FIELDS)} "
            f"FROM {Beneficiary._meta.db_table} WHERE {condition}",
            params,
        )
        records = []
        for pk, stamp, *values in cursor.fetchall():
            record = _Record(zip(STAGED_FIELDS, values, strict=True))
            record.id, record.stamp = pk, stamp
            records.append(record)
        return records


# COPY's text format: backslashes, tabs and line breaks in a value are escaped; NULL is \\N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _copy_line(values: list) -> str:
    texts = [_NULL if value is None else str(value) for value in values]
    line = "\t".join(texts)
    # Most lines need no escaping: checked once per line, not once per value
    # (each NULL brings one backslash).
    if (
        line.count("\\") != values.count(None)
        or line.count("\t") != len(texts) - 1
        or "\n" in line
        or "\r" in line
    ):
        line = "\t".join(
            text if value is None else text.translate(_COPY_ESCAPES)
            for text, value in zip(texts, values, strict=True)
        )
    return line + "\n"


# Rows whose values the commit writes or the preview page shows.
_ROWS_WITH_VALUES = {Outcome.NEW, Outcome.UPDATE, Outcome.DUPLICATE}


def _stage(job: ImportJob, staged: list[_Row], checker: RowChecker) -> None:
    """Store the checked rows with COPY, the fastest way into PostgreSQL.

    A thread sends each batch while the next one is written out: PostgreSQL
    parses a batch on the second core as Python prepares the next.
    """
    columns = (
        "job_id",
        "row_number",
        "outcome",
        "cells",
        "errors",
        "beneficiary_id",
        "expected_updated_at",
        "similar",
        *STAGED_FIELDS,
    )
    quote = connection.ops.quote_name
    copy = f"COPY {ImportRow._meta.db_table} ({', '.join(map(quote, columns))}) FROM STDIN"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    no_values = [None] * len(STAGED_FIELDS)
    connection.ensure_connection()
    # Django's wrapper refuses use from another thread; the driver's connection,
    # used by that thread alone while this one only prepares text, does not.
    driver_connection = connection.connection

    def send(buffer: io.StringIO) -> None:
        with driver_connection.cursor() as cursor:
            cursor.copy_expert(copy, buffer)

    with ThreadPoolExecutor(max_workers=1) as sender:
        sending = None
        for batch in _batches(staged):
            buffer = io.StringIO()
            for row in batch:
                # The cells are kept for the rows that may go back to the user.
                keep_cells = row.outcome in {Outcome.REJECTED, Outcome.DUPLICATE}
                values = row.values if row.outcome in _ROWS_WITH_VALUES else None
                buffer.write(
                    _copy_line(
                        [
                            job.pk,
                            row.number,
                            row.outcome,
                            dumps(checker.cells_of(row.cells)) if keep_cells else "{}",
                            dumps(row.errors) if row.errors else "[]",
                            row.beneficiary,
                            row.stamp.isoformat() if row.stamp else None,
                            dumps(row.similar) if row.similar else "[]",
                            *(
                                no_values
                                if values is None
                                else [values[name] for name in STAGED_FIELDS]
                            ),
                        ]
                    )
                )
            buffer.seek(0)
            if sending is not None:
                sending.result()
            sending = sender.submit(send, buffer)
        if sending is not None:
            sending.result()


class ImportOutdated(ValidationError):
    """Recipients changed since the preview: the file must be checked again."""


def import_confirm(*, job: ImportJob, actor: User | None, duplicates: str) -> ImportJob:
    """Accept the preview: record what to do with possible duplicates and queue the writing."""
    _require_province(actor, job.province)
    job.refresh_from_db()
    if job.status == Status.VALIDATED and not job.can_commit:
        raise ValidationError(_("Rows were rejected: correct them, or import the valid rows only."))
    # The status moves on once: a second click finds the job already confirmed.
    updated = ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
        status=Status.COMMIT_QUEUED, duplicates=duplicates
    )
    if not updated:
        raise ValidationError(_("This import is not waiting for confirmation."))
    job.refresh_from_db()
    return job


def import_commit(*, job: ImportJob) -> ImportJob:
    """Write what the preview showed, in one transaction; a second run changes nothing.

    Raises ImportOutdated, leaving the job failed and nothing written, when a
    recorded person changed or someone recorded one of these people since
    the preview.
    """
    committable = {Status.VALIDATED, *ImportJob.TO_WRITE}
    if ImportJob.objects.filter(pk=job.pk, status__in=committable).update(status=Status.COMMITTING):
        job.status = Status.COMMITTING
    with translation.override(job.language), transaction.atomic():
        # The lock makes a second worker wait, then find the job written.
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status == Status.COMMITTED:
            return job
        if job.status != Status.COMMITTING:
            raise ValidationError(_("This import is not waiting to be written."))
        if job.mode == ImportJob.Mode.ALL_OR_NOTHING and job.rejected_count:
            raise ValidationError(
                _("Rows were rejected: nothing is written in all-or-nothing mode.")
            )
        try:
            with (
                transaction.atomic(),
                pghistory.context(import_job=job.pk, **user_metadata(job.created_by)),
            ):
                _write(job)
        except (IntegrityError, ImportOutdated) as error:
            outdated = error
            job.status = Status.FAILED
            job.error = _(
                "Recipients changed since the check (someone recorded or changed some of these "
                "people): check the file again."
            )
            job.save(update_fields=["status", "error"])
        else:
            outdated = None
            job.status = Status.COMMITTED
            job.committed_at = timezone.now()
            job.error = ""
            job.save(update_fields=["status", "committed_at", "error"])
    if outdated is not None:
        # Raised once the transaction has kept the failure (and nothing else).
        raise ImportOutdated(job.error) from outdated
    return job


# Columns the template does not fill, as a new recipient starts.
_NEW_RECORD_DEFAULTS = {"household_key": "''", "consent_method": "''"}


def _write(job: ImportJob) -> None:
    """Insert the new rows and update the changed ones, from the stored rows; two statements."""
    table = Beneficiary._meta.db_table
    rows = ImportRow._meta.db_table
    outcomes = [Outcome.NEW]
    if job.duplicates == ImportJob.Duplicates.IMPORT:
        outcomes.append(Outcome.DUPLICATE)
    columns = list(STAGED_FIELDS)
    new_values = ", ".join(f"r.{name}" for name in columns)
    insert_columns = [*columns, *_NEW_RECORD_DEFAULTS, "created_at", "updated_at"]
    selected = [f"r.{name}" for name in columns] + [
        *_NEW_RECORD_DEFAULTS.values(),
        "now()",
        "now()",
    ]
    with connection.cursor() as cursor:
        # The audit triggers read this setting per row; undefined (a pooler that drops
        # the connection's options), each row raises and catches an error, and a
        # 100,000-row insert takes minutes instead of seconds.
        cursor.execute("SET LOCAL pgtrigger.ignore = '{}'")
        cursor.execute(
            f"""
            INSERT INTO {table} ({", ".join(insert_columns)})
            SELECT {", ".join(selected)}
              FROM {rows} r
             WHERE r.job_id = %s AND r.outcome = ANY(%s)
             ORDER BY r.row_number
            """,
            [job.pk, outcomes],
        )
        cursor.execute(
            f"""
            UPDATE {table} b
               SET ({", ".join(columns)}, updated_at) = ({new_values}, now())
              FROM {rows} r
             WHERE r.job_id = %s AND r.outcome = %s AND b.id = r.beneficiary_id
               AND b.updated_at = r.expected_updated_at AND b.anonymised_at IS NULL
            """,
            [job.pk, Outcome.UPDATE],
        )
    if cursor.rowcount != job.updated_count:
        raise ImportOutdated("changed since the preview")


def import_rejected_rows(job: ImportJob) -> Iterable[tuple[dict[str, str], str]]:
    """Yield (cells by column key, error) for each row the import leaves out, in file order."""
    outcomes = [Outcome.REJECTED]
    if job.duplicates == ImportJob.Duplicates.LEAVE_OUT:
        outcomes.append(Outcome.DUPLICATE)
    rows = job.rows.filter(outcome__in=outcomes).order_by("row_number")
    # In the uploader's language, like the messages stored with the rows.
    with translation.override(job.language):
        for row in rows.values("row_number", "outcome", "cells", "errors", "similar").iterator(
            2000
        ):
            yield row["cells"], row_error_text(row)


def row_error_text(row: dict) -> str:
    """Return "Ngày sinh: ...; Giới tính: ..." or the possible duplicate's description."""
    if row["outcome"] == Outcome.DUPLICATE:
        return _(
            "Possible duplicate of %(whom)s: check, then import it again if it is another person."
        ) % {"whom": ", ".join(_similar_text(entry) for entry in row["similar"])}
    return "; ".join(f"{column_label(column)}: {message}" for column, message in row["errors"])


def _similar_text(entry: dict) -> str:
    if "row" in entry:
        return _("row %(row)d") % {"row": entry["row"]}
    return _("recipient #%(pk)d") % {"pk": entry["pk"]}
