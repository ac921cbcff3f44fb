"""One person's request for a page, measured in process: the admin's and the dashboards' way.

A page is measured through Django's test client on the bench database
(force_login; DEBUG off, as in production), once to warm the caches and the
connection, then ``repeat`` times, giving the median and the longest: the
server's time (middleware, view, queries, template, a streamed export read to
its end), without the network.  The queries are counted with
CaptureQueriesContext: every statement of the request, the session's and the
user's included, and BEGIN and COMMIT when there are any.

Twice: as a superuser, whose queries have no area condition, and as a
provincial office's staff member assigned to the busiest province, whose
queries do (``users``).
"""

import os
import statistics
import time
from dataclasses import dataclass, field

from bench.database import django_settings
from bench.report import Figure, queries

HOST = "127.0.0.1"


def environment_for_pages() -> None:
    """Set what the settings must read before Django starts, unless already set."""
    # force_login verifies no authenticator code, and with OTP_REQUIRED the pages
    # would send the user to enrol one.
    os.environ.setdefault("OTP_REQUIRED", "false")
    # One log line per request would bury the figures.
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def allow_test_client() -> None:
    """Let the test client ask as 127.0.0.1 over plain HTTP, like the API benchmark's server."""
    settings = django_settings()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    settings.SECURE_SSL_REDIRECT = False


def users(province: int) -> list[tuple[str, object]]:
    """Return the bench's superuser and its provincial staff member of ``province``, labelled."""
    from django.contrib.auth.models import Group

    from accounts.models import UnitAssignment, User
    from accounts.roles import Role

    admin, _created = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    staff, _created = User.objects.get_or_create(
        username="bench-province", defaults={"is_staff": True}
    )
    staff.groups.set([Group.objects.get(name=Role.PROVINCIAL_STAFF.value)])
    # A kept database may have had another busiest province.
    UnitAssignment.objects.filter(user=staff).exclude(unit_id=province).delete()
    UnitAssignment.objects.get_or_create(user=staff, unit_id=province)
    return [("superuser", admin), ("provincial staff", staff)]


def client_for(user):
    """Return a test client logged in as ``user``; a server error is answered, not raised."""
    from django.test import Client

    # A server error is a figure of the table, not the end of the run.
    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    client.force_login(user)
    return client


def timed_get(client, path: str):
    """GET ``path``; return the response, the milliseconds and the SQL of each statement.

    A streamed answer (an export) is made while it is read: it is read to its
    end inside the time, as the server's time.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
        milliseconds = (time.perf_counter() - start) * 1000
    return response, milliseconds, [query["sql"] for query in captured.captured_queries]


@dataclass
class Page:
    """A page one user asks for, its budgets, and what its requests measured."""

    user: str
    name: str
    path: str
    budget_ms: float
    query_budget: int
    times_ms: list[float] = field(default_factory=list)
    # The most statements one request sent, and the SQL of each request (not recorded).
    queries: int = 0
    statements: list[list[str]] = field(default_factory=list, repr=False)
    status: int = 0
    content_type: str = ""
    error: str = ""
    # What is wrong with a 200 answer ("person not found"), as the benchmark found it.
    wrong_content: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def max_ms(self) -> float:
        return max(self.times_ms)

    def failures(self) -> list[str]:
        missed = []
        if self.status != 200:
            missed.append(f"status {self.status}")
        elif self.wrong_content:
            missed.append(self.wrong_content)
        if self.median_ms > self.budget_ms:
            missed.append("time")
        if self.queries > self.query_budget:
            missed.append("queries")
        return missed

    def budget(self) -> str:
        return f"≤{self.budget_ms:g} ms, ≤{self.query_budget} queries"

    def figure(self, part: str) -> Figure:
        return Figure(
            part,
            self.user,
            self.name,
            self.median_ms,
            "ms",
            f"max {self.max_ms:.1f} ms, {queries(self.queries)}",
            self.budget(),
            self.failures(),
        )

    def as_record(self) -> dict:
        return {
            "user": self.user,
            "page": self.name,
            "path": self.path,
            "median_ms": round(self.median_ms, 1),
            "max_ms": round(self.max_ms, 1),
            "times_ms": [round(ms, 1) for ms in self.times_ms],
            "budget_ms": self.budget_ms,
            "queries": self.queries,
            "status": self.status,
            "failures": self.failures(),
        }


def measure(client, page: Page, repeat: int):
    """GET the page once to warm up, then ``repeat`` times; fill in ``page``.

    Return the last response, for the benchmark's own checks of its content.
    """
    client.get(page.path)
    for _ in range(repeat):
        response, milliseconds, statements = timed_get(client, page.path)
        page.times_ms.append(milliseconds)
        page.statements.append(statements)
        page.queries = max(page.queries, len(statements))
        if response.status_code != 200:
            break  # it would fail each time: once is enough for the table (and the log)
    page.status = response.status_code
    page.content_type = response.get("Content-Type", "")
    if response.exc_info:
        page.error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    return response


def print_measured(page: Page, note: str = "") -> None:
    """Print a page's figures as soon as they are known (an interrupted run keeps them)."""
    print(
        f"  {page.user}, {page.name}: {page.median_ms:.0f} ms, {page.queries} queries, "
        f"{page.status}" + (f" ({note})" if note else ""),
        flush=True,
    )


def print_notes(pages: list[Page], per_user: int) -> None:
    """Print the errors the pages answered, then the paths of one user's pages."""
    print()
    for page in pages:
        if page.error:
            print(f"  {page.user}, {page.name}: {page.error}")
    for page in pages[:per_user]:
        print(f"  {page.name}: GET {page.path}")
