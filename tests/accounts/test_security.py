"""Signing in: throttling, two-factor authentication, session expiry, CSP."""

import datetime
import re

import pytest
from axes.utils import reset
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.security import client_ip
from tests.helpers import PROJECT_DIR, run_manage
from tests.test_settings import PRODUCTION

pytestmark = pytest.mark.django_db

USERNAME = "canbo.laocai"
PASSWORD = "Hop-Thanh-16-01-2024"
LOCKED_MESSAGE = "Too many failed sign-in attempts for this account from your address."


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        USERNAME, password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED = True
    # Each wrong code otherwise makes the next one wait a second or more.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def sign_in(client, password=PASSWORD, *, language="en", address="127.0.0.1", **fields):
    return client.post(
        reverse("admin:login"),
        {"username": USERNAME, "password": password, "next": "/admin/", **fields},
        HTTP_ACCEPT_LANGUAGE=language,
        REMOTE_ADDR=address,
    )


def fail_until_locked(client, settings, *, language="en"):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong-password", language=language).status_code == 200
    return sign_in(client, "wrong-password", language=language)


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def is_signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# Throttling


@pytest.mark.parametrize("language", ["vi", "en"])
def test_five_wrong_passwords_lock_the_sign_in_with_a_message_in_the_users_language(
    client, settings, staff, language
):
    assert settings.AXES_FAILURE_LIMIT == 5
    response = fail_until_locked(client, settings, language=language)
    assert response.status_code == 429
    page = response.content.decode()
    assert f'<html lang="{language}"' in page
    assert 'id="site-name"' in page  # in the admin's look
    with translation.override(language):
        assert gettext(LOCKED_MESSAGE) in page
    # Until when, in Vietnam's time: 30 minutes from now.
    unlocked_at = timezone.localtime() + datetime.timedelta(minutes=30)
    assert any(
        (unlocked_at + datetime.timedelta(minutes=m)).strftime("%H:%M, %d/%m/%Y") in page
        for m in (-1, 0)
    )


def test_a_locked_user_cannot_sign_in_even_with_the_right_password_until_reset(
    client, settings, staff
):
    fail_until_locked(client, settings)
    response = sign_in(client)
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert not is_signed_in(client)

    reset(username=USERNAME)
    response = sign_in(client)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_lock_holds_one_username_at_one_address(client, settings, staff):
    fail_until_locked(client, settings)
    assert sign_in(client, address="203.0.113.7").status_code == 302


def test_a_right_password_clears_the_earlier_failures(client, settings, staff):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong-password")
    assert sign_in(client).status_code == 302
    client.logout()
    assert sign_in(client, "wrong-password").status_code == 200


def test_the_address_is_remote_addr_unless_a_proxy_is_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20"
    )
    assert settings.TRUST_X_FORWARDED_FOR is False
    assert client_ip(request) == "10.0.0.5"

    settings.TRUST_X_FORWARDED_FOR = True
    # The last entry is the one our proxy appended; the first may be forged.
    assert client_ip(request) == "198.51.100.20"
    request.META["HTTP_X_FORWARDED_FOR"] = "not-an-address"
    assert client_ip(request) == "10.0.0.5"


def test_the_limits_come_from_the_environment():
    printed = (
        "from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME, settings.OTP_REQUIRED)"
    )
    result = run_manage(
        "shell",
        "--verbosity=0",
        "-c",
        printed,
        env=PRODUCTION | {"AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "10"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "0:10:00", "True"]

    result = run_manage("check", env=PRODUCTION | {"AXES_FAILURE_LIMIT": "many"})
    assert "AXES_FAILURE_LIMIT='many' is not a whole number" in result.stderr


# Two-factor authentication


def test_in_development_the_admin_asks_only_for_the_password(client, settings, staff):
    assert settings.OTP_REQUIRED is False
    assert 'name="otp_token"' not in client.get(reverse("admin:login")).content.decode()
    assert sign_in(client).status_code == 302
    assert is_signed_in(client)


def test_with_otp_required_staff_without_a_device_enrol_and_then_get_in(
    client, otp_required, staff
):
    login_page = client.get(reverse("admin:login")).content.decode()
    assert 'name="otp_token"' in login_page

    # The password alone signs in, but does not open the admin: enrol first.
    assert sign_in(client).status_code == 302
    assert not is_signed_in(client)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/account/two-factor/?next=%2Fadmin%2F"

    page = response.content.decode()
    assert "<svg" in page and "<img" not in page
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    # Reloading shows the same device, not a new one.
    client.get("/account/two-factor/")
    assert TOTPDevice.objects.filter(user=staff).count() == 1

    code = current_code(device)
    response = client.post(
        "/account/two-factor/",
        {"token": another_code(code), "next": "/admin/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not is_signed_in(client)

    response = client.post(
        "/account/two-factor/", {"token": current_code(device), "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response.url == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert is_signed_in(client)


def test_with_otp_required_staff_with_a_device_need_its_code(client, otp_required, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    response = sign_in(client)
    assert response.status_code == 200
    assert "Enter the code from your authenticator app." in response.content.decode()
    assert not is_signed_in(client)

    response = sign_in(client, otp_token=another_code(current_code(device)))
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert not is_signed_in(client)

    assert sign_in(client, otp_token=current_code(device)).status_code == 302
    assert is_signed_in(client)


def test_the_enrolment_page_needs_a_sign_in_and_sends_enrolled_users_on(
    client, otp_required, staff
):
    response = client.get("/account/two-factor/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))

    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client.force_login(staff)
    response = client.get("/account/two-factor/?next=https://evil.example/")
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert TOTPDevice.objects.filter(user=staff).count() == 1


# Sessions


def test_a_login_lasts_session_cookie_age_after_the_last_request(client, settings, staff):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    sign_in(client)

    session = Session.objects.get()
    # Nearly expired: a request now gives it its whole age again, cookie included.
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(seconds=10))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    session.refresh_from_db()
    remaining = session.expire_date - timezone.now()
    assert remaining > datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)

    # SESSION_COOKIE_AGE without a request: signed out.
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# Content-Security-Policy and passwords in production


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_development_reports_the_policy_without_enforcing_it(client):
    response = client.get(reverse("admin:login"))
    assert "Content-Security-Policy" not in response.headers
    assert directives(response.headers["Content-Security-Policy-Report-Only"])["script-src"] == [
        "'self'"
    ]


def test_production_enforces_a_policy_without_inline_scripts():
    # The page as production serves it, but for the static files' manifest, which
    # only `collectstatic` writes.
    fetch = (
        "from django.test import Client, override_settings\n"
        "storage = 'django.contrib.staticfiles.storage.StaticFilesStorage'\n"
        "with override_settings(STORAGES={'staticfiles': {'BACKEND': storage}}):\n"
        "    r = Client().get('/admin/login/', secure=True, HTTP_HOST='bhxh.example.gov.vn')\n"
        "print(r.status_code)\n"
        "print(r.headers['Content-Security-Policy'])\n"
        "print('Content-Security-Policy-Report-Only' in r.headers)\n"
    )
    result = run_manage("shell", "--verbosity=0", "-c", fetch, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    status, policy, report_only = result.stdout.strip().splitlines()
    assert status == "200"
    assert report_only == "False"
    policy = directives(policy)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_no_template_of_ours_has_an_inline_script():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = [
        f"{path.relative_to(PROJECT_DIR)}: {match.group(0)}"
        for path in (PROJECT_DIR / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_production_wants_passwords_of_twelve_characters_or_more():
    check = (
        "from django.contrib.auth.password_validation import validate_password; "
        "validate_password('Lao-Cai-24')"
    )
    result = run_manage("shell", "--verbosity=0", "-c", check, env=PRODUCTION)
    assert result.returncode != 0
    assert "at least 12 characters" in result.stderr


def test_the_language_switch_works_through_a_static_script(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert '<select id="language-select" name="language">' in page
    assert "/static/js/language-switch.js" in page
    assert (PROJECT_DIR / "static" / "js" / "language-switch.js").is_file()
