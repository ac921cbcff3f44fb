"""The database stops and starts again under a running site: requests fail fast, then succeed.

A PostgreSQL server of this test's own (never the one the suite shares) is
migrated and given the reference data, a superuser with an authenticator app and
an API key; gunicorn serves it as in production (``gunicorn.conf.py``, two
workers, DEBUG off).  While the server is stopped (``pg_ctl stop -m fast``),
``/readyz`` answers 503 at once and pages and the API an error within seconds,
and no worker dies; once it is started again on the same port and data, every
request answers 200 within seconds, from the same workers, on the same login.
"""

import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import psutil
import pytest
import requests
from django_otp.oath import TOTP

from tests.helpers import PROJECT_DIR, manage_args, manage_env

from .private_postgres import PrivateServer, private_server

DATABASE = "vss_fault_restart"
WORKERS = 2
USERNAME = "restart-check"
PASSWORD = "Restart-check-2026"
TOTP_KEY = secrets.token_hex(20)
# A request slower than this counts as hung.
CLIENT_TIMEOUT_S = 5
# What the site promises while the database is down and after it is back.
NOT_READY_WITHIN_S = 2
FAILS_WITHIN_S = 3
RECOVERS_WITHIN_S = 10
SETUP_TIMEOUT_S = 120
START_TIMEOUT_S = 60

SETUP = f"""
from accounts.models import User
from accounts.roles import Role
from api.models import ApiClient
from api.services import api_client_create, api_key_issue
from django_otp.plugins.otp_totp.models import TOTPDevice

user = User.objects.create_superuser({USERNAME!r}, password={PASSWORD!r})
TOTPDevice.objects.create(user=user, name="phone", key={TOTP_KEY!r}, confirmed=True)
client = api_client_create(
    name="VSS", organisation=ApiClient.Organisation.HEAD_OFFICE,
    role=Role.NATIONAL_OFFICIAL, scopes=["read"], actor=None,
)
print(api_key_issue(client=client, actor=None)[1])
"""

# gunicorn's production settings, plus files that say which worker processes loaded
# the site and which served what.
GUNICORN_CONFIG = """
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
        served.write("%s %s\\n" % (req.path, resp.status_code))
"""


@dataclass
class Answer:
    path: str
    status: int
    seconds: float
    body: bytes


class Site:
    """gunicorn on a socket of ours, and the requests a browser and a partner system send."""

    def __init__(self, base: str, process: subprocess.Popen, log: Path, witness: Path):
        self.base = base
        self.process = process
        self.log = log
        self.witness = witness
        self.cookies: dict[str, str] = {}
        self.api_key = ""

    def workers(self) -> set[int]:
        return {int(path.name.split("-")[1]) for path in self.witness.glob("ready-*")}

    def served(self) -> dict[int, list[str]]:
        return {
            int(path.name.split("-")[1]): path.read_text().splitlines()
            for path in self.witness.glob("served-*")
        }

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])

    def request(self, path: str, method: str = "GET", signed_in=True, **kwargs) -> Answer:
        headers = {"Accept-Language": "en", **kwargs.pop("headers", {})}
        if self.cookies and signed_in:
            # Set as Secure (DEBUG off), which a client keeps to HTTPS: sent by hand here.
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        response = requests.request(
            method,
            self.base + path,
            headers=headers,
            timeout=CLIENT_TIMEOUT_S,
            allow_redirects=False,
            **kwargs,
        )
        seconds = time.monotonic() - started
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(path, response.status_code, seconds, response.content)

    def sign_in(self) -> None:
        """Sign in on the admin's page with the password and the authenticator's code."""
        page = self.request("/admin/login/")
        assert page.status == 200, (page.status, self.log_tail())
        token = self.cookies["csrftoken"]
        answer = self.request(
            "/admin/login/?next=/admin/",
            method="POST",
            data={
                "csrfmiddlewaretoken": token,
                "username": USERNAME,
                "password": PASSWORD,
                "otp_token": f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}",
            },
            headers={"Origin": self.base, "Referer": self.base + "/admin/login/"},
        )
        assert answer.status == 302 and "sessionid" in self.cookies, (
            answer.status,
            answer.body[-2000:],
        )

    def page(self) -> Answer:
        return self.request("/admin/beneficiaries/beneficiary/")

    def api(self) -> Answer:
        return self.request(
            "/api/v1/plans/",
            headers={"Authorization": f"Api-Key {self.api_key}", "Accept": "application/json"},
        )

    # Probes send no cookie: with the login's, the user is read before the view answers.
    def ready(self) -> Answer:
        return self.request("/readyz", signed_in=False)

    def alive(self) -> Answer:
        return self.request("/healthz", signed_in=False)

    def every_kind(self) -> list[Answer]:
        """One request of each kind, two at a time, so that both workers take some."""
        with ThreadPoolExecutor(2) as pool:
            calls = [self.ready, self.alive, self.page, self.api] * 2
            return list(pool.map(lambda call: call(), calls))


@contextmanager
def gunicorn(tmp_path: Path, env: dict[str, str]) -> Iterator[Site]:
    """Serve the site with gunicorn on a socket bound here; stop it on the way out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    host, port = listener.getsockname()
    log, witness, config = (tmp_path / name for name in ("gunicorn.log", "workers", "conf.py"))
    witness.mkdir()
    production = str(PROJECT_DIR / "gunicorn.conf.py")
    config.write_text(GUNICORN_CONFIG.format(production=production, witness=str(witness)))
    command = [
        sys.executable, "-m", "gunicorn", "vss_program.wsgi:application",
        "--config", str(config), "--bind", f"fd://{listener.fileno()}",
        "--workers", str(WORKERS),
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
    site = Site(f"http://{host}:{port}", process, log, witness)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(site.workers()) < WORKERS or site.ready().status != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{site.log_tail()}")
            time.sleep(0.2)
        yield site
    finally:
        listener.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def production_env(server: PrivateServer, static_root: Path) -> dict[str, str]:
    env = manage_env(
        {
            "DATABASE_URL": server.url(DATABASE),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_ROOT": str(static_root),
            "LOG_LEVEL": "WARNING",
        }
    )
    for name in ("CACHE_URL", "DATABASE_REPLICA_URL", "CONN_MAX_AGE", "OTP_REQUIRED", "PORT"):
        env.pop(name, None)
    return env


def prepare(server: PrivateServer, env: dict[str, str]) -> str:
    """Migrate, load the reference data, collect the static files; return an API key."""
    server.create_database(DATABASE)
    for command in (
        ["migrate", "--noinput"],
        ["load_reference_data"],
        ["collectstatic", "--noinput"],
        ["shell", "--no-imports", "-c", SETUP],
    ):
        result = subprocess.run(
            manage_args(*command),
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_S,
        )
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout.strip().splitlines()[-1]


def running(process: psutil.Process) -> bool:
    # Re-parented away from us, a stopped server may linger as a zombie until reaped.
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def answer_every_kind(site: Site) -> list[Answer]:
    """Send requests until each worker has served some; return them all."""
    before = {pid: len(lines) for pid, lines in site.served().items()}
    answers = []
    for _round in range(10):
        answers += site.every_kind()
        after = site.served()
        if all(len(after.get(pid, [])) > before.get(pid, 0) for pid in site.workers()):
            return answers
    pytest.fail(f"a worker took no request in 10 rounds: {before} {site.served()}")


def test_requests_fail_cleanly_while_the_database_is_down_and_succeed_once_it_is_back(tmp_path):
    with private_server() as server:
        env = production_env(server, tmp_path / "static")
        api_key = prepare(server, env)
        postmaster = server.postmaster()
        assert postmaster is not None
        with gunicorn(tmp_path, env) as site:
            site.api_key = api_key
            site.sign_in()
            workers = site.workers()
            assert len(workers) == WORKERS
            for answer in answer_every_kind(site):
                assert answer.status == 200, (answer.path, answer.status, site.log_tail())

            server.stop("fast")
            stopped = time.monotonic()
            first = site.ready()
            first_failure = time.monotonic() - stopped
            assert first.status == 503, (first.status, site.log_tail())
            down = answer_every_kind(site)
            for answer in down:
                if answer.path == "/healthz":
                    assert answer.status == 200  # the process is fine: no restart wanted
                elif answer.path == "/readyz":
                    assert answer.status == 503, (answer.status, answer.body)
                    assert json.loads(answer.body) == {
                        "status": "unavailable",
                        "checks": {"database": "does not answer", "migrations": "not checked"},
                    }
                    assert answer.seconds < NOT_READY_WITHIN_S, answer
                else:
                    assert answer.status in (500, 503), (answer.path, answer.status)
                    assert answer.seconds < FAILS_WITHIN_S, answer
            assert site.workers() == workers  # no worker died or was replaced
            assert all(psutil.pid_exists(pid) for pid in workers)

            server.start()
            started = time.monotonic()
            deadline = started + RECOVERS_WITHIN_S
            while (ready := site.ready()).status != 200:
                assert time.monotonic() < deadline, (ready.status, site.log_tail())
                time.sleep(0.1)
            ready_after = time.monotonic() - started
            back = answer_every_kind(site)
            recovered = time.monotonic() - started
            for answer in back:
                assert answer.status == 200, (answer.path, answer.status, site.log_tail())
            assert recovered < RECOVERS_WITHIN_S
            # Same workers, and the same login: the session lives in the database.
            assert site.workers() == workers and site.process.poll() is None
            assert b"restart-check" in site.page().body

            # Restarted between two requests, the database leaves each worker a connection
            # that looks open; each request checks it first (CONN_HEALTH_CHECKS) and opens
            # a new one, so not even the first request after fails.
            server.stop("fast")
            server.start()
            for answer in answer_every_kind(site):
                assert answer.status == 200, (answer.path, answer.status, site.log_tail())
            assert site.workers() == workers and site.process.poll() is None
            postmaster = server.postmaster()

    # Nothing left behind: the server stopped, its data removed.
    assert not server.root.exists()
    assert not running(postmaster)
    slowest_failure = max(a.seconds for a in down if a.path not in ("/healthz",))
    print(
        f"\ndatabase restart: first failures {first_failure:.2f} s after the stop, slowest "
        f"failing request {slowest_failure:.2f} s; /readyz 200 {ready_after:.2f} s after the "
        f"start, every kind of request 200 after {recovered:.2f} s"
    )
