"""The import screens of the admin, the background worker and the command line."""

import io
import signal
import subprocess
import time

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from accounts.roles import Role
from beneficiaries.imports import services as import_services
from beneficiaries.models import Beneficiary, ImportJob
from beneficiaries.tasks import write_import
from tests.beneficiaries.import_files import HEADERS, person, xlsx
from tests.factories import make_user, unit
from tests.helpers import current_database_env, manage_args, manage_env, run_manage

UPLOAD = reverse("admin:beneficiaries_importjob_add")


def upload(client, content: bytes, name="danh-sach.xlsx", **fields):
    """Post a file to the upload form as a browser does (the page's defaults, then ``fields``)."""
    data = {
        "file": io.BytesIO(content),
        "province": unit("2025", "15").pk,
        "edition": "2025",
        "mode": "all",
        "existing": "skip",
    } | fields
    data["file"].name = name
    return client.post(UPLOAD, data)


@pytest.fixture
def provincial(client, db):
    user = make_user("lao-cai", unit("2025", "15"), role=Role.PROVINCIAL_STAFF)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_upload_preview_confirm_in_the_users_language(provincial):
    content = xlsx(
        [person(), person(full_name="Lò Văn Tư", sex="Nam", birth="31/02/1970")],
        title_rows=[["DANH SÁCH"]],
    )
    response = upload(provincial, content, mode="valid")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{job.pk}/change/")
    page = provincial.get(response.url, headers={"accept-language": "vi"}).content.decode()
    assert 'data-outcome="new">1<' in page and 'data-outcome="rejected">1<' in page
    assert "<td>4</td><td>Ngày sinh: ngày 31/02/1970 không tồn tại</td>" in page
    assert not Beneficiary.objects.filter(search_name="luong thi truc").exists()

    rejects = provincial.get(reverse("admin:beneficiaries_importjob_rejects", args=[job.pk]))
    sheet = CalamineWorkbook.from_object(io.BytesIO(rejects.content)).get_sheet_by_index(0)
    assert any(row[1] == "Lò Văn Tư" for row in sheet.to_python())

    confirmed = provincial.post(response.url, {"duplicates": "leave_out"})
    assert confirmed.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED
    assert Beneficiary.objects.filter(search_name="luong thi truc").count() == 1


@pytest.mark.django_db
def test_all_or_nothing_with_a_rejected_row_offers_no_confirmation(provincial):
    upload(provincial, xlsx([person(), person(full_name="Lò Văn Tư", birth="31/02/1970")]))
    job = ImportJob.objects.get()
    page = provincial.get(reverse("admin:beneficiaries_importjob_change", args=[job.pk]))
    assert b'id="confirm-import"' not in page.content
    provincial.post(reverse("admin:beneficiaries_importjob_change", args=[job.pk]))
    assert not Beneficiary.objects.filter(search_name="luong thi truc").exists()


@pytest.mark.django_db
def test_the_province_offered_and_accepted_is_the_users_own(provincial):
    page = provincial.get(UPLOAD).content.decode()
    assert "Tỉnh Lào Cai" in page and "Thành phố Hà Nội" not in page
    response = upload(provincial, xlsx([person()]), province=unit("2025", "01").pk)
    assert response.status_code == 200 and not ImportJob.objects.exists()


@pytest.mark.django_db
def test_imports_of_other_provinces_are_not_shown(provincial, client):
    upload(provincial, xlsx([person()]))
    job = ImportJob.objects.get()
    other = make_user("ha-noi", unit("2025", "01"), role=Role.PROVINCIAL_STAFF)
    client.force_login(other)
    assert client.get(
        reverse("admin:beneficiaries_importjob_change", args=[job.pk])
    ).status_code in (
        302,
        404,
    )
    assert (
        client.get(reverse("admin:beneficiaries_importjob_rejects", args=[job.pk])).status_code
        == 404
    )


@pytest.mark.django_db
def test_the_template_downloads_with_its_headers(provincial):
    response = provincial.get(reverse("admin:beneficiaries_importjob_template"))
    sheet = CalamineWorkbook.from_object(io.BytesIO(response.content)).get_sheet_by_index(0)
    assert any(row[: len(HEADERS)] == HEADERS for row in sheet.to_python())


def test_a_big_file_is_checked_and_written_by_a_worker_with_progress(
    committed_reference_data, client, settings
):
    settings.IMPORT_INLINE_BYTES = 0
    user = make_user("lao-cai", unit("2025", "15"), role=Role.PROVINCIAL_STAFF)
    client.force_login(user)
    rows = [person(full_name=f"Người Thứ {n}", birth=str(1950 + n)) for n in range(5)]
    response = upload(client, xlsx(rows))
    job = ImportJob.objects.get()
    progress_url = reverse("admin:beneficiaries_importjob_progress", args=[job.pk])
    waiting = client.get(progress_url).json()
    # Not read yet: the number of rows is known once a worker opens the file.
    assert (waiting["running"], waiting["done"], waiting["total"]) == (True, 0, 0)
    assert b'id="import-progress"' in client.get(response.url).content

    worker = ["db_worker", "--batch", "--no-startup-delay", "--no-reload"]
    assert run_manage(*worker, env=current_database_env()).returncode == 0
    checked = client.get(progress_url).json()
    assert (checked["running"], checked["status"], checked["done"]) == (False, "validated", 5)

    client.post(response.url, {"duplicates": "leave_out"})
    assert client.get(progress_url).json()["status"] == "commit_queued"
    assert run_manage(*worker, env=current_database_env()).returncode == 0
    assert client.get(progress_url).json()["status"] == "committed"
    assert Beneficiary.objects.filter(search_name__startswith="nguoi thu").count() == 5


def test_the_command_prints_totals_and_exits_by_outcome(committed_reference_data, tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([person()]))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([person(full_name="Lò Văn Tư"), person(birth="31/02/1970")]))
    rejects = tmp_path / "rejects.xlsx"
    env = current_database_env()

    dry = run_manage("import_beneficiaries", str(good), "--province", "15", "--dry-run", env=env)
    assert dry.returncode == 0 and "new: 1" in " ".join(dry.stdout.split())
    assert not Beneficiary.objects.exists()

    refused = run_manage("import_beneficiaries", str(bad), "--rejects", str(rejects), env=env)
    assert refused.returncode == 1 and "31/02/1970" in refused.stdout
    assert not Beneficiary.objects.exists() and rejects.exists()

    partial = run_manage("import_beneficiaries", str(bad), "--valid-only", env=env)
    assert partial.returncode == 0, partial.stderr
    assert Beneficiary.objects.filter(search_name="lo van tu").count() == 1

    unreadable = run_manage("import_beneficiaries", str(tmp_path / "none.xlsx"), env=env)
    assert unreadable.returncode == 2


@pytest.mark.django_db
def test_the_progress_endpoint_counts_rows_while_they_are_checked(provincial, monkeypatch):
    monkeypatch.setattr(import_services, "BATCH_SIZE", 2)
    rows = [person(full_name=f"Người Thứ {n}", birth=str(1950 + n)) for n in range(5)]
    job = import_services.import_job_create(
        actor=None, file_name="x.xlsx", content=xlsx(rows), province=unit("2025", "15")
    )
    url = reverse("admin:beneficiaries_importjob_progress", args=[job.pk])
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(provincial.get(url).json())

    import_services.import_validate(job=job, progress=progress)
    assert [(p["status"], p["done"], p["total"]) for p in seen] == [
        ("validating", 2, 5),
        ("validating", 4, 5),
        ("validating", 5, 5),
    ]
    assert provincial.get(url).json()["running"] is False


def test_a_worker_killed_while_writing_leaves_nothing_and_the_job_finishes_once_later(
    committed_reference_data,
):
    rows = [
        person(full_name=f"Người Thứ {n}", birth=str(1930 + n % 90), village=f"Thôn {n}")
        for n in range(5000)
    ]
    job = import_services.import_job_create(
        actor=None, file_name="x.xlsx", content=xlsx(rows), province=unit("2025", "15")
    )
    job = import_services.import_validate(job=job)
    job = import_services.import_confirm(job=job, actor=None, duplicates="import")
    write_import.enqueue(job.pk)

    worker = subprocess.Popen(
        manage_args("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1"),
        env=manage_env(current_database_env()),
    )
    try:
        deadline = time.monotonic() + 60
        while ImportJob.objects.get(pk=job.pk).status != ImportJob.Status.COMMITTING:
            assert time.monotonic() < deadline, "the worker never started writing"
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.COMMITTING
    assert not Beneficiary.objects.filter(search_name__startswith="nguoi thu").exists()

    # Running the job again (the worker's row lock died with it) writes it once.
    assert import_services.import_commit(job=job).status == ImportJob.Status.COMMITTED
    assert import_services.import_commit(job=job).status == ImportJob.Status.COMMITTED
    assert Beneficiary.objects.filter(search_name__startswith="nguoi thu").count() == 5000
