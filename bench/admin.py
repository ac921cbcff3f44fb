"""The admin benchmark: ``python -m bench.admin [--recipients 1000000] [--repeat 7]``.

Prints figures, not a verdict a test could rely on (timings vary with the
machine): the server time and the queries of the recipients' change list in
the admin, with 1,000,000 recipients, against the issue's budgets (a list page
in 300 ms or less with 10 queries or fewer and no full COUNT(*); a name search
in 150 ms or less), for a superuser and for a provincial office's staff member.

Why it is built this way:

- A database of its own, ``<name>_admin_bench`` on the server of
  DATABASES["default"], created afresh, migrated and loaded with the reference
  data, then dropped (``--keep`` keeps it, and a later run with the same number
  of recipients reuses it and skips the load).  It never touches a working
  database, nor the other benchmarks' databases.
- The recipients come from the API benchmark's loader (bench.api, the demo
  generator's people written in SQL with the audit triggers off, then VACUUM
  and ANALYZE), and its database helpers are the same.
- A page is one person's request, measured in this process through Django's
  test client (force_login; DEBUG off, as in production), once to warm the
  caches and the connection, then ``--repeat`` times, giving the median and the
  longest: the server's time (middleware, view, queries, template), without the
  network.  The queries are counted with CaptureQueriesContext: every
  statement of the request, the session's and the user's included, and BEGIN
  and COMMIT when there are any; a ``count(*)`` without a WHERE clause is
  reported: the list must never count the whole table.  What the page says of
  the number of rows is shown ("khoảng 1.000.000" when estimated).
- The list as it is opened (first page), far into it (page 100), filtered by
  the busiest province and sorted by name; the searches a clerk types (a full
  name, a given name, a family and middle name, a personal ID number) about one
  person of that province (the first with an ID and a three-word name), whose
  rows must show what was looked for.
- Twice: as a superuser, whose queries have no area condition, and as a
  provincial office's staff member assigned to the busiest province, whose
  queries do.

Appends the figures as one JSON line to bench/results.jsonl.
"""

import argparse
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.api import (
    _append_record,
    _busiest_province,
    _close_database,
    _open_database,
    _prepare_schema,
    _recipient_count,
    _record_header,
    load_recipients,
)
from bench.imports import RESULTS, ROOT, _settings, _setup_django

# The budgets, with 1,000,000 recipients on a 2-core machine.
LIST_BUDGET_MS = 300.0
SEARCH_BUDGET_MS = 150.0
QUERY_BUDGET = 10

CHANGELIST = "/admin/beneficiaries/beneficiary/"
# A COUNT over the recipients with no condition at all: the full count the list must avoid.
_FULL_COUNT = re.compile(
    r'SELECT COUNT\(\*\) AS "__count" FROM "beneficiaries_beneficiary"\s*$', re.IGNORECASE
)
# The header's link: "?o=-1" when the list is already in that order (it then reverses it).
_NAME_HEADER = re.compile(r'column-person_name.*?href="\?o=-?(\d+)"', re.DOTALL)
_PAGINATOR = re.compile(r'<p class="paginator">(.*?)</p>', re.DOTALL)
_PAGE_LINKS = re.compile(r'<a [^>]*>.*?</a>|<span class="this-page">.*?</span>', re.DOTALL)
_RESULTS = re.compile(r'<table id="result_list">(.*?)</table>', re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Page:
    user: str
    name: str
    path: str
    budget_ms: float
    # Text the answer must contain (the searched person's name), if any.
    expected: str = ""
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    full_counts: int = 0
    status: int = 0
    found: bool = True
    # What the page says of the number of rows ("about 1000000 recipients").
    count_text: str = ""
    error: str = ""

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
        elif not self.found:
            missed.append("person not found")
        if self.median_ms > self.budget_ms:
            missed.append("time")
        if self.queries > QUERY_BUDGET:
            missed.append("queries")
        if self.full_counts:
            missed.append("full COUNT(*)")
        return missed


@dataclass
class Person:
    """The recipient the searches look for: one of the busiest province, with an ID."""

    pk: int
    full_name: str
    personal_id: str
    province: int

    @property
    def searches(self) -> list[tuple[str, str, str]]:
        """Return (name, term typed, text each answer's rows must show) of each search."""
        words = self.full_name.split()
        return [
            ("search full name", self.full_name, self.full_name),
            ("search given name", words[-1], words[-1]),
            ("search family+middle", " ".join(words[:2]), " ".join(words[:2])),
            ("search ID number", self.personal_id, self.full_name),
        ]


def _person(province: int) -> Person:
    """Return a recipient of ``province`` with a personal ID and a three-word name."""
    from beneficiaries.models import Beneficiary

    # The first by id of the province: one range of (province, id), the same on every run.
    for person in Beneficiary.objects.filter(
        province_id=province, personal_id__isnull=False, anonymised_at__isnull=True
    ).order_by("id")[:50]:
        if len(person.full_name.split()) == 3:
            return Person(person.pk, person.full_name, person.personal_id, province)
    raise SystemExit(f"No recipient with a personal ID and a three-word name in {province}.")


def users(province: int):
    """Return the bench's superuser and its provincial staff member of ``province``."""
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
    return admin, staff


def page_paths(person: Person, name_sort: str) -> list[tuple[str, str, float, str]]:
    """Return (name, path, budget in ms, text expected) of each page measured.

    ``name_sort`` is the ``o`` that sorts by name: the columns' numbers depend
    on the user (a checkbox column comes first for those with bulk actions).
    """
    lists = [
        ("first page", {}),
        ("page 100", {"p": 100}),
        ("province filter", {"province": person.province}),
        ("sorted by name", {"o": name_sort}),
        ("province, page 100", {"province": person.province, "p": 100}),
    ]
    pages = [
        (name, f"{CHANGELIST}?{urlencode(query)}" if query else CHANGELIST, LIST_BUDGET_MS, "")
        for name, query in lists
    ]
    pages += [
        (name, f"{CHANGELIST}?{urlencode({'q': term})}", SEARCH_BUDGET_MS, expected)
        for name, term, expected in person.searches
    ]
    return pages


def _name_sort(client) -> str:
    """Return the ``o`` of the name column's header link, as the list offers it."""
    content = client.get(CHANGELIST).content.decode()
    match = _NAME_HEADER.search(content)
    if not match:
        raise SystemExit("The recipients' list offers no sorting by name.")
    return match.group(1)


def _count_text(content: str) -> str:
    """Return what the page says of the number of rows ("about 1,000,000 recipients")."""
    match = _PAGINATOR.search(content)
    if not match:
        return ""
    # Without the page links (and the current page's number) and "Show all".
    text = _PAGE_LINKS.sub(" ", match.group(1))
    return " ".join(_TAGS.sub(" ", text).replace("…", " ").split())


def _results_show(content: str, expected: str) -> bool:
    """Return whether the list's rows (not the search box) show ``expected``."""
    match = _RESULTS.search(content)
    return bool(match) and expected in match.group(1)


def measure(client, user: str, name: str, path: str, budget_ms: float, expected: str, repeat: int):
    """GET ``path`` once to warm up, then ``repeat`` times; return the figures."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = Page(user, name, path, budget_ms, expected)
    client.get(path)
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path)
            page.times_ms.append((time.perf_counter() - start) * 1000)
        page.queries = max(page.queries, len(captured))
        page.full_counts = max(
            page.full_counts,
            sum(1 for query in captured.captured_queries if _FULL_COUNT.search(query["sql"])),
        )
        if response.status_code != 200:
            break  # it would fail each time: once is enough for the table
    page.status = response.status_code
    if response.exc_info:
        page.error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    if page.status == 200:
        content = response.content.decode()
        page.count_text = _count_text(content)
        page.found = not expected or _results_show(content, expected)
    return page


def measure_pages(person: Person, repeat: int) -> list[Page]:
    from django.test import Client

    admin, staff = users(person.province)
    pages = []
    for label, user in (("superuser", admin), ("provincial staff", staff)):
        # A server error is a figure of the table, not the end of the run.
        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        client.force_login(user)
        for name, path, budget_ms, expected in page_paths(person, _name_sort(client)):
            page = measure(client, label, name, path, budget_ms, expected, repeat)
            pages.append(page)
            print(
                f"  {label}, {name}: {page.median_ms:.0f} ms, {page.queries} queries, "
                f"{page.status} ({page.count_text})",
                flush=True,
            )
    return pages


# ---------------------------------------------------------------------------
# Reporting


def _print_table(pages: list[Page]) -> None:
    header = (
        f"{'user':<17} {'page':<20} {'median ms':>9} {'max ms':>7} {'budget':>6} "
        f"{'queries':>7} {'status':>6}  {'count shown':<28} result"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for page in pages:
        missed = page.failures()
        print(
            f"{page.user:<17} {page.name:<20} {page.median_ms:>9.1f} {page.max_ms:>7.1f} "
            f"{page.budget_ms:>6g} {page.queries:>7} {page.status:>6}  "
            f"{page.count_text[:28]:<28} "
            f"{'FAIL (' + ', '.join(missed) + ')' if missed else 'pass'}"
        )
    print(
        f"Budgets: median ≤ {LIST_BUDGET_MS:g} ms for a list, ≤ {SEARCH_BUDGET_MS:g} ms for "
        f"a search; ≤ {QUERY_BUDGET} queries, no full COUNT(*), status 200."
    )
    for page in pages:
        if page.error:
            print(f"  {page.user}, {page.name}: {page.error}")
    for page in pages[: len(pages) // 2]:
        print(f"  {page.name}: GET {page.path}")


def _record(args, database: str, load_s, person: Person, pages, passed, load) -> None:
    record = {
        **_record_header("admin", database),
        "recipients": args.recipients,
        "repeat": args.repeat,
        # The machine's load average (1, 5, 15 minutes) before measuring: another
        # benchmark or test run on the same cores shows in the figures.
        "load_average": [round(value, 2) for value in load],
        # None when a kept database was reused.
        "load_seconds": None if load_s is None else round(load_s, 1),
        "targets": {"province": person.province, "person": person.pk},
        "pages": [
            {
                "user": page.user,
                "page": page.name,
                # The searched ID number stays out of the file.
                "path": page.path if "ID" not in page.name else f"{CHANGELIST}?q=…",
                "median_ms": round(page.median_ms, 1),
                "max_ms": round(page.max_ms, 1),
                "times_ms": [round(ms, 1) for ms in page.times_ms],
                "budget_ms": page.budget_ms,
                "queries": page.queries,
                "full_counts": page.full_counts,
                "status": page.status,
                "count_shown": page.count_text,
                "failures": page.failures(),
            }
            for page in pages
        ],
        "query_budget": QUERY_BUDGET,
        "passed": passed,
    }
    _append_record(record)


# ---------------------------------------------------------------------------
# Running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.admin",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=1_000_000, help="recipients loaded")
    parser.add_argument("--repeat", type=int, default=7, help="measured requests per page")
    parser.add_argument(
        "--keep",
        "--keep-db",
        action="store_true",
        help="keep the bench database afterwards; reuse it when it has as many recipients",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="create and load the database, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.recipients < 1000:
        parser.error("--recipients must be at least 1000")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # Before the settings are read: force_login verifies no authenticator code, and
    # with OTP_REQUIRED the pages would send the user to enrol one.
    os.environ.setdefault("OTP_REQUIRED", "false")
    # One log line per request would bury the figures.
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    database, reuse = _open_database(
        f"{_settings().DATABASES['default']['NAME']}_admin_bench",
        keep=args.keep,
        reusable=lambda name: _recipient_count(name) == args.recipients,
    )
    try:
        return _run(args, database.name, reuse)
    finally:
        _close_database(database, keep=args.keep)


def _run(args, database: str, reuse: bool) -> int:
    _setup_django(database)
    _prepare_schema(reuse)

    load_s = None
    if not reuse:
        print(f"Loading {args.recipients:,} recipients...", flush=True)
        load_s = load_recipients(database, args.recipients)
        print(f"Recipients loaded in {load_s:.1f} s", flush=True)
    if args.load_only:
        return 0

    from reference.models import UnitLevel
    from reference.selectors import unit_id_today

    settings = _settings()
    # The test client asks as 127.0.0.1 over plain HTTP, like the API benchmark's server.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    province = unit_id_today(code=_busiest_province(), level=UnitLevel.PROVINCE)
    person = _person(province)
    load = os.getloadavg()
    print(
        f"\nBusiest province {province}; searched person {person.pk}; "
        f"{args.repeat} requests per page after one to warm up; "
        f"load average {load[0]:.2f}...",
        flush=True,
    )
    pages = measure_pages(person, args.repeat)
    _print_table(pages)
    if args.recipients != 1_000_000:
        print("\nThe budgets are for 1,000,000 recipients.")

    passed = not any(page.failures() for page in pages)
    _record(args, database, load_s, person, pages, passed, load)
    print(f"\n{'All budgets met.' if passed else 'Some budgets missed.'}")
    print(f"Figures appended to {RESULTS.relative_to(ROOT)}.")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
