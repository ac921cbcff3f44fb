"""The "Show the full number" link as a browser runs it: a static script, no inline one."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from audit.models import BeneficiaryAccessEvent
from tests.factories import make_beneficiary

pytestmark = pytest.mark.browser


def _accesses_to(pk: int) -> int:
    try:
        return BeneficiaryAccessEvent.objects.filter(pgh_obj_id=pk).count()
    finally:
        connections.close_all()


@pytest.fixture
def truc(committed_reference_data):
    return make_beneficiary(full_name="Lương Thị Trúc", personal_id="010175000123", birth_year=1975)


def test_the_link_shows_the_full_number_in_place_and_the_reveal_is_recorded(truc, browser_page):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/admin/beneficiaries/beneficiary/{truc.pk}/change/")
    masked = page.locator("#id_personal_id_masked")
    assert masked.inner_text() == "********0123"
    assert page.input_value("#id_personal_id") == ""
    page.click("a[data-reveal-target]")
    page.wait_for_function(
        "document.getElementById('id_personal_id_masked').textContent === '010175000123'"
    )
    assert page.locator("a[data-reveal-target]").count() == 0
    assert errors == []
    # Playwright runs an event loop in this thread, where Django refuses ORM calls.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_accesses_to, truc.pk).result() == 1
