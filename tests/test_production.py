"""Running in production: probes, JSON logs with the request id, gunicorn, static files."""

import gzip
import io
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler
from django.test import Client
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from accounts.roles import Role
from api.models import ApiClient
from api.services import api_client_create, api_key_issue
from audit.models import AuditEvent
from tests.admin_forms import change_form_data
from tests.factories import make_sponsor
from tests.helpers import PROJECT_DIR, current_database_env, manage_env, run_manage
from vss_program import health
from vss_program.logging_config import FORMATTERS
from vss_program.request_log import RequestContextFilter

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------
# The probes


def test_healthz_answers_without_touching_the_database():
    # No django_db mark: pytest-django refuses any query, so a 200 proves there was none.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers_and_every_migration_is_applied(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(3):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert "no-store" in response["Cache-Control"]


def unapply_newest_migration(app: str) -> str:
    """Forget the newest migration of ``app`` (in the test's transaction) and return its name.

    As after a deployment of new code before `migrate`: the migration is on disk
    but not in django_migrations.
    """
    executor = MigrationExecutor(connection)
    (name,) = [name for label, name in executor.loader.graph.leaf_nodes() if label == app]
    MigrationRecorder(connection).record_unapplied(app, name)
    return f"{app}.{name}"


@pytest.mark.django_db
def test_readyz_answers_503_naming_a_migration_not_applied_yet():
    migration = unapply_newest_migration("audit")

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": f"1 not applied: {migration}"},
    }


@pytest.mark.django_db
def test_readyz_answers_503_without_details_when_the_database_does_not_answer(monkeypatch, caplog):
    closed_port = _free_port()  # nothing listens there once the probe socket is closed
    unreachable = ConnectionHandler(
        {"default": {**connection.settings_dict, "PORT": str(closed_port), "CONN_MAX_AGE": 0}}
    )
    monkeypatch.setattr(health, "connections", unreachable)
    try:
        response = Client().get("/readyz")
    finally:
        unreachable.close_all()

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "does not answer", "migrations": "not checked"},
    }
    # The reason is for the server's log, not for whoever calls a public address.
    assert str(closed_port) not in response.content.decode()
    assert any(
        record.name == "vss_program.health" and str(closed_port) in record.getMessage()
        for record in caplog.records
    )


def test_the_probes_are_answered_over_http_where_https_is_enforced(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/admin/login/").status_code == 301


# ---------------------------------------------------------------------------
# The log


def _options(log_format: str) -> dict:
    """Return the settings' formatter options, as logging.config passes them."""
    return {key: value for key, value in FORMATTERS[log_format].items() if key != "()"}


@pytest.fixture
def json_log():
    """Return a stream receiving every log record as production writes it (JSON, filtered)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(**_options("json")))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def log_lines(stream: io.StringIO, logger: str) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == logger]


@pytest.mark.django_db
def test_each_request_is_logged_as_json_with_the_request_id_it_answers_with(
    admin_client, admin_user, json_log
):
    response = admin_client.get("/admin/?q=079190001234", HTTP_X_REQUEST_ID="lb-7f3a9c2e51")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a9c2e51"

    (line,) = log_lines(json_log, "vss_program.requests")
    assert line["request_id"] == "lb-7f3a9c2e51"
    assert line["user_id"] == admin_user.pk
    assert (line["method"], line["path"], line["status"], line["level"]) == (
        "GET",
        "/admin/",  # never the query string, where searched ID numbers go
        200,
        "INFO",
    )
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "time" in line
    assert "079190001234" not in json_log.getvalue()


@pytest.mark.django_db
def test_a_request_without_an_id_gets_one_shared_by_its_log_lines_and_its_audit_events(
    admin_client, json_log
):
    sponsor = make_sponsor("Agribank", contact_name="Nguyễn Văn A")
    page = reverse("admin:sponsors_sponsor_change", args=[sponsor.pk])
    data = change_form_data(admin_client.get(page)) | {"contact_name": "Trần Thị B"}
    json_log.seek(0)
    json_log.truncate()

    response = admin_client.post(page, data)

    assert response.status_code == 302
    request_id = response["X-Request-ID"]
    (line,) = log_lines(json_log, "vss_program.requests")
    assert line["request_id"] == request_id
    changed = AuditEvent.objects.tracks(sponsor).order_by("pgh_created_at", "pgh_id").last()
    assert changed.request_id == request_id


@pytest.mark.django_db
def test_an_api_request_is_logged_with_the_user_its_key_signs_in(json_log):
    # The key is checked in the view, after the middleware has read the (anonymous) user.
    api_client = api_client_create(
        name="VSS",
        organisation=ApiClient.Organisation.HEAD_OFFICE,
        role=Role.NATIONAL_OFFICIAL,
        scopes=["read"],
        actor=None,
    )
    key = api_key_issue(client=api_client, actor=None)[1]

    response = Client().get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 200
    (line,) = log_lines(json_log, "vss_program.requests")
    assert line["user_id"] == api_client.user_id


@pytest.mark.django_db
def test_an_error_logged_by_django_carries_the_request_id(client, json_log):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    (warning,) = log_lines(json_log, "django.request")
    (line,) = log_lines(json_log, "vss_program.requests")
    assert warning["message"] == "Not Found: /nowhere/"
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == line["request_id"] == response["X-Request-ID"]
    # Django's `request` extra is left out: its repr holds the query string.
    assert "request" not in warning


@pytest.mark.django_db
def test_a_successful_probe_is_not_logged_at_info_but_a_failing_one_is(client, json_log):
    client.get("/healthz")
    client.get("/readyz")
    assert log_lines(json_log, "vss_program.requests") == []

    unapply_newest_migration("audit")
    client.get("/readyz")
    (line,) = log_lines(json_log, "vss_program.requests")
    assert (line["path"], line["status"]) == ("/readyz", 503)
    # The state it reports, not an error of the site (which might page someone).
    (django_line,) = log_lines(json_log, "django.request")
    assert django_line["level"] == "WARNING"


def test_lines_outside_a_request_have_no_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "started", None, None)
    RequestContextFilter().filter(record)
    assert logging.Formatter(**_options("text")).format(record).endswith(" INFO x [-] started")
    assert "request_id" not in json.loads(JsonFormatter(**_options("json")).format(record))


# ---------------------------------------------------------------------------
# gunicorn.conf.py


def _gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "LOG_FORMAT", "DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_DIR / "gunicorn.conf.py"))


def test_gunicorn_conf_reads_port_workers_and_trusted_proxies_from_the_environment(
    monkeypatch,
):
    conf = _gunicorn_conf(
        monkeypatch, PORT="8123", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.2"
    )
    assert conf["bind"] == "0.0.0.0:8123"
    assert conf["workers"] == 3
    assert conf["forwarded_allow_ips"] == "10.0.0.2"
    assert conf["worker_tmp_dir"] == "/dev/shm"
    assert conf["accesslog"] is None
    assert conf["preload_app"] is False
    assert conf["timeout"] > 0 and conf["graceful_timeout"] > 0

    defaults = _gunicorn_conf(monkeypatch, DEBUG="false")
    assert defaults["bind"] == "0.0.0.0:8000"
    assert defaults["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    json_formatter = defaults["logconfig_dict"]["formatters"]["line"]["()"]
    assert json_formatter == "pythonjsonlogger.json.JsonFormatter"


def test_gunicorn_conf_refuses_a_malformed_worker_count(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="WEB_CONCURRENCY='many' is not a whole number"):
        _gunicorn_conf(monkeypatch, WEB_CONCURRENCY="many")


# ---------------------------------------------------------------------------
# gunicorn serving the site, as in production


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Gunicorn:
    """The server started by the fixture below: its address, its log, its static files."""

    def __init__(self, base: str, log: Path, static_root: Path):
        self.base = base
        self.log = log
        self.static_root = static_root

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, tmp_path_factory):
    """`gunicorn -c gunicorn.conf.py vss_program.wsgi` on the test database, DEBUG off."""
    folder = tmp_path_factory.mktemp("gunicorn")
    static_root = folder / "static"
    env = current_database_env() | {
        "DEBUG": "false",
        "SECRET_KEY": "gunicorn-test-kq3p8ZruV2mWx7yTb4nLs9eHd6jFc1gQa5oRi0tYe8",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static_root),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
        # Closed after each request: the test database is dropped at the end of the session.
        "CONN_MAX_AGE": "0",
    }
    collected = run_manage("collectstatic", "--noinput", "--verbosity=0", env=env, timeout=300)
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    log = folder / "gunicorn.log"
    # Bound to the loopback address here; PORT alone binds every address (tested above).
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "vss_program.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=manage_env(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(f"http://127.0.0.1:{port}", log, static_root)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
            try:
                if server.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_gunicorn_answers_the_probes_over_plain_http_and_redirects_the_rest(gunicorn):
    status, _, body = gunicorn.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = gunicorn.get("/readyz")
    assert (status, json.loads(body)["status"]) == (200, "ok")
    status, headers, _ = gunicorn.get("/admin/login/")
    assert status == 301
    assert headers["Location"].startswith("https://")


def test_gunicorn_serves_hashed_static_files_compressed_and_cached_for_ever(gunicorn):
    manifest = json.loads((gunicorn.static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"

    # From the TLS-terminating proxy on this machine: gunicorn believes its X-Forwarded-Proto.
    status, headers, body = gunicorn.get(
        f"/static/{hashed}", **{"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}
    )

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert gzip.decompress(body) == (gunicorn.static_root / hashed).read_bytes()


def test_gunicorn_logs_one_json_line_per_request_with_the_proxys_request_id(gunicorn):
    request_id = "0f9c2a1e6b7d4e559d2c3f1a8b7c6d5e"  # as nginx's $request_id
    status, headers, _ = gunicorn.get(
        "/admin/login/?next=/admin/",
        **{"X-Forwarded-Proto": "https", "X-Request-ID": request_id},
    )
    assert status == 200
    assert headers["X-Request-ID"] == request_id

    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in gunicorn.log_lines()]  # every line is JSON
        logged = [line for line in lines if line.get("request_id") == request_id]
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    (line,) = logged
    assert line["logger"] == "vss_program.requests"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/admin/login/", 200)
    assert line["duration_ms"] > 0
    assert {line["logger"] for line in lines} >= {"gunicorn.error"}
    assert not [line for line in lines if line.get("path") == "/healthz"]
