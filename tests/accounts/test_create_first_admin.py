import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def run_command(capsys) -> str:
    call_command("create_first_admin")
    return capsys.readouterr().out


def test_it_creates_an_admin_with_a_random_password_shown_once(capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    output = run_command(capsys)
    password = next(
        line.split(":", 1)[1].strip() for line in output.splitlines() if "password:" in line
    )
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert len(password) >= 16
    assert admin.check_password(password)

    again = run_command(capsys)
    assert "Administrator login exists: admin" in again
    assert password not in again
    assert User.objects.count() == 1


def test_two_first_runs_get_different_passwords(capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = run_command(capsys)
    User.objects.all().delete()
    second = run_command(capsys)
    assert first != second


def test_the_environment_chooses_the_name_and_password(capsys, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "quantri")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Lao-Cai-2024-Hop-Thanh")
    run_command(capsys)
    assert User.objects.get(username="quantri").check_password("Lao-Cai-2024-Hop-Thanh")


def test_an_existing_admin_keeps_their_password(capsys, monkeypatch):
    User.objects.create_superuser("giamdoc", password="kept-password-123")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-password-456")
    output = run_command(capsys)
    assert "Administrator login exists: giamdoc" in output
    assert User.objects.get(username="giamdoc").check_password("kept-password-123")
    assert User.objects.count() == 1
