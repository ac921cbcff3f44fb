"""The import screens as a browser runs them: upload, progress bar, preview, confirmation."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from beneficiaries.models import Beneficiary
from tests.beneficiaries.import_files import person, xlsx
from tests.helpers import current_database_env, manage_args, manage_env

pytestmark = pytest.mark.browser


def _recorded(search_name: str) -> int:
    try:
        return Beneficiary.objects.filter(search_name__startswith=search_name).count()
    finally:
        connections.close_all()


def _in_thread(function, *args):
    # Playwright runs an event loop in this thread, where Django refuses ORM calls.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture
def spreadsheet(tmp_path):
    path = tmp_path / "danh-sach.xlsx"
    rows = [person(full_name=f"Người Thứ {n}", birth=str(1950 + n)) for n in range(4)]
    rows.append(person(full_name="Lò Văn Tư", birth="31/02/1970"))
    path.write_bytes(xlsx(rows, title_rows=[["DANH SÁCH NGƯỜI ĐƯỢC TRAO TẶNG"], []]))
    return path


def test_a_worker_checks_the_file_while_the_page_follows_then_the_user_confirms(
    spreadsheet, settings, browser_page
):
    settings.IMPORT_INLINE_BYTES = 0  # this small file goes to the worker too
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/admin/beneficiaries/beneficiary/")
    page.click("a.import_link")
    page.set_input_files("#id_file", str(spreadsheet))
    page.check("input[name=mode][value=valid]")
    page.click("input[type=submit]")
    assert page.locator("#import-progress").is_visible()

    worker = subprocess.Popen(
        manage_args("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.2"),
        env=manage_env(current_database_env()),
    )
    try:
        # The page polls the job and reloads itself once the check is done.
        page.wait_for_selector("#import-totals", timeout=60_000)
        assert page.inner_text('[data-outcome="new"]') == "4"
        assert page.inner_text('[data-outcome="rejected"]') == "1"
        assert "31/02/1970" in page.inner_text("#rejected-rows")
        with page.expect_download() as download:
            page.click("#download-rejects")
        assert download.value.suggested_filename.endswith(".xlsx")

        page.click("#confirm-import")
        page.wait_for_selector("#import-totals", timeout=60_000)
        page.wait_for_function("!document.getElementById('import-progress')", timeout=60_000)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert _in_thread(_recorded, "nguoi thu") == 4
    assert errors == []
