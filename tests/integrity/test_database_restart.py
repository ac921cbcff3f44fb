"""The database stops and starts again under a running site: requests fail fast, then succeed.

A PostgreSQL server of this test's own (never the one the suite shares) is
migrated and given the reference data, a superuser with an authenticator app and
an API key; gunicorn serves it as in production (``gunicorn.conf.py``, two
workers, DEBUG off).  While the server is stopped (``pg_ctl stop -m fast``),
``/readyz`` answers 503 at once, ``/healthz`` 200 (with the login's cookie too),
pages and the API 503 with Retry-After within seconds, in the request's language
(the API in its error shape), each logged on one line with its request id, and no
worker dies; once it is started again on the same port and data, every request
answers 200 within seconds, from the same workers, on the same login.
"""

import json
import secrets
import subprocess
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie

import psutil
import pytest
import requests
from django_otp.oath import TOTP

from tests.helpers import PROJECT_DIR, manage_args

from .gunicorn_server import Gunicorn, gunicorn, production_env
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
# What the API and the pages say while the database is down, by language.
DOWN_TITLE = {"en": "Service briefly unavailable.", "vi": "Dịch vụ tạm thời gián đoạn."}
DOWN_DETAIL = {
    "en": "The service cannot reach its database. Retry in a moment.",
    "vi": "Hệ thống tạm thời không kết nối được với cơ sở dữ liệu. Vui lòng thử lại sau giây lát.",
}
DOWN_PAGE = {"en": "Service briefly unavailable", "vi": "Dịch vụ tạm thời gián đoạn"}

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


@dataclass
class Answer:
    path: str
    status: int
    seconds: float
    body: bytes
    headers: dict[str, str]
    language: str
    signed_in: bool


class Site:
    """gunicorn serving the site, and the requests a browser and a partner system send."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.cookies: dict[str, str] = {}
        self.api_key = ""

    def workers(self) -> set[int]:
        return self.server.workers()

    def served(self) -> dict[int, list[str]]:
        return self.server.served()

    def log_tail(self) -> str:
        return self.server.log_tail()

    def log_records(self) -> list[dict]:
        """Return the server's log, one JSON object per line (a line that is not: its text)."""
        records = []
        for line in self.server.log.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"message": line})
        return records

    def request(
        self, path: str, method: str = "GET", signed_in=True, language="en", **kwargs
    ) -> Answer:
        headers = {"Accept-Language": language, **kwargs.pop("headers", {})}
        signed_in = signed_in and bool(self.cookies)
        if signed_in:
            # Set as Secure (DEBUG off), which a client keeps to HTTPS: sent by hand here.
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        response = requests.request(
            method,
            self.server.base + path,
            headers=headers,
            timeout=CLIENT_TIMEOUT_S,
            allow_redirects=False,
            **kwargs,
        )
        seconds = time.monotonic() - started
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(
            path,
            response.status_code,
            seconds,
            response.content,
            dict(response.headers),
            language,
            signed_in,
        )

    def sign_in(self) -> None:
        """Sign in on the admin's page with the password and the authenticator's code."""
        page = self.request("/admin/login/")
        assert page.status == 200, (page.status, self.log_tail())
        token = self.cookies["csrftoken"]
        base = self.server.base
        answer = self.request(
            "/admin/login/?next=/admin/",
            method="POST",
            data={
                "csrfmiddlewaretoken": token,
                "username": USERNAME,
                "password": PASSWORD,
                "otp_token": f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}",
            },
            headers={"Origin": base, "Referer": base + "/admin/login/"},
        )
        assert answer.status == 302 and "sessionid" in self.cookies, (
            answer.status,
            answer.body[-2000:],
        )

    def page(self, language: str = "en") -> Answer:
        return self.request("/admin/beneficiaries/beneficiary/", language=language)

    def api(self, language: str = "en") -> Answer:
        return self.request(
            "/api/v1/plans/",
            language=language,
            headers={"Authorization": f"Api-Key {self.api_key}", "Accept": "application/json"},
        )

    # The probes as an orchestrator sends them, without a cookie, and with the login's.
    def ready(self, signed_in: bool = False) -> Answer:
        return self.request("/readyz", signed_in=signed_in)

    def alive(self, signed_in: bool = False) -> Answer:
        return self.request("/healthz", signed_in=signed_in)

    def every_kind(self) -> list[Answer]:
        """One request of each kind, two at a time, so that both workers take some."""
        calls = [
            self.ready,
            self.alive,
            lambda: self.ready(signed_in=True),
            lambda: self.alive(signed_in=True),
            self.page,
            lambda: self.page("vi"),
            self.api,
            lambda: self.api("vi"),
        ]
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda call: call(), calls))


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


def assert_unavailable(answer: Answer) -> None:
    """Check the answer of a page or the API while the database is down."""
    assert answer.status == 503, (answer.path, answer.status, answer.body[-2000:])
    assert answer.seconds < FAILS_WITHIN_S, answer
    assert int(answer.headers["Retry-After"]) > 0
    assert "no-store" in answer.headers["Cache-Control"]
    if answer.path.startswith("/api/"):
        assert answer.headers["Content-Type"] == "application/json"
        assert json.loads(answer.body) == {
            "type": "database_unavailable",
            "title": DOWN_TITLE[answer.language],
            "status": 503,
            "detail": DOWN_DETAIL[answer.language],
        }
    else:
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        page = answer.body.decode()
        assert f'<html lang="{answer.language}">' in page
        assert f"<h1>{DOWN_PAGE[answer.language]}</h1>" in page
        assert USERNAME not in page  # no user menu: nothing is read from the database


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
        env = production_env(server.url(DATABASE), STATIC_ROOT=str(tmp_path / "static"))
        api_key = prepare(server, env)
        postmaster = server.postmaster()
        assert postmaster is not None
        with gunicorn(tmp_path, env, workers=WORKERS) as running_server:
            site = Site(running_server)
            site.api_key = api_key
            site.sign_in()
            workers = site.workers()
            assert len(workers) == WORKERS
            for answer in answer_every_kind(site):
                assert answer.status == 200, (answer.path, answer.status, site.log_tail())

            logged_before = len(site.log_records())
            server.stop("fast")
            stopped = time.monotonic()
            first = site.ready()
            first_failure = time.monotonic() - stopped
            assert first.status == 503, (first.status, site.log_tail())
            down = answer_every_kind(site)
            for answer in down:
                if answer.path == "/healthz":
                    # The process is fine: no restart wanted, whatever cookie comes with it.
                    assert answer.status == 200, (answer, site.log_tail())
                elif answer.path == "/readyz":
                    assert answer.status == 503, (answer.status, answer.body)
                    assert json.loads(answer.body) == {
                        "status": "unavailable",
                        "checks": {"database": "does not answer", "migrations": "not checked"},
                    }
                    assert answer.seconds < NOT_READY_WITHIN_S, answer
                else:
                    assert_unavailable(answer)
            assert {(a.path, a.signed_in) for a in down if a.path in ("/healthz", "/readyz")} == {
                (path, signed_in) for path in ("/healthz", "/readyz") for signed_in in (False, True)
            }
            assert site.workers() == workers  # no worker died or was replaced
            assert all(psutil.pid_exists(pid) for pid in workers)
            # Each failure on one line, with the request's id, and no traceback.
            outage_log = site.log_records()[logged_before:]
            by_request = defaultdict(list)
            for record in outage_log:
                by_request[record.get("request_id")].append(record)
            for answer in down:
                if answer.path.startswith(("/api/", "/admin/")):
                    (line,) = by_request[answer.headers["X-Request-ID"]]
                    assert line["level"] == "ERROR" and line["status_code"] == 503, line
                    assert "the database cannot be reached" in line["message"], line
            assert not [r for r in outage_log if "exc_info" in r or "Traceback" in r["message"]]

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
            assert site.workers() == workers and running_server.process.poll() is None
            assert USERNAME.encode() in site.page().body

            # Restarted between two requests, the database leaves each worker a connection
            # that looks open; each request checks it first (CONN_HEALTH_CHECKS) and opens
            # a new one, so not even the first request after fails.
            server.stop("fast")
            server.start()
            for answer in answer_every_kind(site):
                assert answer.status == 200, (answer.path, answer.status, site.log_tail())
            assert site.workers() == workers and running_server.process.poll() is None
            postmaster = server.postmaster()

    # Nothing left behind: the server stopped, its data removed.
    assert not server.root.exists()
    assert not running(postmaster)
    slowest_failure = max(a.seconds for a in down if a.path != "/healthz")
    print(
        f"\ndatabase restart: first failures {first_failure:.2f} s after the stop, slowest "
        f"failing request {slowest_failure:.2f} s; /readyz 200 {ready_after:.2f} s after the "
        f"start, every kind of request 200 after {recovered:.2f} s"
    )
