"""Dashboards read from the replica (DATABASE_REPLICA_URL); the admin's lists, the primary.

The replica here is a copy of the test database (pg_dump, pg_restore) whose
tally is then made to differ, so a figure tells which database it came from.
"""

import json
import subprocess

import pytest
from django.db import connection

from tests.helpers import run_manage
from tests.worlds import two_provinces

from . import postgres

TIMEOUT_S = 120
SCRIPT = """
import json
from django.db import connections
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User
from tests.dashboards.pages import html_tables, number, row_of

setup_test_environment()
client = Client()
client.force_login(User.objects.get(username="tw"))
page = client.get("/dashboards/", HTTP_ACCEPT_LANGUAGE="en")
lao_cai = row_of(html_tables(page.content)["provinces"], "Tỉnh Lào Cai")
listed = client.get("/admin/distributions/item/")
print(json.dumps({
    "dashboard": number(lao_cai["Health-insurance cards: Issued"]["text"]),
    "admin": listed.context["cl"].queryset.count(),
    "aliases": sorted(connections.settings),
}))
"""


@pytest.fixture
def replica(committed_reference_data, tmp_path):
    """Return the name of a copy of the test database, dropped after the test."""
    two_provinces()
    name = f"{connection.settings_dict['NAME']}_replica"
    postgres.create_database(name)
    dump = tmp_path / "copy.dump"
    for command in (
        [postgres.tool("pg_dump"), "--format=custom", "--file", str(dump)],
        [postgres.tool("pg_restore"), "--exit-on-error", "--no-owner", "--dbname", name],
    ):
        target = connection.settings_dict["NAME"] if "pg_dump" in command[0] else str(dump)
        result = subprocess.run(
            [*command, target],
            env=postgres.libpq_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        assert result.returncode == 0, result.stderr
    yield name
    postgres.drop_database(name)


def test_dashboards_read_the_replica_and_the_admin_the_primary(replica):
    link = postgres.connect(replica)
    try:
        with link.cursor() as cursor:
            cursor.execute("UPDATE distributions_itemtally SET items = items * 100")
    finally:
        link.close()
    env = {
        "DATABASE_URL": postgres.database_url(connection.settings_dict["NAME"]),
        "DATABASE_REPLICA_URL": postgres.database_url(replica),
        "DEBUG": "true",
    }
    result = run_manage("shell", "--no-imports", "-c", SCRIPT, env=env, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["aliases"] == ["default", "replica"]
    assert seen["dashboard"] == 2 * 100  # Lào Cai's two cards, as the replica counts them
    assert seen["admin"] == 3  # every card, listed from the primary
