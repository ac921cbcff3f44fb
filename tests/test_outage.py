"""What counts as the database being unreachable, and probes that never depend on it.

The site's answers while PostgreSQL is down or silent are tested over HTTP in
tests/integrity/test_database_restart.py and test_database_unreachable.py.
"""

import pytest
from django.db import OperationalError, connection, transaction
from django.db.utils import ConnectionHandler
from django.test import Client

from tests.integrity.private_postgres import free_port
from vss_program.outage import connection_failure

SESSION_COOKIE = "sessionid=" + "s" * 32


def test_the_probes_read_no_session_even_with_a_logins_cookie():
    # No django_db mark: pytest-django refuses any query, so a 200 proves there was none.
    response = Client(HTTP_COOKIE=SESSION_COOKIE).get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_probes_still_need_a_host_from_allowed_hosts():
    assert Client().get("/healthz", HTTP_HOST="probe.example").status_code == 400


@pytest.mark.django_db
def test_a_refused_connection_is_an_outage():
    closed = ConnectionHandler(
        {"default": {**connection.settings_dict, "PORT": str(free_port()), "CONN_MAX_AGE": 0}}
    )
    with pytest.raises(OperationalError) as refused:
        closed["default"].ensure_connection()
    closed.close_all()
    assert connection_failure(refused.value) is refused.value
    # Also when another error was raised from it.
    try:
        try:
            raise refused.value
        except OperationalError as error:
            raise ValueError("after the connection failed") from error
    except ValueError as later:
        assert connection_failure(later) is refused.value


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "SET LOCAL statement_timeout = 1; SELECT pg_sleep(1)",
        "SET LOCAL lock_timeout = 1; LOCK TABLE django_session",
    ],
)
def test_a_statement_timeout_or_a_lock_not_granted_is_no_outage(statement):
    holder = ConnectionHandler({"default": {**connection.settings_dict, "CONN_MAX_AGE": 0}})
    try:
        with holder["default"].cursor() as locking:
            locking.execute("BEGIN; LOCK TABLE django_session")
            with pytest.raises(OperationalError) as failed:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement)
    finally:
        holder.close_all()
    assert failed.value.__cause__.pgcode in ("57014", "55P03")
    assert connection_failure(failed.value) is None
