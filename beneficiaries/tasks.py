"""Background jobs of recipient imports, run by `manage.py db_worker` (django-tasks).

Small files are checked and written while the user waits; bigger ones go to
a worker, and the admin page shows their progress.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .imports.services import import_commit, import_validate
from .models import ImportJob

logger = logging.getLogger(__name__)


def _failed(job_id: int) -> None:
    job = ImportJob.objects.get(pk=job_id)
    with translation.override(job.language):
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            error=_("The import stopped unexpectedly; nothing was written. Try again."),
        )


@task()
def check_import(job_id: int) -> None:
    try:
        import_validate(job=ImportJob.objects.get(pk=job_id))
    except Exception:
        _failed(job_id)
        raise


@task()
def write_import(job_id: int) -> None:
    try:
        import_commit(job=ImportJob.objects.get(pk=job_id))
    except ValidationError:
        logger.info("Import %s was not written: the job records why.", job_id)
    except Exception:
        _failed(job_id)
        raise


def in_background(job: ImportJob) -> bool:
    # The size tells before reading: about 2,000 rows of XLSX or 1,500 of CSV.
    return len(job.file_content) > settings.IMPORT_INLINE_BYTES


def import_check_start(job: ImportJob) -> ImportJob:
    """Check the job's file now when it is small, else queue it for a worker.

    Either way through the task, so that a failure is recorded on the job alike.
    """
    if in_background(job):
        check_import.enqueue(job.pk)
    else:
        check_import.call(job.pk)
    job.refresh_from_db()
    return job


def import_write_start(job: ImportJob) -> ImportJob:
    """Write a confirmed job now when it is small, else queue it for a worker."""
    if in_background(job):
        write_import.enqueue(job.pk)
    else:
        write_import.call(job.pk)
    job.refresh_from_db()
    return job


# What ``import_write_resume`` did, or why it did nothing.
QUEUED = "queued"
NOT_CONFIRMED = "not confirmed"
IN_QUEUE = "in queue"
BEING_WRITTEN = "being written"


def import_write_resume(job: ImportJob) -> str:
    """Queue again the writing of a confirmed job no worker will finish; return QUEUED or why not.

    A worker killed while writing (SIGKILL, out of memory, a machine stopped) leaves the
    job confirmed or being written, with nothing written, and its task "running" for ever:
    no worker takes that task again.  Left alone: a job not waiting to be written (written,
    failed, not confirmed), one whose task waits in the queue, and one being written now
    (the writing transaction holds its row).  Queued twice by mistake, a job is still written
    once: ``import_commit`` locks it, and a second run finds it written.
    """
    with transaction.atomic():
        # Locked, so that no worker starts or finishes writing it until this is decided.
        status = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job.pk)
            .values_list("status", flat=True)
            .first()
        )
        if status is None:
            return BEING_WRITTEN
        if status not in ImportJob.TO_WRITE:
            return NOT_CONFIRMED
        in_queue = DBTaskResult.objects.filter(
            task_path=write_import.module_path,
            args_kwargs__args=[job.pk],
            status=TaskResultStatus.READY,
        )
        if in_queue.exists():
            return IN_QUEUE
        write_import.enqueue(job.pk)
    return QUEUED
