"""gunicorn serving the site in a test as in production, with witnesses of its workers.

The production settings (``gunicorn.conf.py``) are read as they are, plus two hooks:
each worker leaves a file once it has loaded the site, and notes each request it
served, in files, whatever the site does with logging.  The listening socket is
bound here and handed over by descriptor: no free port to guess, and requests sent
before a worker is ready wait in the backlog.
"""

import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR, manage_env

# Variables a developer's shell may set that would change what production does by default.
_NOT_PRODUCTION_DEFAULTS = (
    "CACHE_URL",
    "DATABASE_REPLICA_URL",
    "CONN_MAX_AGE",
    "DATABASE_CONNECT_TIMEOUT",
    "OTP_REQUIRED",
    "API_THROTTLE_RATE",
    "LOG_FORMAT",
    "PORT",
    "WEB_CONCURRENCY",
)
START_TIMEOUT_S = 60
# Far above what a stopping worker needs; then it is killed.
STOP_TIMEOUT_S = 30

CONFIG = """
import os
import runpy

globals().update(
    (name, value)
    for name, value in runpy.run_path({production!r}).items()
    if not name.startswith("_")
)
WITNESS = {witness!r}


def post_worker_init(worker):
    open(os.path.join(WITNESS, "ready-%d" % worker.pid), "w").close()


def post_request(worker, req, environ, resp):
    with open(os.path.join(WITNESS, "served-%d" % worker.pid), "a") as served:
        served.write("%s %s %s\\n" % (req.method, req.path, resp.status_code))
"""


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a production server (DEBUG off, JSON logs) on ``database_url``.

    Each process's own memory as cache (no Redis needed by the suite), HTTP without a
    redirect to HTTPS, only warnings and errors in the log.
    """
    env = manage_env(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in _NOT_PRODUCTION_DEFAULTS:
        env.pop(name, None)
    return env | extra


class Gunicorn:
    """A running gunicorn: its address, its workers, what they served, its log."""

    def __init__(self, base: str, process: subprocess.Popen, log: Path, witness: Path):
        self.base = base
        self.process = process
        self.log = log
        self.witness = witness

    def workers(self) -> set[int]:
        """Return the ids of the worker processes that have loaded the site."""
        return {int(path.name.split("-")[1]) for path in self.witness.glob("ready-*")}

    def served(self) -> dict[int, list[str]]:
        """Return, by worker, the requests it served: ``"METHOD /path STATUS"``."""
        return {
            int(path.name.split("-")[1]): path.read_text().splitlines()
            for path in self.witness.glob("served-*")
        }

    def pids_that_served(self, method: str, path: str) -> set[int]:
        return {
            pid
            for pid, lines in self.served().items()
            if any(line.rsplit(" ", 1)[0] == f"{method} {path}" for line in lines)
        }

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])

    def get(self, path: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        """Return the status and body of a GET, without following a redirect."""
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@contextmanager
def gunicorn(
    tmp_path: Path,
    env: dict[str, str],
    *,
    workers: int,
    ready_path: str = "/readyz",
    ready_headers: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Gunicorn]:
    """Serve the site with ``workers`` worker processes; stop them on the way out.

    Yielded once every worker has loaded the site and ``ready_path`` answers 200.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    host, port = listener.getsockname()
    log, witness, config = (tmp_path / name for name in ("gunicorn.log", "workers", "conf.py"))
    witness.mkdir()
    production = str(PROJECT_DIR / "gunicorn.conf.py")
    config.write_text(CONFIG.format(production=production, witness=str(witness)))
    command = [
        sys.executable, "-m", "gunicorn", "vss_program.wsgi:application",
        "--config", str(config), "--bind", f"fd://{listener.fileno()}",
        "--workers", str(workers), *args,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    server = Gunicorn(f"http://{host}:{port}", process, log, witness)
    try:
        _wait_until_ready(server, workers, ready_path, ready_headers or {})
        yield server
    finally:
        listener.close()
        process.terminate()  # the arbiter stops its workers gracefully
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(server: Gunicorn, workers: int, path: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    answer = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn stopped at start-up:\n{server.log_tail()}")
        if len(server.workers()) >= workers:
            try:
                answer = server.get(path, headers, timeout=START_TIMEOUT_S)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                answer = (None, str(error).encode())
            if answer[0] == 200:
                return
        time.sleep(0.2)
    pytest.fail(
        f"gunicorn did not answer {path} with 200 within {START_TIMEOUT_S} s "
        f"(last answer: {answer}):\n{server.log_tail()}"
    )
