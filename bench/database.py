"""The benchmarks' scratch databases: Django pointed at one, claimed, migrated, loaded.

Each benchmark works in a database of its own on the server of
DATABASES["default"] (the embedded one without DATABASE_URL): ``<name>_bench``
for the import, ``<name>_api_bench``, ``<name>_dash_bench``,
``<name>_admin_bench``.  It is created afresh and dropped at the end, or kept
with ``--keep`` and reused by a later run when ``reusable`` says its data fit;
it never touches a working database.  A run holds a connection to its database
throughout, and refuses to drop or reuse one that another run is using.

Nothing here imports Django at module level: the settings are read from the
environment only when asked, after a benchmark has set what it needs there.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

# One recipient in this many has no personal ID (unknown when recorded).
MISSING_ID_EVERY = 20


def django_settings():
    """Return Django's settings, read from the environment but not yet set up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vss_program.settings")
    from django.conf import settings

    return settings


def setup_django(database: str) -> None:
    """Point Django at the bench database, then set it up (the parent and every child).

    DEBUG is turned off as in production: it would keep the last 9,000 queries.
    """
    import django

    settings = django_settings()
    settings.DATABASES["default"]["NAME"] = database
    settings.DEBUG = False
    django.setup()


def connect(dbname: str):
    """Return an autocommit psycopg2 connection to ``dbname`` on the settings' server."""
    import psycopg2

    settings = django_settings()
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "vss_program.embedded_postgres":
        from vss_program.embedded_postgres.server import ensure_server

        socket_dir = ensure_server(
            Path(settings.EMBEDDED_POSTGRES_DIR), settings.EMBEDDED_POSTGRES_DATABASE
        )
        params = {"host": str(socket_dir), "user": "postgres"}
    else:
        params = {
            key: database[name]
            for key, name in (("host", "HOST"), ("port", "PORT"), ("user", "USER"))
            if database.get(name)
        }
        if database.get("PASSWORD"):
            params["password"] = database["PASSWORD"]
    connection = psycopg2.connect(dbname=dbname, **params)
    connection.autocommit = True
    return connection


def _fetch_one(database: str, sql: str):
    """Return the first column of the first row ``sql`` answers in ``database``."""
    connection = connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]
    finally:
        connection.close()


class BenchDatabase:
    """The bench database, held by an idle connection for as long as the run lasts.

    Two runs against one server would otherwise drop each other's database:
    a run refuses to drop (or reuse) one that has connections.
    """

    def __init__(self, name: str):
        self.name = name
        self._claim = None

    def _admin(self, statement: str | None = None):
        """Run ``statement`` (formatted with the quoted name) in ``postgres``; return
        the number of connections to the bench database first seen."""
        from psycopg2 import sql

        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.name]
                )
                (in_use,) = cursor.fetchone()
                if statement and not in_use:
                    cursor.execute(sql.SQL(statement).format(sql.Identifier(self.name)))
                return in_use
        finally:
            connection.close()

    def exists(self) -> bool:
        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
                return cursor.fetchone() is not None
        finally:
            connection.close()

    def claim(self, *, create: bool) -> None:
        """Create the database afresh (or reuse it), then hold a connection to it."""
        if self._admin("DROP DATABASE IF EXISTS {}" if create else None):
            raise SystemExit(
                f"The database {self.name} is in use, perhaps by another run of this "
                "benchmark: wait for it to end."
            )
        if create:
            self._admin("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0")
        self._claim = connect(self.name)

    def release(self) -> None:
        if self._claim is not None:
            self._claim.close()
            self._claim = None

    def drop(self) -> bool:
        """Let go of the database and drop it; return False when others still use it."""
        self.release()
        return not self._admin("DROP DATABASE IF EXISTS {}")


def open_database(
    name: str, *, keep: bool, reusable: Callable[[str], bool]
) -> tuple[BenchDatabase, bool]:
    """Claim the bench database ``name``: kept from an earlier run when ``keep`` and
    ``reusable(name)`` say so, else created afresh.  Return it and whether it was reused."""
    database = BenchDatabase(name)
    reuse = False
    if keep and database.exists():
        database.claim(create=False)
        reuse = reusable(name)
        if not reuse:
            database.release()
    if not reuse:
        database.claim(create=True)
    print(f"Database {database.name}: {'reused' if reuse else 'created'}", flush=True)
    return database, reuse


def add_database_arguments(parser, *, reused_when: str) -> None:
    """Add --keep (also --keep-db) and --load-only to a benchmark's arguments."""
    parser.add_argument(
        "--keep",
        "--keep-db",
        action="store_true",
        help=f"keep the bench database afterwards; reuse it when {reused_when}",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="create and load the database, measure nothing"
    )


def in_database(
    suffix: str, *, keep: bool, reusable: Callable[[str], bool], run: Callable[[str, bool], int]
) -> int:
    """Run ``run(name, reused)`` on the bench database ``<name>_<suffix>`` beside the
    configured one (open_database), then close it, dropping it unless ``keep``."""
    database, reuse = open_database(
        f"{django_settings().DATABASES['default']['NAME']}_{suffix}", keep=keep, reusable=reusable
    )
    try:
        return run(database.name, reuse)
    finally:
        close_database(database, keep=keep)


def close_database(database: BenchDatabase, *, keep: bool) -> None:
    """Close Django's connections to the bench database, then drop it unless ``keep``."""
    from django.db import connections

    connections.close_all()
    if keep:
        database.release()
    elif database.drop():
        print(f"Database {database.name} dropped.")
    else:
        print(f"Database {database.name} left in place: something else is connected.")


def prepare_schema(*, reference_data: bool) -> None:
    """Migrate the bench database (Django set up on it); load the reference data if asked."""
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if reference_data:
        call_command("load_reference_data", verbosity=0)
    print(f"Schema and reference data: {time.perf_counter() - start:.1f} s", flush=True)


def load_recipients(
    database: str, count: int, *, missing_id_every: int = MISSING_ID_EVERY
) -> float:
    """Write ``count`` recipients into the empty table, then vacuum it; return the seconds.

    The demo generator's recipients (beneficiaries.demo), all recorded in the
    last half-year, none recorded twice, one in ``missing_id_every`` without a
    personal ID.  Django must be set up on ``database``: the loader writes there.
    """
    from django.conf import settings
    from django.utils import timezone

    from beneficiaries.demo import recipients_load
    from reference import bulk

    if settings.DATABASES["default"]["NAME"] != database:
        raise SystemExit(f"Django is set up on another database than {database}.")
    start = time.perf_counter()
    recipients_load(
        count,
        recorded_by=[timezone.localdate()],
        missing_id_every=missing_id_every,
        duplicate_every=None,
    )
    print(f"  {count:,} recipients inserted in {time.perf_counter() - start:.1f} s", flush=True)
    vacuum_start = time.perf_counter()
    bulk.vacuum("beneficiaries_beneficiary", freeze=True)
    # The reference tables were just loaded too; autovacuum may not have seen them.
    bulk.vacuum()
    print(f"  vacuumed and analysed in {time.perf_counter() - vacuum_start:.1f} s")
    return time.perf_counter() - start


def recipient_count(database: str) -> int | None:
    """Return the number of recipients in ``database``; None when it has no such table."""
    from psycopg2 import errors

    try:
        return _fetch_one(database, "SELECT count(*) FROM beneficiaries_beneficiary")
    except errors.UndefinedTable:
        return None


def busiest_province() -> str:
    """Return the code of the province with the most recipients (the heaviest filter).

    One aggregate over every recipient (Django set up on the bench database).
    """
    from django.db.models import Count

    from beneficiaries.models import Beneficiary

    row = (
        Beneficiary.objects.values("province__code").annotate(n=Count("pk")).order_by("-n").first()
    )
    return row["province__code"]


def postgres_version(database: str) -> str:
    """Return the server's version, as ``SHOW server_version`` gives it."""
    return _fetch_one(database, "SHOW server_version")
