import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from reference.models import Rate


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data (units of both editions, rates) once into the test database."""
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


@pytest.fixture(autouse=True)
def english_messages():
    """Messages in English unless a test asks otherwise; requests still pick their own."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def committed_reference_data(transactional_db):
    """Reference data for tests on a transactional database (a live server, races).

    pytest-django runs these tests after all the others and empties every table
    after each, so the units are loaded again when they are missing.
    """
    if not Rate.objects.exists():
        call_command("load_reference_data", verbosity=0)


CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
STAFF = ("canbo", "Mat-khau-2024")


@pytest.fixture
def staff_login(committed_reference_data, django_user_model):
    django_user_model.objects.create_superuser(STAFF[0], password=STAFF[1])
    return STAFF


@pytest.fixture
def browser_page(staff_login, live_server):
    """A page of Debian's Chromium, signed in to the admin of a live server.

    Playwright's sync API runs an event loop in this thread, after which Django
    refuses ORM calls here: a test makes every row it needs in fixtures listed
    before this one.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(locale="vi-VN", base_url=live_server.url).new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", staff_login[0])
        page.fill("#id_password", staff_login[1])
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        yield page
        browser.close()
