import pytest
from django.core.management import call_command

from reference.models import Rate


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the reference data (units of both editions, rates) once into the test database."""
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


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
