"""What a restored backup must give back, read the same way from either database.

``snapshot`` runs in the test process against the test database and, through
``manage.py shell``, in a new process against the restored copy: one function,
so that both sides are read by the same code.
"""

import json

from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from distributions.services import item_tally_differences
from tests.dashboards.pages import html_tables

PAGES = ("overview", "sponsors")


def row_digests() -> dict[str, list]:
    """Return each table's number of rows and a digest of its rows in a fixed order.

    Digests rather than rows: the reference data alone is tens of thousands of rows.
    """
    contents = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            name = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f" FROM {name} AS t"
            )
            contents[table] = list(cursor.fetchone())
    return contents


def dashboard_tables(username: str) -> dict[str, dict]:
    """Return the tables of the dashboards' pages as ``username`` sees them (in English)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    pages = {}
    for page in PAGES:
        response = client.get(reverse(f"dashboards:{page}"), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (page, response.status_code)
        pages[page] = html_tables(response.content)
    return pages


def snapshot(username: str) -> dict:
    # The rows first: signing in writes a session.
    digests = row_digests()
    return {
        "row_digests": digests,
        "tally_differences": [list(row) for row in item_tally_differences()],
        "pages": dashboard_tables(username),
    }


def as_json(value) -> dict:
    """Return ``value`` as it comes back from the other process (dates, decimals as text)."""
    return json.loads(json.dumps(value, default=str))
