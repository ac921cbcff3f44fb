"""The REST API benchmark: ``python -m bench.api [--recipients 1000000] [--clients 16]``.

Prints figures, not a verdict a test could rely on (timings vary with the
machine): requests per second and p50/p95/p99 latency of the recipients' API
under load, against the issue's budgets (with 1,000,000 recipients, gunicorn
with 2 workers and 16 concurrent clients: a recipient's detail at 300
requests/s or more, a 50-item list at 150 or more, p95 under 100 ms), with the
number of queries each request sends.

Why it is built this way:

- A database of its own, ``<name>_api_bench`` on the server of
  DATABASES["default"], created afresh, migrated and loaded with the reference
  data, then dropped (``--keep`` keeps it, and a later run with the same number
  of recipients reuses it and skips the load).  It never touches a working
  database, nor the import benchmark's ``<name>_bench``.
- The recipients are those of the demo generator (beneficiaries.demo, also
  behind ``manage.py generate_demo``): ``INSERT ... SELECT FROM
  generate_series`` inside PostgreSQL, one slice per core, with the audit
  triggers off for those sessions (session_replication_role = replica): a
  million ``save()`` calls, or a million rows sent over the wire, would take
  longer than the benchmark.  The values are made from the row number so that
  every CHECK constraint holds: Faker's Vietnamese names with their folded
  search_name, ID numbers whose province, century, sex and year agree with the
  person, real communes of the edition in force.  The table is then vacuumed
  and analysed, as autovacuum would have done long before a real table held a
  million rows, so that the first requests do not pay for hint bits and the
  planner sees the real sizes.
- The API is served as in production: gunicorn with DEBUG off and persistent
  connections (CONN_MAX_AGE), throttling lifted, loaded by ``wrk`` (C, epoll)
  rather than a Python client, which would itself be the bottleneck on a
  2-core machine.  A Lua script picks a random recipient per request and
  reports the figures, and the answers that were not 2xx, as one JSON line.
- The queries per request are counted in this process, through Django's test
  client on the same database with the same key, after one request to warm the
  caches: the server's workers cannot report them.

Prints the benchmarks' table (bench.report) and appends the figures as one JSON
line to bench/results.jsonl.
"""

import argparse
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bench import ROOT, WORK_DIR, report
from bench.database import (
    add_database_arguments,
    busiest_province,
    django_settings,
    in_database,
    load_recipients,
    prepare_schema,
    recipient_count,
    setup_django,
)
from bench.pages import HOST, allow_test_client, timed_get
from bench.report import Figure

# The issue's budgets, for 1,000,000 recipients, 2 workers and 16 clients on a 2-core machine.
DETAIL_RPS_BUDGET = 300.0
LIST_RPS_BUDGET = 150.0
P95_BUDGET_MS = 100.0
# wrk leaves an answer slower than its timeout (2 s by default) out of the latency
# figures: an endpoint slower than that would show a p95 of 0.  Above this, a timeout.
WRK_TIMEOUT_S = 10
# Queries per request above this are listed after the table.
QUERIES_SHOWN_ABOVE = 6

PAGE_SIZE = 50
API_PREFIX = "/api/v1/beneficiaries/"
# Throttling lifted for the run: the setting reads this variable.
THROTTLE_RATE = "1000000/minute"
CLIENT_NAME = "bench"

# ---------------------------------------------------------------------------
# The server and the load generator


def _database_url(database: str) -> str:
    """Return a DATABASE_URL for ``database`` on the settings' server (for gunicorn)."""
    settings = django_settings()
    default = settings.DATABASES["default"]
    if default["ENGINE"] == "vss_program.embedded_postgres":
        from vss_program.embedded_postgres.server import ensure_server

        socket_dir = ensure_server(
            Path(settings.EMBEDDED_POSTGRES_DIR), settings.EMBEDDED_POSTGRES_DATABASE
        )
        # A socket directory as host, percent-encoded, as dj-database-url reads it.
        host, port, user, password = str(socket_dir), "", "postgres", ""
    else:
        host, port = default.get("HOST") or "", str(default.get("PORT") or "")
        user, password = default.get("USER") or "", default.get("PASSWORD") or ""
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    netloc = f"{credentials}@" if credentials else ""
    netloc += quote(host, safe="") + (f":{port}" if port else "")
    return f"postgres://{netloc}/{quote(database, safe='')}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ensure_wrk() -> str:
    """Return wrk's path, installing it with apt-get (as .ci/run installs chromium) if absent."""
    path = shutil.which("wrk")
    if path:
        return path
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("Installing wrk (apt-get install -y wrk)...", flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=environment)
        path = shutil.which("wrk")
    if not path:
        raise SystemExit("The benchmark needs wrk: apt-get install wrk (or brew install wrk).")
    return path


class Server:
    """gunicorn serving the site on the bench database, as in production but on HTTP."""

    def __init__(self, database: str, workers: int, threads: int, log: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.environment = {
            **os.environ,
            "DATABASE_URL": _database_url(database),
            "DEBUG": "false",
            "SECRET_KEY": f"bench-{secrets.token_urlsafe(40)}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "API_THROTTLE_RATE": THROTTLE_RATE,
            # Persistent connections, as production has them (the settings' default).
            "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE") or "60",
            "LOG_LEVEL": "WARNING",
        }
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "vss_program.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        self.process: subprocess.Popen | None = None

    def start(self, probe_path: str, headers: dict[str, str], timeout_s: float = 60.0) -> None:
        """Start gunicorn and wait until ``probe_path`` answers 200."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            # Its own session, so that Ctrl-C here reaches it only through stop().
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start-up:\n{self.log_tail()}")
            try:
                status, body = self.get(probe_path, headers)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                status, body = None, b""
            if status == 200:
                return
            if status is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"GET {probe_path} answered {status or 'nothing'}: {body[:500]!r}\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.2)

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  gunicorn: {line}" for line in text[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the arbiter stops its workers gracefully
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# wrk runs one Lua state per thread and another for setup and done: the threads count
# their non-2xx answers in their own state, and done() collects them through the
# thread objects setup() kept.
WRK_SCRIPT = """
local first_id, last_id = %(first_id)d, %(last_id)d
local fixed_path = %(path)s
wrk.headers["Authorization"] = %(authorization)s
wrk.headers["Accept"] = "application/json"

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_number", #threads)
end

function init(args)
    math.randomseed(os.time() * 100 + thread_number)
    bad, bad_status = 0, 0
    if fixed_path ~= "" then fixed_request = wrk.format(nil, fixed_path) end
end

function request()
    if fixed_request then return fixed_request end
    local id = math.random(first_id, last_id)
    return wrk.format(nil, "%(prefix)s" .. id .. "/")
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        bad = bad + 1
        bad_status = status
    end
end

function done(summary, latency, requests)
    local bad_total, status = 0, 0
    for _, thread in ipairs(threads) do
        bad_total = bad_total + thread:get("bad")
        if thread:get("bad_status") ~= 0 then status = thread:get("bad_status") end
    end
    local errors = summary.errors
    io.write(string.format(
        'WRK-RESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
        '"p50_us": %%.0f, "p95_us": %%.0f, "p99_us": %%.0f, "mean_us": %%.0f, "max_us": %%.0f, ' ..
        '"non_2xx": %%d, "last_bad_status": %%d, "connect_errors": %%d, "read_errors": %%d, ' ..
        '"write_errors": %%d, "timeouts": %%d}\\n',
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(95), latency:percentile(99),
        latency.mean, latency.max, bad_total, status,
        errors.connect, errors.read, errors.write, errors.timeout))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string


@dataclass
class Endpoint:
    name: str
    # A fixed path, or None for a random recipient's detail per request.
    path: str | None
    rps_budget: float
    # What wrk reported, and the queries one request sends (counted in process).
    wrk: dict = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    # The machine's load when the endpoint's run started: other work skews the figures.
    load: float = 0.0

    @property
    def label(self) -> str:
        return self.path or f"{API_PREFIX}<random id>/"

    @property
    def rps(self) -> float:
        seconds = self.wrk["duration_us"] / 1e6
        return self.wrk["requests"] / seconds if seconds else 0.0

    def ms(self, key: str) -> float:
        return self.wrk[key] / 1000

    @property
    def socket_errors(self) -> int:
        keys = ("connect_errors", "read_errors", "write_errors", "timeouts")
        return sum(self.wrk[key] for key in keys)

    def failures(self) -> list[str]:
        missed = []
        if self.rps < self.rps_budget:
            missed.append("rps")
        # Answers that timed out are in no percentile: they miss the latency budget too.
        if self.ms("p95_us") >= P95_BUDGET_MS or self.wrk["timeouts"]:
            missed.append("p95")
        if self.wrk["non_2xx"]:
            missed.append(f"{self.wrk['non_2xx']:,} non-2xx")
        if self.socket_errors:
            missed.append(f"{self.socket_errors:,} socket errors")
        return missed

    def figure(self, clients: int) -> Figure:
        return Figure(
            "api",
            f"{clients} clients",
            self.name,
            self.rps,
            "req/s",
            f"p95 {self.ms('p95_us'):.1f} ms, {report.queries(len(self.queries))}",
            f"≥{self.rps_budget:g} req/s, p95 <{P95_BUDGET_MS:g} ms",
            self.failures(),
        )


def run_wrk(
    wrk: str, server: Server, endpoint: Endpoint, key: str, id_range: tuple[int, int], args
) -> dict:
    """Load ``endpoint`` for --duration seconds with wrk; return the figures it printed."""
    script = WRK_SCRIPT % {
        "first_id": id_range[0],
        "last_id": id_range[1],
        "path": _lua_string(endpoint.path or ""),
        "authorization": _lua_string(f"Api-Key {key}"),
        "prefix": API_PREFIX,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=WORK_DIR, delete=False) as lua:
        lua.write(script)
    try:
        figures = {}
        for duration in (args.warmup, args.duration):
            if not duration:
                continue
            command = [
                wrk,
                f"-t{min(args.threads, args.clients)}",
                f"-c{args.clients}",
                f"-d{duration}s",
                f"--timeout={WRK_TIMEOUT_S}s",
                "--latency",
                "-s",
                lua.name,
                server.base + (endpoint.path or API_PREFIX),
            ]
            result = subprocess.run(command, capture_output=True, text=True)
            lines = [ln for ln in result.stdout.splitlines() if ln.startswith("WRK-RESULT ")]
            if result.returncode != 0 or not lines:
                raise SystemExit(
                    f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                )
            figures = json.loads(lines[-1].removeprefix("WRK-RESULT "))
        return figures
    finally:
        os.unlink(lua.name)


# ---------------------------------------------------------------------------
# Queries per request, in this process


def _api_key() -> str:
    """Return a new read key of the bench's client (head office, national official)."""
    from accounts.roles import Role
    from api.models import ApiClient
    from api.services import api_client_create, api_key_issue

    # Kept from an earlier run of a kept database: its name is unique.
    client = ApiClient.objects.filter(name=CLIENT_NAME).first() or api_client_create(
        name=CLIENT_NAME,
        organisation=ApiClient.Organisation.HEAD_OFFICE,
        role=Role.NATIONAL_OFFICIAL,
        scopes=[ApiClient.Scope.READ],
        actor=None,
    )
    _record, key = api_key_issue(client=client, name=f"bench {datetime.date.today()}", actor=None)
    return key


def count_queries(path: str, key: str) -> list[str]:
    """Return the SQL that one GET of ``path`` sends, after one GET to warm the caches."""
    from django.test import Client

    client = Client(headers={"authorization": f"Api-Key {key}"}, HTTP_HOST=HOST)
    client.get(path)
    response, _milliseconds, statements = timed_get(client, path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} in process: {response.status_code} {response.content[:500]}")
    return statements


# ---------------------------------------------------------------------------
# Reporting


def _record(args, database: str, load_s: float | None, endpoints, figures) -> None:
    """Append the run's figures to bench/results.jsonl."""
    record = {
        **report.record_header("api", database),
        "recipients": args.recipients,
        "clients": args.clients,
        "threads": min(args.threads, args.clients),
        "workers": args.workers,
        "duration_s": args.duration,
        # None when a kept database was reused.
        "load_seconds": None if load_s is None else round(load_s, 1),
        "endpoints": {
            endpoint.name: {
                "path": endpoint.label,
                "requests": endpoint.wrk["requests"],
                "rps": round(endpoint.rps, 1),
                "p50_ms": round(endpoint.ms("p50_us"), 2),
                "p95_ms": round(endpoint.ms("p95_us"), 2),
                "p99_ms": round(endpoint.ms("p99_us"), 2),
                "max_ms": round(endpoint.ms("max_us"), 2),
                "non_2xx": endpoint.wrk["non_2xx"],
                "socket_errors": endpoint.socket_errors,
                "queries": len(endpoint.queries),
                "rps_budget": endpoint.rps_budget,
                "failures": endpoint.failures(),
                "load": round(endpoint.load, 2),
            }
            for endpoint in endpoints
        },
        "p95_budget_ms": P95_BUDGET_MS,
        "passed": report.passed(figures),
    }
    report.append_record(record, figures)


# ---------------------------------------------------------------------------
# Running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=1_000_000, help="recipients loaded")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections (wrk -c)")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads (wrk -t)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per endpoint")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of load per endpoint before measuring"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's workers")
    parser.add_argument(
        "--server-threads", type=int, default=1, help="threads per gunicorn worker (gthread)"
    )
    add_database_arguments(parser, reused_when="it has as many recipients")
    args = parser.parse_args(argv)
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")
    # Before the settings are read: the requests counted in this process are not throttled.
    os.environ.setdefault("API_THROTTLE_RATE", THROTTLE_RATE)

    return in_database(
        "api_bench",
        keep=args.keep,
        reusable=lambda name: recipient_count(name) == args.recipients,
        run=lambda name, reuse: _run(args, name, reuse),
    )


def _run(args, database: str, reuse: bool) -> int:
    from django.db import connections

    setup_django(database)
    wrk = None if args.load_only else _ensure_wrk()
    prepare_schema(reference_data=not reuse)

    load_s = None
    if not reuse:
        print(f"Loading {args.recipients:,} recipients...", flush=True)
        load_s = load_recipients(database, args.recipients)
        print(f"Recipients loaded in {load_s:.1f} s", flush=True)
    if args.load_only:
        return 0

    from beneficiaries.models import Beneficiary

    bounds = Beneficiary.objects.order_by("pk").values_list("pk", flat=True)
    id_range = (bounds.first(), bounds.last())
    province = busiest_province()
    key = _api_key()
    endpoints = [
        Endpoint("detail", None, DETAIL_RPS_BUDGET),
        Endpoint("list", f"{API_PREFIX}?page_size={PAGE_SIZE}", LIST_RPS_BUDGET),
        Endpoint(
            "list province",
            f"{API_PREFIX}?page_size={PAGE_SIZE}&province={province}",
            LIST_RPS_BUDGET,
        ),
    ]

    # This process answers as 127.0.0.1 too, over plain HTTP, like the server below.
    allow_test_client()
    for endpoint in endpoints:
        path = endpoint.path or f"{API_PREFIX}{id_range[0]}/"
        endpoint.queries = count_queries(path, key)
    connections.close_all()

    headers = {"Authorization": f"Api-Key {key}", "Accept": "application/json"}
    server = Server(database, args.workers, args.server_threads, WORK_DIR / "api-gunicorn.log")
    print(
        f"Serving on {server.base} (gunicorn, {args.workers} workers); "
        f"wrk: {args.clients} connections, {args.warmup} s warm-up and {args.duration} s "
        "per endpoint...",
        flush=True,
    )
    try:
        server.start(f"{API_PREFIX}{id_range[0]}/", headers)
        _check_list(server, endpoints[1].path, headers)
        for endpoint in endpoints:
            endpoint.load = os.getloadavg()[0]
            endpoint.wrk = run_wrk(wrk, server, endpoint, key, id_range, args)
            print(
                f"  {endpoint.name}: {endpoint.rps:,.0f} req/s, p50 {endpoint.ms('p50_us'):.1f} "
                f"/ p95 {endpoint.ms('p95_us'):.1f} / p99 {endpoint.ms('p99_us'):.1f} ms "
                f"(load average before {endpoint.load:.2f})",
                flush=True,
            )
    finally:
        server.stop()

    figures = [endpoint.figure(args.clients) for endpoint in endpoints]
    report.print_table(figures)
    print()
    for endpoint in endpoints:
        print(f"  {endpoint.name}: GET {endpoint.label}")
    for endpoint in endpoints:
        if len(endpoint.queries) > QUERIES_SHOWN_ABOVE:
            print(f"\nQueries of one {endpoint.name} request ({len(endpoint.queries)}):")
            for number, sql in enumerate(endpoint.queries, 1):
                print(f"  {number}. {sql[:300]}{'…' if len(sql) > 300 else ''}")
    if args.recipients != 1_000_000 or args.clients != 16 or args.workers != 2:
        print("\nThe budgets are for 1,000,000 recipients, 16 clients and 2 workers.")

    _record(args, database, load_s, endpoints, figures)
    return report.conclude(figures)


def _check_list(server: Server, path: str, headers: dict[str, str]) -> None:
    """Refuse to measure a list that does not answer a full page (the figures would lie)."""
    status, body = server.get(path, headers)
    results = json.loads(body).get("results") if status == 200 else None
    if not isinstance(results, list) or len(results) != PAGE_SIZE:
        raise SystemExit(f"GET {path}: {status}, not a page of {PAGE_SIZE}: {body[:300]!r}")


if __name__ == "__main__":
    sys.exit(main())
