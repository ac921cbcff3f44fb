"""``import_write_resume`` and ``manage.py resume_imports``: a confirmed import no worker will
finish is queued again, once; any other is left alone.

tests/integrity/test_killed_worker.py kills a real worker mid-import and resumes
it; here each case the service tells apart is set up directly.
"""

import io

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from beneficiaries.imports.services import (
    import_commit,
    import_confirm,
    import_job_create,
    import_validate,
)
from beneficiaries.models import Beneficiary, ImportJob
from beneficiaries.tasks import (
    BEING_WRITTEN,
    IN_QUEUE,
    NOT_CONFIRMED,
    QUEUED,
    import_write_resume,
    write_import,
)
from tests.beneficiaries.import_files import person, xlsx
from tests.factories import unit
from tests.helpers import current_database_env, run_manage

from . import postgres

Status = ImportJob.Status


def checked_job(name: str = "danh-sach.xlsx") -> ImportJob:
    rows = [person(full_name=f"Người Thứ {n}", birth=str(1950 + n)) for n in range(3)]
    job = import_job_create(
        actor=None, file_name=name, content=xlsx(rows), province=unit("2025", "15")
    )
    return import_validate(job=job)


def confirmed_job(name: str = "danh-sach.xlsx") -> ImportJob:
    return import_confirm(job=checked_job(name), actor=None, duplicates="leave_out")


def tasks_of(job: ImportJob) -> list[str]:
    return sorted(
        DBTaskResult.objects.filter(
            task_path=write_import.module_path, args_kwargs__args=[job.pk]
        ).values_list("status", flat=True)
    )


def resume_command(*jobs: int) -> str:
    output = io.StringIO()
    call_command("resume_imports", *map(str, jobs), stdout=output)
    return output.getvalue()


@pytest.mark.django_db
def test_only_a_confirmed_import_that_no_worker_will_finish_is_queued_again():
    job = checked_job()
    assert import_write_resume(job) == NOT_CONFIRMED  # checked, not confirmed
    job = confirmed_job()
    write_import.enqueue(job.pk)
    assert import_write_resume(job) == IN_QUEUE
    assert tasks_of(job) == [TaskResultStatus.READY]

    # A worker took the task, started writing and died: the task looks taken for ever.
    DBTaskResult.objects.get(args_kwargs__args=[job.pk]).claim("a-worker-that-died")
    ImportJob.objects.filter(pk=job.pk).update(status=Status.COMMITTING)
    assert import_write_resume(job) == QUEUED
    assert tasks_of(job) == [TaskResultStatus.READY, TaskResultStatus.RUNNING]
    assert import_write_resume(job) == IN_QUEUE  # queued once, however often asked
    assert tasks_of(job) == [TaskResultStatus.READY, TaskResultStatus.RUNNING]

    # Confirmed, then the web process writing it inline died: no task at all.
    inline = confirmed_job("nho.xlsx")
    assert resume_command() == (
        f"Import {job.pk} (danh-sach.xlsx): left alone (in queue).\n"
        f"Import {inline.pk} (nho.xlsx): queued again.\n"
        "1 import(s) queued again.\n"
    )
    assert tasks_of(inline) == [TaskResultStatus.READY]

    # Written (here by a call instead of the queued task, which then finds it written).
    assert import_commit(job=job).status == Status.COMMITTED
    assert import_write_resume(job) == NOT_CONFIRMED
    assert resume_command(job.pk) == (
        f"Import {job.pk} (danh-sach.xlsx): left alone (not confirmed).\n"
        "0 import(s) queued again.\n"
    )
    failed = confirmed_job("hong.xlsx")
    ImportJob.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    assert import_write_resume(failed) == NOT_CONFIRMED
    assert tasks_of(failed) == []
    with pytest.raises(CommandError, match="No such import: 999999"):
        resume_command(999_999)


def test_an_import_being_written_is_left_alone_until_its_transaction_ends(
    committed_reference_data,
):
    job = confirmed_job()
    ImportJob.objects.filter(pk=job.pk).update(status=Status.COMMITTING)
    # Another session holds the job's row, as ``import_commit`` does while it writes.
    where = {name: value for name, value in postgres.server().items() if value}
    writer = psycopg2.connect(dbname=connection.settings_dict["NAME"], **where)
    try:
        with writer.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM beneficiaries_importjob WHERE id = %s FOR UPDATE", [job.pk]
            )
        assert import_write_resume(job) == BEING_WRITTEN
        assert "being written now; if its worker died, run this again" in resume_command()
        assert tasks_of(job) == []
    finally:
        writer.rollback()  # as PostgreSQL does when the writer's client is gone
        writer.close()

    assert import_write_resume(job) == QUEUED
    worker = run_manage(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", env=current_database_env()
    )
    assert worker.returncode == 0, worker.stderr
    job.refresh_from_db()
    assert job.status == Status.COMMITTED
    assert Beneficiary.objects.filter(search_name__startswith="nguoi thu").count() == 3
    assert tasks_of(job) == [TaskResultStatus.SUCCESSFUL]
