"""A worker killed while writing a big import leaves nothing; the import is written once after.

A list of 25,000 rows is checked, confirmed and, being big, queued for a worker,
as the admin does.  A real ``manage.py db_worker`` takes it; once PostgreSQL shows
that worker's INSERT running and the recipients' table growing (rows written,
not committed), the worker is killed with SIGKILL, as the kernel's out-of-memory
killer would.  Nothing of the import may be left, and the job may not look written.
A new worker alone does not take the job again (its task still looks taken);
``manage.py resume_imports`` queues it again, and the next worker writes every
valid row exactly once.
"""

import io
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.models import BeneficiaryEvent
from beneficiaries.identifiers import PROVINCE_CODES
from beneficiaries.imports.services import import_confirm, import_job_create, import_validate
from beneficiaries.models import Beneficiary, ImportJob
from beneficiaries.tasks import import_write_start, in_background, write_import
from tests.beneficiaries.import_files import person, xlsx
from tests.factories import unit
from tests.helpers import PROJECT_DIR, current_database_env, manage_args, manage_env, run_manage

ROWS = 25_000
# Every 100th row has a date that does not exist; every 250th lists the row before again.
BAD_DATE_EVERY = 100
REPEAT_EVERY = 250
# The worker is killed once its INSERT has put this much in the recipients' table: about
# 6,500 of the 24,700 rows, which take 4 MB in 0.4 s here; their audit trail follows
# (7 MB, 2.5 s), in the same statement.
WRITTEN_BEFORE_KILL = 1 << 20
# Bounds far above what each step takes here, so that a hang fails the test.
WAIT_S = 60
POLL_S = 0.01
WORKER_APPLICATION = "vss_fault_import_worker"

FAMILY = ["Lương", "Lò", "Giàng", "Vàng", "Nguyễn", "Trần", "Hoàng", "Sùng", "Hầu", "Má"]
MIDDLE = {"Nữ": ["Thị", "Thị Thu", "Thị Mai"], "Nam": ["Văn", "A", "Đức"]}
GIVEN = ["Trúc", "Hoa", "Páo", "Tư", "Mai", "Lan", "Dế", "Chứ", "Sinh", "Pham", "Hùng", "Thào"]
BIRTH_PROVINCES = sorted(PROVINCE_CODES)


def file_rows() -> tuple[list[dict], list[str]]:
    """Return the rows of the list and the personal IDs of its valid rows."""
    rows, valid = [], []
    for n in range(ROWS):
        if n % REPEAT_EVERY == REPEAT_EVERY - 1:
            rows.append(dict(rows[-1]))  # a person listed twice: the second row is rejected
            continue
        sex = "Nữ" if n % 2 else "Nam"
        year = 1940 + n % 60
        birth_province = BIRTH_PROVINCES[n % len(BIRTH_PROVINCES)]
        cells = person(
            full_name=" ".join(
                [FAMILY[n % 10], MIDDLE[sex][n // 10 % 3], GIVEN[n // 30 % len(GIVEN)]]
            ),
            birth=f"{1 + n % 28:02d}/{1 + n % 12:02d}/{year}",
            sex=sex,
            # Province of birth registration, century and sex, year, then a serial number.
            personal_id=f"{birth_province}{n % 2}{year % 100:02d}{n:06d}",
            village=f"Thôn {1 + n % 40}",
        )
        if n % BAD_DATE_EVERY == BAD_DATE_EVERY - 1:
            cells["birth"] = f"31/02/{year}"
        else:
            valid.append(cells["personal_id"])
        rows.append(cells)
    return rows, valid


def start_worker(log: Path) -> subprocess.Popen:
    """Start ``manage.py db_worker`` as production runs it; its connections carry a name."""
    env = manage_env(current_database_env() | {"PGAPPNAME": WORKER_APPLICATION})
    with log.open("wb") as output:
        return subprocess.Popen(
            manage_args("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1"),
            env=env,
            cwd=PROJECT_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def kill_with_children(pid: int) -> None:
    """SIGKILL a process and every process it started, leaves first."""
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def recipients_table_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('beneficiaries_beneficiary')")
        return cursor.fetchone()[0]


def worker_writing(size_before: int) -> int | None:
    """Return the PostgreSQL process running the worker's INSERT of recipients once it has
    written ``WRITTEN_BEFORE_KILL`` bytes of them (uncommitted), else None.

    The statement's text starts with pghistory's ``SELECT set_config(...)`` (the
    audit trail's context), hence a search rather than a prefix.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pid FROM pg_stat_activity
             WHERE application_name = %s AND state = 'active'
               AND strpos(query, 'INSERT INTO beneficiaries_beneficiary ') > 0
               AND pg_relation_size('beneficiaries_beneficiary') >= %s
            """,
            [WORKER_APPLICATION, size_before + WRITTEN_BEFORE_KILL],
        )
        found = cursor.fetchone()
    return found[0] if found else None


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def backend_inserting(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = 'active'"
            " AND strpos(query, 'INSERT INTO beneficiaries_beneficiary ') > 0",
            [pid],
        )
        return cursor.fetchone() is not None


def wait_for(condition, what: str, log: Path | None = None):
    deadline = time.monotonic() + WAIT_S
    while not (found := condition()):
        if time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-3000:] if log else ""
            pytest.fail(f"{what}: not within {WAIT_S} s\n{output}")
        time.sleep(POLL_S)
    return found


def recipients(valid: list[str]):
    return Beneficiary.objects.filter(personal_id__in=valid)


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_is_written_once_after(
    committed_reference_data, tmp_path
):
    started = time.monotonic()
    rows, valid = file_rows()
    job = import_job_create(
        actor=None,
        file_name="danh-sach-lao-cai.xlsx",
        content=xlsx(rows),
        province=unit("2025", "15"),
        mode=ImportJob.Mode.VALID_ROWS,
    )
    assert in_background(job)  # the size the admin sends to a worker
    job = import_validate(job=job)
    assert (job.new_count, job.rejected_count) == (len(valid), ROWS - len(valid))
    job = import_write_start(
        import_confirm(job=job, actor=None, duplicates=ImportJob.Duplicates.LEAVE_OUT)
    )
    assert job.status == ImportJob.Status.COMMIT_QUEUED
    tasks = DBTaskResult.objects.filter(
        task_path=write_import.module_path, args_kwargs__args=[job.pk]
    )
    assert list(tasks.values_list("status", flat=True)) == [TaskResultStatus.READY]
    prepared = time.monotonic()

    log = tmp_path / "worker.log"
    size_before = recipients_table_size()
    recorded_before = Beneficiary.objects.count()
    assert not recipients(valid).exists()
    events_before = BeneficiaryEvent.objects.count()
    worker = start_worker(log)
    try:
        backend = wait_for(
            lambda: worker_writing(size_before), "the worker's INSERT of recipients", log
        )
        assert worker.poll() is None, log.read_text(errors="replace")
        kill_with_children(worker.pid)
        killed = time.monotonic()
        worker.wait(timeout=WAIT_S)
    finally:
        kill_with_children(worker.pid)
        worker.wait(timeout=WAIT_S)
    assert worker.returncode == -signal.SIGKILL

    # Killed mid-statement: PostgreSQL finishes the dead client's INSERT, then rolls it back
    # as it finds the client gone.  Nothing of it shows meanwhile.
    assert backend_inserting(backend)
    assert not recipients(valid).exists()
    wait_for(lambda: not backend_alive(backend), "the killed worker's backend to end")
    rolled_back = time.monotonic()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTING and job.committed_at is None
    assert not recipients(valid).exists()
    assert Beneficiary.objects.count() == recorded_before
    assert BeneficiaryEvent.objects.count() == events_before
    # The task still looks taken: no worker runs it again by itself.
    assert list(tasks.values_list("status", flat=True)) == [TaskResultStatus.RUNNING]
    batch = ["db_worker", "--batch", "--no-startup-delay", "--no-reload"]
    env = current_database_env()
    idle = run_manage(*batch, env=env, timeout=WAIT_S)
    assert idle.returncode == 0, idle.stderr
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTING and not recipients(valid).exists()

    resumed = run_manage("resume_imports", env=env, timeout=WAIT_S)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Import {job.pk} (danh-sach-lao-cai.xlsx): queued again." in resumed.stdout
    assert "1 import(s) queued again." in resumed.stdout
    resume_started = time.monotonic()
    written = run_manage(*batch, env=env, timeout=WAIT_S)
    assert written.returncode == 0, written.stderr
    finished = time.monotonic()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED, (job.status, job.error)
    assert job.committed_at is not None
    assert Beneficiary.objects.count() - recorded_before == recipients(valid).count() == len(valid)
    assert set(recipients(valid).values_list("personal_id", flat=True)) == set(valid)
    repeated = Beneficiary.objects.values("personal_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not repeated.exists()
    # Each recipient recorded once in the audit trail too, as part of this import.
    assert BeneficiaryEvent.objects.count() - events_before == len(valid)
    inserts = BeneficiaryEvent.objects.filter(pgh_label="insert", pgh_context__import_job=job.pk)
    assert inserts.count() == len(valid)
    assert set(inserts.values_list("personal_id", flat=True)) == set(valid)
    assert sorted(tasks.values_list("status", flat=True)) == sorted(
        [TaskResultStatus.RUNNING, TaskResultStatus.SUCCESSFUL]
    )

    # Running the command again finds nothing left to do.
    again = io.StringIO()
    call_command("resume_imports", stdout=again)
    assert again.getvalue() == "0 import(s) queued again.\n"
    assert recipients(valid).count() == len(valid)
    print(
        f"\nkilled worker: {len(valid)} rows; file and preview {prepared - started:.1f} s; "
        f"killed {killed - prepared:.1f} s after queuing; the dead client's transaction "
        f"ended {rolled_back - killed:.1f} s after the kill; resumed and written in "
        f"{finished - resume_started:.1f} s"
    )
