import json
import threading
import warnings
from pathlib import Path

import psutil
import psycopg2
from psycopg2 import errors, sql

# pgserver asks platformdirs for a runtime folder only for its lock file; the
# fallback under /tmp is fine, so the warning about XDG_RUNTIME_DIR is noise.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
import pgserver  # noqa: E402

_lock = threading.Lock()
_ready: dict[Path, pgserver.PostgresServer] = {}


def ensure_server(data_dir: Path, database: str) -> Path:
    """Return the socket directory of the running server, starting it if needed.

    Also creates ``database`` the first time; the bundled initdb only makes
    ``postgres``.
    """
    data_dir = data_dir.resolve()
    with _lock:
        server = _ready.get(data_dir)
        if server is None:
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            _forget_dead_holders(data_dir)
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
            _create_database(server.get_postmaster_info().socket_dir, database)
            _ready[data_dir] = server
        elif not server.get_postmaster_info().is_running():
            # Someone stopped or killed the server under us: start it again.
            server.ensure_postgres_running()
        return server.get_postmaster_info().socket_dir


def _forget_dead_holders(data_dir: Path) -> None:
    """Drop processes that died without saying so from pgserver's list of holders.

    A process killed outright never removes itself, and the server, waiting for
    it, would then never stop.  The list and its lock are pgserver's own.
    """
    holders = data_dir / ".handle_pids.json"
    with pgserver.PostgresServer._lock:
        if not holders.exists():
            return
        pids = json.loads(holders.read_text())
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            holders.write_text(json.dumps(alive))


def _create_database(socket_dir: Path, database: str) -> None:
    connection = psycopg2.connect(host=str(socket_dir), user="postgres", dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                try:
                    cursor.execute(
                        sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                            sql.Identifier(database)
                        )
                    )
                except errors.DuplicateDatabase:
                    pass  # another process created it between our check and now
    finally:
        connection.close()
