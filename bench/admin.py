"""The admin benchmark: ``python -m bench.admin [--recipients 1000000] [--repeat 7]``.

Prints figures, not a verdict a test could rely on (timings vary with the
machine): the server time and the queries of the two large change lists of the
admin, the recipients' and the cards and books', with 1,000,000 recipients and
about as many cards and books, against the issue's budgets (a list page in 300
ms or less with 10 queries or fewer and no full COUNT(*); a search in 150 ms or
less), for a superuser and for a provincial office's staff member.

Why it is built this way:

- A database of its own, ``<name>_admin_bench`` on the server of
  DATABASES["default"], created afresh, migrated and loaded with the reference
  data, then dropped (``--keep`` keeps it, and a later run with the same number
  of recipients reuses it and skips the load).  It never touches a working
  database, nor the other benchmarks' databases.
- The data are the dashboards benchmark's (bench.dashboards.load, the demo
  generator's code): N recipients, one plan, and a card or book for most of
  them, in every status over the plan's year.
- A page is one person's request, measured in this process as bench.pages
  measures one (``--repeat`` times after one to warm up; the median and the
  longest server time; every statement counted); a ``count(*)`` without a
  WHERE clause is reported: the list must never count the whole table.  What
  the page says of the number of rows is shown ("khoảng 1.000.000" when
  estimated).
- The recipients' list as it is opened (first page), far into it (page 100),
  filtered by the busiest province and sorted by name; the searches a clerk
  types (a full name, a given name, a family and middle name, a personal ID
  number) about one person of that province (the first with an ID, a
  three-word name and a numbered card or book), whose rows must show what was
  looked for.  The cards and books' list as it is opened, far into it, by
  status, by sponsor, over three months, for the province (the dashboards'
  links), and searched by that person's family and middle name and by the
  number of their card or book.
- Twice: as a superuser, whose queries have no area condition, and as a
  provincial office's staff member assigned to the busiest province, whose
  queries do.

Prints the benchmarks' table (bench.report) and appends the figures as one JSON
line to bench/results.jsonl.
"""

import argparse
import datetime
import html
import os
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlencode

from bench import dashboards, report
from bench.database import add_database_arguments, busiest_province, in_database
from bench.pages import (
    Page,
    allow_test_client,
    client_for,
    environment_for_pages,
    measure,
    print_measured,
    print_notes,
    users,
)

# The budgets, with 1,000,000 recipients on a 2-core machine.
LIST_BUDGET_MS = 300.0
SEARCH_BUDGET_MS = 150.0
QUERY_BUDGET = 10

CHANGELIST = "/admin/beneficiaries/beneficiary/"
ITEMS = "/admin/distributions/item/"
# A COUNT over a whole table with no condition at all: the full count a list must avoid.
_FULL_COUNT = re.compile(
    r'SELECT COUNT\(\*\) AS "__count" FROM "(beneficiaries_beneficiary|distributions_item)"\s*$',
    re.IGNORECASE,
)
# The header's link: "?o=-1" when the list is already in that order (it then reverses it).
_NAME_HEADER = re.compile(r'column-person_name.*?href="\?o=-?(\d+)"', re.DOTALL)
_PAGINATOR = re.compile(r'<p class="paginator">(.*?)</p>', re.DOTALL)
_PAGE_LINKS = re.compile(r'<a [^>]*>.*?</a>|<span class="this-page">.*?</span>', re.DOTALL)
_RESULTS = re.compile(r'<table id="result_list">(.*?)</table>', re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class ListPage(Page):
    """A page of the recipients' list, which must never count the whole table."""

    # Text the answer's rows must show (the searched person's name), if any.
    expected: str = ""
    full_counts: int = 0
    # What the page says of the number of rows ("about 1000000 recipients").
    count_text: str = ""

    def failures(self) -> list[str]:
        missed = super().failures()
        if self.full_counts:
            missed.append("full COUNT(*)")
        return missed

    def budget(self) -> str:
        return f"{super().budget()}, no full COUNT(*)"

    def as_record(self) -> dict:
        return {
            **super().as_record(),
            # The searched ID number, or card number (which holds the person's social
            # insurance number), stays out of the file.
            "path": self.path.split("q=")[0] + "q=…" if "number" in self.name else self.path,
            "full_counts": self.full_counts,
            "count_shown": self.count_text,
        }


@dataclass
class Person:
    """The recipient the searches look for: one of the busiest province, with an ID."""

    pk: int
    full_name: str
    personal_id: str
    province: int
    # The number of one of their cards or books, and a sponsor that paid for one.
    item_number: str
    sponsor: int

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
    """Return a recipient of ``province`` with a personal ID, a three-word name and an item."""
    from beneficiaries.models import Beneficiary
    from distributions.models import Item

    # The first by id of the province: one range of (province, id), the same on every run.
    for person in Beneficiary.objects.filter(
        province_id=province, personal_id__isnull=False, anonymised_at__isnull=True
    ).order_by("id")[:200]:
        item = (
            Item.objects.filter(beneficiary=person).exclude(number="").select_related("pledge")
        ).first()
        if len(person.full_name.split()) == 3 and item:
            return Person(
                person.pk,
                person.full_name,
                person.personal_id,
                province,
                item.number,
                item.pledge.sponsor_id,
            )
    raise SystemExit(f"No recipient with an ID, a three-word name and an item in {province}.")


def page_paths(person: Person, name_sort: str) -> list[tuple[str, str, float, str]]:
    """Return (name, path, budget in ms, text expected) of each page measured.

    ``name_sort`` is the ``o`` that sorts by name: the columns' numbers depend
    on the user (a checkbox column comes first for those with bulk actions).
    """
    family_middle = " ".join(person.full_name.split()[:2])
    today = datetime.date.today()
    recipients = [
        ("first page", {}, LIST_BUDGET_MS, ""),
        ("page 100", {"p": 100}, LIST_BUDGET_MS, ""),
        ("province filter", {"province": person.province}, LIST_BUDGET_MS, ""),
        ("sorted by name", {"o": name_sort}, LIST_BUDGET_MS, ""),
        ("province, page 100", {"province": person.province, "p": 100}, LIST_BUDGET_MS, ""),
        *(
            (name, {"q": term}, SEARCH_BUDGET_MS, expected)
            for name, term, expected in person.searches
        ),
    ]
    items = [
        ("items: first page", {}, LIST_BUDGET_MS, ""),
        ("items: page 100", {"p": 100}, LIST_BUDGET_MS, ""),
        ("items: delivered", {"status": "delivered"}, LIST_BUDGET_MS, ""),
        ("items: sponsor", {"pledge__sponsor__id__exact": person.sponsor}, LIST_BUDGET_MS, ""),
        (
            "items: 3 months",
            {
                "issued_on__gte": (today - datetime.timedelta(days=91)).isoformat(),
                "issued_on__lte": today.isoformat(),
            },
            LIST_BUDGET_MS,
            "",
        ),
        ("items: province", {"area": person.province}, LIST_BUDGET_MS, ""),
        # A list's budget: the issue's 150 ms is the recipients' name search, which this one
        # does before reading their cards and books.
        ("items: search name", {"q": family_middle}, LIST_BUDGET_MS, family_middle),
        ("items: search number", {"q": person.item_number}, LIST_BUDGET_MS, person.full_name),
    ]
    return [
        (name, f"{changelist}?{urlencode(query)}" if query else changelist, budget, expected)
        for changelist, pages in ((CHANGELIST, recipients), (ITEMS, items))
        for name, query, budget, expected in pages
    ]


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
    """Return whether the list's rows (not the search box) show ``expected``, as the search
    reads it: folded ("Vân" is found in "Văn" too)."""
    from reference.text import fold

    match = _RESULTS.search(content)
    return bool(match) and fold(expected) in fold(html.unescape(_TAGS.sub(" ", match.group(1))))


def measure_list(client, page: ListPage, repeat: int) -> ListPage:
    """Measure ``page`` (bench.pages), then count its full COUNT(*)s and read what it shows."""
    response = measure(client, page, repeat)
    page.full_counts = max(
        sum(1 for sql in statements if _FULL_COUNT.search(sql)) for statements in page.statements
    )
    if page.status == 200:
        content = response.content.decode()
        page.count_text = _count_text(content)
        if page.expected and not _results_show(content, page.expected):
            page.wrong_content = "person not found"
    return page


def measure_pages(person: Person, repeat: int) -> list[ListPage]:
    """Measure every page as the superuser, then as the busiest province's staff member."""
    pages = []
    for label, user in users(person.province):
        client = client_for(user)
        for name, path, budget_ms, expected in page_paths(person, _name_sort(client)):
            page = ListPage(label, name, path, budget_ms, QUERY_BUDGET, expected=expected)
            pages.append(measure_list(client, page, repeat))
            print_measured(page, page.count_text)
    return pages


def _record(args, database: str, load_s, person: Person, pages, load, figures) -> None:
    record = {
        **report.record_header("admin", database),
        "recipients": args.recipients,
        "repeat": args.repeat,
        # The machine's load average (1, 5, 15 minutes) before measuring: another
        # benchmark or test run on the same cores shows in the figures.
        "load_average": [round(value, 2) for value in load],
        # None when a kept database was reused.
        "load_seconds": None if load_s is None else round(load_s, 1),
        "targets": {"province": person.province, "person": person.pk},
        "pages": [page.as_record() for page in pages],
        "query_budget": QUERY_BUDGET,
        "passed": report.passed(figures),
    }
    report.append_record(record, figures)


# ---------------------------------------------------------------------------
# Running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.admin",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=1_000_000,
        help="recipients loaded, and about as many cards and books",
    )
    parser.add_argument("--repeat", type=int, default=7, help="measured requests per page")
    add_database_arguments(parser, reused_when="it holds the same load")
    args = parser.parse_args(argv)
    if args.recipients < 1000:
        parser.error("--recipients must be at least 1000")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # Before the settings are read.
    environment_for_pages()

    return in_database(
        "admin_bench",
        keep=args.keep,
        reusable=lambda name: dashboards.holds_load(name, args.recipients),
        run=lambda name, reuse: _run(args, name, reuse),
    )


def _run(args, database: str, reuse: bool) -> int:
    load_s, broken = dashboards.prepare(database, args.recipients, reuse)
    if broken:
        return 2
    if args.load_only:
        return 0

    from reference.models import UnitLevel
    from reference.selectors import unit_id_today

    allow_test_client()
    province = unit_id_today(code=busiest_province(), level=UnitLevel.PROVINCE)
    person = _person(province)
    load = os.getloadavg()
    print(
        f"\nBusiest province {province}; searched person {person.pk}; "
        f"{args.repeat} requests per page after one to warm up; "
        f"load average {load[0]:.2f}...",
        flush=True,
    )
    pages = measure_pages(person, args.repeat)
    figures = [page.figure("admin") for page in pages]
    report.print_table(figures)
    print_notes(pages, len(pages) // 2)
    if args.recipients != 1_000_000:
        print("\nThe budgets are for 1,000,000 recipients.")

    _record(args, database, load_s, person, pages, load, figures)
    return report.conclude(figures)


if __name__ == "__main__":
    sys.exit(main())
