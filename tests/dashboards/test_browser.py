"""The dashboards in a real Chromium: from the overview down to Hợp Thành, charts drawn,
in both languages, exported to Excel, printed.  Screenshots go to test-artifacts/."""

import pytest

from distributions.demo import demo_load
from tests.dashboards.pages import xlsx_rows
from tests.helpers import PROJECT_DIR

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_DIR / "test-artifacts"

# Counts the canvas's painted pixels: a chart that was not drawn has none.
PAINTED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha]) painted++;
  return painted;
}"""


@pytest.fixture
def demo(committed_reference_data):
    demo_load()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"dashboards-{name}.png", full_page=True)


def assert_chart_drawn(page, table: str) -> None:
    canvas = page.locator(f"canvas[data-chart='{table}']")
    canvas.wait_for()
    assert canvas.get_attribute("data-drawn") == "true"
    assert canvas.evaluate(PAINTED) > 500


def test_an_official_drills_down_to_hop_thanh_and_exports_its_hand_over(demo, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    page.click("text=Bảng số liệu")  # the admin's link to the dashboards
    page.wait_for_selector("#table-provinces")
    assert_chart_drawn(page, "provinces")
    assert "Tỉnh Lào Cai" in page.inner_text("#table-provinces table")
    screenshot(page, "overview")

    page.click("#table-provinces table >> text=Tỉnh Lào Cai")
    page.wait_for_selector("#table-communes")
    assert page.inner_text("h1").startswith("Tỉnh Lào Cai")
    assert_chart_drawn(page, "quotas")
    assert_chart_drawn(page, "communes")
    screenshot(page, "province")

    page.click("#table-communes table >> text=Xã Hợp Thành")
    page.wait_for_selector("#table-handovers")
    assert page.inner_text("h1").startswith("Xã Hợp Thành")
    event = page.inner_text("#table-handovers tbody tr")
    assert "16/01/2024" in event and "45\t10\t55" in event
    assert_chart_drawn(page, "summary")
    screenshot(page, "commune")

    # The same page in English, figures written the English way.
    page.select_option("#language-select", "en")
    page.wait_for_selector("text=Hand-overs held here")
    assert "Cards and books of the people who live here" in page.inner_text("body")
    assert_chart_drawn(page, "summary")
    screenshot(page, "commune-en")

    with page.expect_download() as download:
        page.click("#table-handovers >> text=Export to Excel")
    rows = xlsx_rows(download.value.path().read_bytes())
    assert rows[0][:2] == ["Date", "Hand-over"]
    assert rows[1][3:] == [45, 10, 55]

    # Printed: the figures without the filters, the page links or the buttons.
    page.emulate_media(media="print")
    assert not page.locator(".dashboard-filters").is_visible()
    assert not page.locator(".export").first.is_visible()
    assert page.locator(".print-only").is_visible()
    assert page.locator("#table-handovers table").is_visible()


def test_the_other_pages_draw_their_charts(demo, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    for name, chart in (("sponsors", "sponsors"), ("timeline", "weeks"), ("attention", None)):
        page.goto(f"/dashboards/{name}/")
        page.wait_for_selector(".dashboard-table")
        if chart:
            assert_chart_drawn(page, chart)
        screenshot(page, name)
    # The list of late items names Lào Cai's 555 cards.
    assert "555" in page.inner_text("#table-overdue")
