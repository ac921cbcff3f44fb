"""The test database's server, as PostgreSQL's own tools and a new process reach it."""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg2
from django.db import connection
from psycopg2 import sql


def server() -> dict[str, str]:
    """Return host, port, user and password of the test database's server.

    Read from the backend's connection parameters rather than the settings: the
    embedded backend only knows its socket directory there.
    """
    params = connection.get_connection_params()
    return {name: str(params.get(name) or "") for name in ("host", "port", "user", "password")}


def database_url(name: str) -> str:
    """Return a DATABASE_URL for database ``name`` on the test database's server."""
    where = server()
    credentials = quote(where["user"], safe="")
    if where["password"]:
        credentials += ":" + quote(where["password"], safe="")
    # A socket directory as host is percent-encoded, as dj-database-url reads it.
    netloc = (f"{credentials}@" if credentials else "") + quote(where["host"], safe="")
    if where["port"]:
        netloc += f":{where['port']}"
    return f"postgres://{netloc}/{quote(name, safe='')}"


def libpq_env() -> dict[str, str]:
    """Return this environment plus the variables that point pg_dump and co. at the server."""
    where = server()
    variables = {
        "PGHOST": where["host"],
        "PGPORT": where["port"],
        "PGUSER": where["user"],
        "PGPASSWORD": where["password"],
    }
    return os.environ | {name: value for name, value in variables.items() if value}


def _major(version_text: str) -> int:
    """Return the major version of ``pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)``."""
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", version_text)
    return int(found.group(1)) if found else 0


def bundled_binaries() -> Path | None:
    """Return the folder of the PostgreSQL binaries in the pgserver wheel, if installed."""
    # Found without importing pgserver, which warns about XDG_RUNTIME_DIR when imported.
    pgserver = importlib.util.find_spec("pgserver")
    return Path(pgserver.origin).parent / "pginstall" / "bin" if pgserver else None


def tool(name: str) -> str:
    """Return the path of PostgreSQL's ``name`` (pg_dump...) able to work with the server.

    pg_dump refuses a server newer than itself: the embedded server (pgserver's 16)
    needs pgserver's own binaries, a server of DATABASE_URL those of its version.
    """
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        wanted = int(cursor.fetchone()[0]) // 10000
    bundled = bundled_binaries()
    candidates = [
        Path(f"/usr/lib/postgresql/{wanted}/bin/{name}"),
        *([bundled / name] if bundled else []),
        *([Path(found)] if (found := shutil.which(name)) else []),
    ]
    seen = []
    for path in candidates:
        if not path.is_file():
            continue
        version = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, check=True
        ).stdout
        seen.append(f"{path}: {version.strip()}")
        if _major(version) >= wanted:
            return str(path)
    raise AssertionError(f"no {name} for PostgreSQL {wanted}; found {seen or 'none'}")


def connect(name: str):
    """Return a connection to database ``name`` on the server, each statement committed."""
    where = server()
    link = psycopg2.connect(dbname=name, **{key: value for key, value in where.items() if value})
    link.autocommit = True
    return link


def _maintenance():
    return connect("postgres")


def create_database(name: str) -> None:
    """Create database ``name`` afresh (dropping a copy a killed run left behind)."""
    drop_database(name)
    create_database_through(_maintenance(), name)


def create_database_through(link, name: str) -> None:
    """Create database ``name`` (UTF-8) through ``link``, a connection that is then closed."""
    try:
        with link.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(name)
                )
            )
    finally:
        link.close()


def drop_database(name: str) -> None:
    link = _maintenance()
    try:
        with link.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        link.close()
