"""What every signed-in request costs: the session saved in one statement once a minute at
most, permissions in one query."""

from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.backends import ModelBackend
from accounts.models import User
from accounts.roles import Role
from tests.factories import make_user, unit
from vss_program.sessions import REFRESH_AFTER, SessionStore


@pytest.mark.django_db
def test_a_users_permissions_are_djangos_read_in_one_query():
    user = make_user(
        "laocai",
        unit("2025", "15"),
        role=Role.PROVINCIAL_STAFF,
        codes=["audit.view_beneficiaryevent"],
    )
    expected = DjangoModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert (
        "audit.view_beneficiaryevent" in expected and "beneficiaries.view_beneficiary" in expected
    )
    fresh = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert fresh.has_perm("beneficiaries.view_beneficiary")
        assert not fresh.has_perm("auth.change_user")
        assert fresh.get_all_permissions() == expected
    assert len(captured) == 1
    assert ModelBackend().get_all_permissions(User(is_active=False)) == set()


@pytest.mark.django_db
def test_a_superuser_and_an_inactive_user_keep_djangos_answers(admin_user):
    assert ModelBackend().get_all_permissions(
        admin_user
    ) == DjangoModelBackend().get_all_permissions(User.objects.get(pk=admin_user.pk))
    inactive = make_user("gone", role=Role.PROVINCIAL_STAFF)
    inactive.is_active = False
    assert not inactive.has_perm("beneficiaries.view_beneficiary")


@pytest.mark.django_db(transaction=True)
def test_a_session_is_saved_again_in_one_statement_once_a_minute(client):
    user = User.objects.create_user("someone", password="pw-someone-2024", is_staff=True)
    client.force_login(user)
    key = client.session.session_key

    def session_statements() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/password_change/").status_code == 200
        sql = [q["sql"] for q in captured.captured_queries]
        assert not [s for s in sql if s.split()[0] in {"BEGIN", "COMMIT", "SAVEPOINT"}]
        return [s.split()[0] for s in sql if '"django_session"' in s]

    # Signed in a moment ago: the session is read, not written.
    assert session_statements() == ["SELECT"]
    # Its expiry was pushed back over a minute ago: one UPDATE, no BEGIN ... COMMIT.
    Session.objects.filter(pk=key).update(expire_date=F("expire_date") - REFRESH_AFTER)
    before = Session.objects.get(pk=key).expire_date
    assert session_statements() == ["SELECT", "UPDATE"]
    assert Session.objects.get(pk=key).expire_date >= before + REFRESH_AFTER
    # An expiry later than a login now lasts (SESSION_COOKIE_AGE lowered) is brought forward.
    Session.objects.filter(pk=key).update(expire_date=F("expire_date") + timedelta(days=1))
    assert session_statements() == ["SELECT", "UPDATE"]
    assert Session.objects.get(pk=key).expire_date < before + timedelta(days=1)
    # Changed data are saved however recent the expiry.
    store = SessionStore(session_key=key)
    store["seen"] = 1
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["UPDATE"]

    # A session deleted meanwhile (signed out in another tab) is not written back.
    store = SessionStore()
    store["seen"] = 1
    store.save()  # a new session: Django's INSERT
    assert Session.objects.filter(session_key=store.session_key).exists()
    Session.objects.filter(session_key=store.session_key).delete()
    store["seen"] = 2
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()
