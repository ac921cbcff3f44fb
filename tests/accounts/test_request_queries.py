"""What every signed-in request costs: the session saved in one statement, permissions in one."""

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import ModelBackend
from accounts.models import User
from accounts.roles import Role
from tests.factories import make_user, unit
from vss_program.sessions import SessionStore


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
def test_a_session_is_saved_again_in_one_statement(client):
    user = User.objects.create_user("someone", password="pw-someone-2024", is_staff=True)
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/healthz").status_code == 200
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    # The session read, the user (for the request's log line), the session saved: no
    # BEGIN ... COMMIT around the UPDATE.
    assert statements == ["SELECT", "SELECT", "UPDATE"]
    assert 'UPDATE "django_session"' in captured.captured_queries[-1]["sql"]

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
