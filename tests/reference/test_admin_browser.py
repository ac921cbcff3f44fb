"""The administrative-unit pages in a real browser (Debian's Chromium)."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def staff_login(committed_reference_data, django_user_model):
    django_user_model.objects.create_superuser("canbo", password="Mat-khau-2024")
    return "canbo", "Mat-khau-2024"


@pytest.fixture
def page(staff_login, live_server):
    # Playwright's sync API runs an event loop in this thread, after which
    # Django refuses ORM calls here: every row the test needs is made above.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(locale="vi-VN", base_url=live_server.url)
        yield context.new_page()
        browser.close()


def test_staff_log_in_and_find_hop_thanh_typed_without_diacritics(page, staff_login, tmp_path):
    username, password = staff_login
    page.goto("/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto("/admin/reference/adminunit/")
    page.fill("#searchbar", "hop thanh")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    texts = rows.all_inner_texts()
    assert any(
        "02680" in row and "Xã Hợp Thành" in row and "Thành phố Lào Cai" in row for row in texts
    )
    assert any("02680" in row and "Xã Hợp Thành" in row and "Tỉnh Lào Cai" in row for row in texts)
    assert page.locator("#changelist-search").is_visible()
    page.screenshot(path=tmp_path / "admin-units.png", full_page=True)
