"""A PostgreSQL server of one test's own, on a free TCP port, with its data in a temporary folder.

For tests that stop and start the database: never the server the rest of the suite
uses.  PostgreSQL's own binaries (Debian's ``/usr/lib/postgresql/<version>/bin``,
else those in the ``pgserver`` wheel); as root, the server runs as an ordinary user,
since PostgreSQL refuses to run as root.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg2

from .postgres import bundled_binaries, create_database_through

# Far above the second or two each step takes: a hung tool fails the test.
TOOL_TIMEOUT_S = 60
# Settings for a throw-away server: nothing it writes needs to survive a crash of the
# machine (a stop, fast or not, still writes everything out).
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
    "-c synchronous_commit=off -c max_connections=40 -c shared_buffers=32MB"
)


def _binaries() -> Path:
    debian = sorted(
        (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    bundled = bundled_binaries()
    for folder in [*debian, *([bundled] if bundled else [])]:
        if (folder / "pg_ctl").is_file() and (folder / "initdb").is_file():
            return folder
    raise AssertionError("no PostgreSQL binaries (initdb, pg_ctl) found")


def _system_user() -> pwd.struct_passwd | None:
    """Return the user the server runs as when this process is root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise AssertionError("running as root and no 'postgres' user to run PostgreSQL as")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateServer:
    """initdb, start, stop and start again one server, always on the same port and data."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.bin = _binaries()
        self.user = _system_user()

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        # As the server's user: pg_ctl, like postgres, refuses to run as root.
        owner = {} if self.user is None else {"user": self.user.pw_uid, "group": self.user.pw_gid}
        result = subprocess.run(
            [str(self.bin / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            cwd=self.root,
            **owner,
        )
        assert result.returncode == 0 or not check, (
            f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
        )
        return result

    def init(self) -> None:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o755)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} {SERVER_SETTINGS}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "30", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def postmaster(self) -> psutil.Process | None:
        """Return the server's main process while it runs, else None."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            process = psutil.Process(pid)
        except (OSError, IndexError, ValueError, psutil.NoSuchProcess):
            return None
        return process if process.name() in ("postgres", "postmaster") else None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        link = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5
        )
        link.autocommit = True
        return link

    def create_database(self, name: str) -> None:
        create_database_through(self.connect(), name)

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def destroy(self) -> None:
        """Stop the server (at once: its data is thrown away) and remove its folder."""
        try:
            if (postmaster := self.postmaster()) is not None:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                          check=False)  # fmt: skip
                try:
                    postmaster.wait(timeout=TOOL_TIMEOUT_S)
                except psutil.TimeoutExpired:
                    postmaster.kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_server() -> Iterator[PrivateServer]:
    """Yield a running server of this test's own; stop it and remove its data on the way out."""
    # Not pytest's tmp_path: its parent folders are closed to the server's user.
    root = Path(tempfile.mkdtemp(prefix="vss_fault_pg_"))
    try:
        server = PrivateServer(root)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()
