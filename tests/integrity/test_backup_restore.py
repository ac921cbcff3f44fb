"""A nightly backup restores to the same figures: ``pg_dump -Fc``, then ``pg_restore``.

The demo data (the Lào Cai case and Hà Giang) is dumped from the test
database and restored into a new one, which a new process then reads as the
site would after a restore: every table's rows, the dashboards' figures for a
superuser and the tally of items must be those of the original.
"""

import json
import subprocess

import pytest
from django.db import connection

from accounts.models import User
from distributions.demo import demo_load
from tests.dashboards.pages import body_rows, number, row_of
from tests.helpers import run_manage

from . import postgres
from .snapshot import as_json, snapshot

SUPERUSER = "backup-check"
SEVEN_SPONSORS = {"Agribank", "BIDV", "MB", "PVI", "Vietcombank", "VietinBank", "Vietnam Post"}
# Timeouts far above the few seconds each step takes, so a hung tool fails the test.
TOOL_TIMEOUT_S = 120


@pytest.fixture
def restored_database(committed_reference_data):
    """Return the name of a scratch database beside the test database; drop it after."""
    name = f"{connection.settings_dict['NAME']}_restored"
    postgres.create_database(name)
    yield name
    postgres.drop_database(name)


def run_tool(*command: str) -> None:
    result = subprocess.run(
        command, env=postgres.libpq_env(), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"


def test_a_restored_dump_gives_the_same_figures(restored_database, tmp_path):
    demo_load()
    User.objects.create_superuser(SUPERUSER, password="Backup-check-2024")
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "vss.dump"

    # Dumped before either side signs in, so both hold the same rows when compared.
    run_tool(postgres.tool("pg_dump"), "--format=custom", "--file", str(dump), source)
    run_tool(
        postgres.tool("pg_restore"),
        "--exit-on-error",
        "--no-owner",
        "--dbname",
        restored_database,
        str(dump),
    )
    original = as_json(snapshot(SUPERUSER))

    env = {"DATABASE_URL": postgres.database_url(restored_database), "DEBUG": "true"}
    for check in (["check", "--database", "default"], ["migrate", "--check"]):
        result = run_manage(*check, env=env, timeout=TOOL_TIMEOUT_S)
        assert result.returncode == 0, (check, result.stdout, result.stderr)
    script = (
        "import json; from django.test.utils import setup_test_environment; "
        "setup_test_environment(); from tests.integrity.snapshot import as_json, snapshot; "
        f"print(json.dumps(as_json(snapshot({SUPERUSER!r}))))"
    )
    result = run_manage("shell", "--no-imports", "-c", script, env=env, timeout=TOOL_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    restored = json.loads(result.stdout.strip().splitlines()[-1])

    # The figures compared are the demo's: the article's 600 cards of Lào Cai, seven sponsors.
    provinces = original["pages"]["overview"]["provinces"]
    assert (
        number(row_of(provinces, "Tỉnh Lào Cai")["Health-insurance cards: Issued"]["text"]) == 600
    )
    sponsors = {row[0] for row in body_rows(original["pages"]["sponsors"]["sponsors"])}
    assert SEVEN_SPONSORS <= sponsors, sponsors
    assert original["row_digests"]["distributions_item"][0] == 820
    assert original["tally_differences"] == []

    for page, tables in original["pages"].items():
        assert restored["pages"][page].keys() == tables.keys(), page
        for name, table in tables.items():
            assert body_rows(restored["pages"][page][name]) == body_rows(table), (page, name)
    # Links too: ids, and so every figure's link to the admin's list, survive the restore.
    assert restored["pages"] == original["pages"]
    assert restored["tally_differences"] == []
    assert restored["row_digests"] == original["row_digests"]
