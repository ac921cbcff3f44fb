"""The dashboards benchmark: ``python -m bench.dashboards [--items 1000000] [--repeat 7]``.

Prints figures, not a verdict a test could rely on (timings vary with the
machine): the server time and the queries of each dashboard page, with
1,000,000 recipients and about as many cards and books under one plan, against
the issue's budget (each page in 300 ms or less, with 15 queries or fewer), for
a superuser and for a provincial office's staff member.

Why it is built this way:

- A database of its own, ``<name>_dash_bench`` on the server of
  DATABASES["default"], created afresh, migrated and loaded with the reference
  data, then dropped (``--keep`` keeps it, and a later run with the same
  ``--items`` reuses it and skips the load).  It never touches a working
  database, nor the other benchmarks' ``<name>_bench`` and ``<name>_api_bench``.
- The data are the demo generator's (``manage.py generate_demo``), loaded by
  the same code, ``distributions.demo.bulk.demo_generate``, with one plan:
  the recipients (beneficiaries.demo, as the API benchmark's), one in 50 left
  without a personal ID and a few recorded twice (same name, year of birth and
  commune: possible duplicates); the plan, its quotas, the seven sponsors'
  pledges and the hand-overs, a few hundred rows written through the ORM; the
  cards and books, one per person but for one in 20 with none and one in 20
  with a book as well, written by ``INSERT ... SELECT FROM generate_series``
  per core inside PostgreSQL, with the audit triggers off for the session
  (session_replication_role = replica), as a million ``item_issue`` calls would
  take hours.  Each item is made from its row number so that every CHECK and
  UNIQUE constraint holds and the services' own rules do too: the recipient
  lives in the quota's area, a provincial pledge pays only in its province, a
  hand-over took items of its province, values come from the dated rates
  (distributions.services.values).  The foreign-key triggers were off as well,
  so the load is then checked in SQL (references, areas, dates, and the
  counters against the items).
- The denormalised counters (quotas' split, used and delivered; the plan's
  allocated; pledges' funded) are set afterwards by ``UPDATE ... FROM`` the
  items' aggregates, and the quotas, targets and pledges sized a little above
  what was used, as the services would have left them; the tally of items that
  the dashboards read (ItemTally, kept by triggers) is counted again by
  ``item_tally_rebuild``.
- A page is one person's request, not a load test: it is measured in this
  process as bench.pages measures one (``--repeat`` times after one to warm
  up; the median and the longest server time, the XLSX export read to its
  end; every statement counted).
- Twice: as a superuser, whose queries have no area condition, and as a
  provincial office's staff member assigned to the busiest province, whose
  queries do.

Prints the benchmarks' table (bench.report) and appends the figures as one JSON
line to bench/results.jsonl.
"""

import argparse
import datetime
import sys
from dataclasses import dataclass

from bench import report
from bench.database import (
    add_database_arguments,
    connect,
    in_database,
    prepare_schema,
    setup_django,
)
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
from reference.bulk import Phases

# The budget for every dashboard page, with 1,000,000 items on a 2-core machine.
PAGE_BUDGET_MS = 300.0
QUERY_BUDGET = 15

PLAN_NUMBER = "BENCH-01/KH-BHXH"
# One recipient in this many has no personal ID; one in DUPLICATE_EVERY is
# recorded a second time (the next row becomes a copy of it, without an ID).
MISSING_ID_EVERY = 50
DUPLICATE_EVERY = 1000
HANDOVERS = 300
# Cards made to expire within the next 60 days, in percent (besides those that do anyway).
EXPIRING_PERCENT = 8
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ---------------------------------------------------------------------------
# The data

# Row counts printed after the load and recorded with the figures.
COUNTS = {
    "recipients": "SELECT count(*) FROM beneficiaries_beneficiary",
    "recipients without personal ID": (
        "SELECT count(*) FROM beneficiaries_beneficiary WHERE personal_id IS NULL"
    ),
    "possible duplicates (groups)": """
        SELECT count(*) FROM (
            SELECT 1 FROM beneficiaries_beneficiary
             GROUP BY search_name, birth_year, commune_id HAVING count(*) > 1
        ) AS groups
    """,
    "items": "SELECT count(*) FROM distributions_item",
    "cards": "SELECT count(*) FROM distributions_item WHERE kind = 'card'",
    "books": "SELECT count(*) FROM distributions_item WHERE kind = 'book'",
    "delivered": "SELECT count(*) FROM distributions_item WHERE status = 'delivered'",
    "delivered at a hand-over": (
        "SELECT count(*) FROM distributions_item WHERE handover_id IS NOT NULL"
    ),
    "issued": "SELECT count(*) FROM distributions_item WHERE status = 'issued'",
    "reserved": "SELECT count(*) FROM distributions_item WHERE status = 'reserved'",
    "cancelled or returned": (
        "SELECT count(*) FROM distributions_item WHERE status IN ('cancelled', 'returned')"
    ),
    "cards expiring within 60 days": """
        SELECT count(*) FROM distributions_item
         WHERE kind = 'card' AND status IN ('reserved', 'issued', 'delivered')
           AND valid_until BETWEEN %(today)s AND %(today)s::date + 60
    """,
    "provinces with items": "SELECT count(DISTINCT province_id) FROM distributions_item",
    "quotas of provinces": "SELECT count(*) FROM distributions_quota WHERE parent_id IS NULL",
    "quotas of communes": "SELECT count(*) FROM distributions_quota WHERE parent_id IS NOT NULL",
    "sponsors": "SELECT count(*) FROM sponsors_sponsor",
    "pledges (national)": "SELECT count(*) FROM distributions_pledge WHERE unit_id IS NULL",
    "pledges (provincial)": "SELECT count(*) FROM distributions_pledge WHERE unit_id IS NOT NULL",
    "hand-overs": "SELECT count(*) FROM distributions_handover",
}


def bench_plan(today: datetime.date):
    """Return the plan: a year that ends today, signed a month before it starts.

    Under the edition in force today (the 2025 units, from 1 July 2025): the
    quotas and hand-overs use its units.
    """
    from distributions.demo.bulk import PlanSpec
    from distributions.services.values import card_end
    from reference.selectors import edition_in_force_on

    edition = edition_in_force_on(today)
    starts_on = max(
        edition.in_force.lower + datetime.timedelta(days=30), today - datetime.timedelta(days=364)
    )
    signed_on = starts_on - datetime.timedelta(days=30)
    if edition_in_force_on(signed_on).pk != edition.pk:
        raise SystemExit(f"The {edition} was not in force on {signed_on}: no plan to sign.")
    return PlanSpec(
        number=PLAN_NUMBER,
        title="Kế hoạch trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn",
        signed_on=signed_on,
        starts_on=starts_on,
        ends_on=card_end(starts_on, 12),  # the day before the same date a year later
        handovers=HANDOVERS,
        expiring_percent=EXPIRING_PERCENT,
    )


class _Printed(Phases):
    """Prints each phase of the load with its seconds."""

    def started(self, name, total):
        if name == "recipients":
            print(f"Loading {total:,} recipients and their cards and books...", flush=True)

    def finished(self, name, seconds):
        print(f"  {name} in {seconds:.1f} s", flush=True)


def load(items: int) -> tuple[float, float, list[str]]:
    """Write the recipients, the plan and its records, the items and the counters.

    Return the seconds it took, the seconds of the checks and the rules
    broken (Django set up on the migrated, empty database).
    """
    from django.utils import timezone

    from distributions.demo.bulk import demo_generate

    today = timezone.localdate()
    phases = _Printed()
    generated = demo_generate(
        recipients_count=items,
        plans=[bench_plan(today)],
        today=today,
        missing_id_every=MISSING_ID_EVERY,
        duplicate_every=DUPLICATE_EVERY,
        phases=phases,
    )
    check_s = phases.seconds.pop("checks")
    print(f"  {generated.items:,} cards and books, {generated.tally_rows:,} tally rows")
    return sum(phases.seconds.values()), check_s, generated.broken


def row_counts(database: str) -> dict[str, int]:
    from django.utils import timezone

    connection = connect(database)
    try:
        with connection.cursor() as cursor:
            counts = {}
            for name, sql in COUNTS.items():
                cursor.execute(sql, {"today": timezone.localdate()})
                counts[name] = cursor.fetchone()[0]
            return counts
    finally:
        connection.close()


def _items(database: str, recipients: int) -> int:
    """Return the cards and books the load gives ``recipients`` people."""
    setup_django(database)
    from distributions.demo.bulk import items_without_renewals

    return items_without_renewals(recipients)


def holds_load(database: str, items: int) -> bool:
    """Return whether ``database`` holds what ``load(items)`` writes (a kept database)."""
    return _sizes(database) == (items, _items(database, items))


def _sizes(database: str) -> tuple[int, int] | None:
    """Return the numbers of recipients and items in ``database``; None without the tables."""
    from psycopg2 import errors

    connection = connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM beneficiaries_beneficiary),"
                " (SELECT count(*) FROM distributions_item)"
            )
            return cursor.fetchone()
    except errors.UndefinedTable:
        return None
    finally:
        connection.close()


# ---------------------------------------------------------------------------
# The pages


@dataclass
class Targets:
    """What the pages are asked about: the plan, the busiest areas, a sponsor, a period."""

    plan: int
    province: int
    commune: int
    province_commune: int  # the busiest commune of the busiest province
    sponsor: int
    period: tuple[datetime.date, datetime.date]


# (name, URL name, argument, query string after ?plan=<id>)
PAGES = [
    ("overview", "dashboards:overview", None, ""),
    ("overview, sponsor", "dashboards:overview", None, "&sponsor={sponsor}"),
    ("overview, 3 months", "dashboards:overview", None, "&from={from}&to={to}"),
    ("overview export", "dashboards:overview", None, "&export=provinces"),
    ("area", "dashboards:area", "province", ""),
    ("commune", "dashboards:commune", "commune", ""),
    ("sponsors", "dashboards:sponsors", None, ""),
    ("timeline", "dashboards:timeline", None, ""),
    ("attention", "dashboards:attention", None, ""),
]


def _months_before(day: datetime.date, months: int) -> datetime.date:
    """Return the first day of the month ``months`` before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def targets() -> Targets:
    """Return the plan and the busiest province, communes and sponsor, by items."""
    from django.db.models import Count, F, Sum
    from django.utils import timezone

    from distributions.models import Item, Plan, Pledge

    plan = Plan.objects.get(number=PLAN_NUMBER)
    # One pass over the items: (province, today's commune of the recipient) -> items.
    areas = list(
        Item.objects.filter(plan=plan)
        .values_list("province_id", "beneficiary__commune_id")
        .annotate(items=Count("pk"))
    )
    by_province: dict[int, int] = {}
    for province, _commune, items in areas:
        by_province[province] = by_province.get(province, 0) + items
    province = max(by_province, key=by_province.get)
    sponsor = (
        Pledge.objects.filter(plan=plan)
        .values("sponsor")
        .annotate(funded=Sum(F("cards_funded") + F("books_funded")))
        .order_by("-funded", "sponsor")
        .first()["sponsor"]
    )
    this_month = timezone.localdate().replace(day=1)
    return Targets(
        plan=plan.pk,
        province=province,
        commune=max(areas, key=lambda row: row[2])[1],
        province_commune=max((row for row in areas if row[0] == province), key=lambda r: r[2])[1],
        sponsor=sponsor,
        period=(_months_before(this_month, 3), this_month - datetime.timedelta(days=1)),
    )


def page_paths(found: Targets, commune: int) -> list[tuple[str, str]]:
    """Return (name, path) of each page, about ``commune`` for the commune's page."""
    from django.urls import NoReverseMatch, reverse

    arguments = {"province": found.province, "commune": commune}
    query = {"sponsor": found.sponsor, "from": found.period[0], "to": found.period[1]}
    paths = []
    for name, url_name, argument, extra in PAGES:
        try:
            path = reverse(url_name, args=[arguments[argument]] if argument else [])
        except NoReverseMatch as error:
            raise SystemExit(
                f"{error}\nThe dashboards' URLs are not there yet: run with --load-only."
            ) from None
        paths.append((name, f"{path}?plan={found.plan}{extra.format(**query)}"))
    return paths


def measure_pages(found: Targets, repeat: int) -> list[Page]:
    """Measure every page as the superuser, then as the busiest province's staff member."""
    pages = []
    communes = (found.commune, found.province_commune)
    for (label, user), commune in zip(users(found.province), communes, strict=True):
        client = client_for(user)
        for name, path in page_paths(found, commune):
            page = Page(label, name, path, PAGE_BUDGET_MS, QUERY_BUDGET)
            measure(client, page, repeat)
            if name.endswith("export") and not page.content_type.startswith(XLSX):
                page.wrong_content = "not XLSX"
            pages.append(page)
            print_measured(page)
    return pages


# ---------------------------------------------------------------------------
# Reporting


def _print_counts(counts: dict[str, int]) -> None:
    print("\nRows:")
    for name, rows in counts.items():
        print(f"  {name:<32} {rows:>10,}")


def _record(args, database: str, load_s, counts, found: Targets, pages, figures) -> None:
    record = {
        **report.record_header("dashboards", database),
        "items": args.items,
        "repeat": args.repeat,
        # None when a kept database was reused.
        "load_seconds": None if load_s is None else round(load_s, 1),
        "rows": counts,
        "targets": {
            "plan": found.plan,
            "province": found.province,
            "commune": found.commune,
            "province_commune": found.province_commune,
            "sponsor": found.sponsor,
            "period": [day.isoformat() for day in found.period],
        },
        "pages": [page.as_record() for page in pages],
        "budget_ms": PAGE_BUDGET_MS,
        "query_budget": QUERY_BUDGET,
        "passed": report.passed(figures),
    }
    report.append_record(record, figures)


# ---------------------------------------------------------------------------
# Running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboards",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--items",
        type=int,
        default=1_000_000,
        help="cards and books loaded, and as many recipients",
    )
    parser.add_argument("--repeat", type=int, default=7, help="measured requests per page")
    add_database_arguments(parser, reused_when="it has as many items")
    args = parser.parse_args(argv)
    if args.items < 100:
        parser.error("--items must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # Before the settings are read.
    environment_for_pages()

    return in_database(
        "dash_bench",
        keep=args.keep,
        reusable=lambda name: holds_load(name, args.items),
        run=lambda name, reuse: _run(args, name, reuse),
    )


def prepare(database: str, items: int, reuse: bool) -> tuple[float | None, list[str]]:
    """Set Django up on ``database`` and migrate it; unless reused, load it (``load``).

    Return the seconds of the load (None when reused) and the rules it broke.
    """
    setup_django(database)
    prepare_schema(reference_data=not reuse)
    if reuse:
        return None, []
    load_s, check_s, broken = load(items)
    print(f"Loaded in {load_s:.1f} s", flush=True)
    print(
        f"Checked in {check_s:.1f} s: "
        + ("; ".join(broken) if broken else "every rule holds, counters agree with the items"),
        flush=True,
    )
    return load_s, broken


def _run(args, database: str, reuse: bool) -> int:
    load_s, broken = prepare(database, args.items, reuse)
    if broken:
        return 2
    counts = row_counts(database)
    _print_counts(counts)
    if args.load_only:
        return 0

    allow_test_client()
    found = targets()
    print(
        f"\nPlan {found.plan}; busiest province {found.province}, commune {found.commune} "
        f"({found.province_commune} in the province); sponsor {found.sponsor}; "
        f"{args.repeat} requests per page after one to warm up...",
        flush=True,
    )
    pages = measure_pages(found, args.repeat)
    figures = [page.figure("dashboards") for page in pages]
    report.print_table(figures)
    print_notes(pages, len(PAGES))
    if args.items != 1_000_000:
        print("\nThe budget is for 1,000,000 items.")

    _record(args, database, load_s, counts, found, pages, figures)
    return report.conclude(figures)


if __name__ == "__main__":
    sys.exit(main())
