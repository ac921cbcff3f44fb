"""The administrative-unit pages in a real browser (Debian's Chromium)."""

import pytest

pytestmark = pytest.mark.browser


def test_staff_find_hop_thanh_typed_without_diacritics(browser_page, tmp_path):
    page = browser_page
    page.goto("/admin/reference/adminunit/")
    page.fill("#searchbar", "hop thanh")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    texts = rows.all_inner_texts()
    for parent in ["Thành phố Lào Cai", "Tỉnh Lào Cai"]:  # 2024 edition, then 2025
        assert any("02680" in row and "Xã Hợp Thành" in row and parent in row for row in texts)
    page.screenshot(path=tmp_path / "admin-units.png", full_page=True)
