"""The hand-over minutes as a browser shows and prints them."""

import unicodedata

import pytest
from pypdf import PdfReader

from distributions.models import Item
from distributions.services import CardDetails, item_deliver, item_issue
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_handover,
    make_plan,
    make_pledge,
    make_quota,
    unit,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def hop_thanh_event(committed_reference_data):
    plan = make_plan(number="4033/KH-BHXH")
    quota = make_quota(plan, unit("2024", "080"), 600, 50)
    pledge = make_pledge(plan, cards=100)
    event = make_handover(plan, title="Trao tặng thẻ BHYT tại xã Hợp Thành")
    for index in range(45):
        name = "Lương Thị Trúc" if index == 0 else f"Người Nhận {index:02d}"
        item = item_issue(
            beneficiary=make_beneficiary(full_name=name),
            quota=quota,
            pledge=pledge,
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            handover=event,
            actor=None,
        )
        item_deliver(
            item=item, delivered_on=JAN_2024, method=Item.DeliveryMethod.CEREMONY, actor=None
        )
    return event


def test_the_minutes_print_on_a4_pages_with_every_recipient(
    hop_thanh_event, browser_page, tmp_path
):
    page = browser_page
    page.goto(f"/admin/distributions/handover/{hop_thanh_event.pk}/minutes/")
    body = page.inner_text("body")
    assert "BIÊN BẢN BÀN GIAO" in body.upper()
    assert "Lương Thị Trúc" in body
    assert "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai" in body
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    pdf = tmp_path / "bien-ban.pdf"
    page.pdf(path=pdf, format="A4", print_background=False)
    reader = PdfReader(pdf)
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    # A4 is 595.3 x 841.9 points; Chromium rounds to whole CSS pixels.
    assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2
    # PDF text comes back with spaces inside Vietnamese syllables: compare without spaces.
    text = unicodedata.normalize(
        "NFC", "".join("".join(p.extract_text().split()) for p in reader.pages)
    )
    assert "NgườiNhận44" in text and "LươngThịTrúc" in text
    assert len(reader.pages) >= 2  # 45 rows and the signature blocks run over a page
