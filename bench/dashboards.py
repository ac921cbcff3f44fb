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
- The recipients come from the API benchmark's loader (bench.api), with one in
  50 left without a personal ID and a few recorded twice (same name, year of
  birth and commune: possible duplicates).  The plan, its quotas, the seven
  sponsors' pledges and the hand-overs are a few hundred rows, written through
  the ORM; the cards and books are written by one ``INSERT ... SELECT FROM
  generate_series`` per core inside PostgreSQL, with the audit triggers off for
  the session (session_replication_role = replica), as a million ``item_issue``
  calls would take hours.  Each item is made from its row number so that every
  CHECK and UNIQUE constraint holds and the services' own rules do too: the
  recipient lives in the quota's area, a provincial pledge pays only in its
  province, a hand-over took items of its province, values come from the dated
  rates (distributions.services.values).  The foreign-key triggers were off
  as well, so the load is then checked in SQL (references, areas, dates, and the
  counters against the items).
- The denormalised counters (quotas' split, used and delivered; the plan's
  allocated; pledges' funded) are set afterwards by ``UPDATE ... FROM`` the
  items' aggregates, and the quotas, targets and pledges sized a little above
  what was used, as the services would have left them; the tally of items that
  the dashboards read (ItemTally, kept by triggers) is counted again by
  ``item_tally_rebuild``.
- A page is one person's request, not a load test: it is measured in this
  process through Django's test client (force_login; DEBUG off, as in
  production), once to warm the caches and the connection, then ``--repeat``
  times, giving the median and the longest.  That is the server's time
  (middleware, views, queries, templates, the XLSX export), without the
  network.  The queries are counted with CaptureQueriesContext.
- Twice: as a superuser, whose queries have no area condition, and as a
  provincial office's staff member assigned to the busiest province, whose
  queries do.

Appends the figures as one JSON line to bench/results.jsonl.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

from bench.api import (
    _append_record,
    _close_database,
    _open_database,
    _prepare_schema,
    _record_header,
    insert_in_slices,
    load_recipients,
)
from bench.imports import RESULTS, ROOT, _connect, _settings, _setup_django

# The budget for every dashboard page, with 1,000,000 items on a 2-core machine.
PAGE_BUDGET_MS = 300.0
QUERY_BUDGET = 15

PLAN_NUMBER = "BENCH-01/KH-BHXH"
# One recipient in this many has no personal ID; one in DUPLICATE_EVERY is
# recorded a second time (the next row becomes a copy of it, without an ID).
MISSING_ID_EVERY = 50
DUPLICATE_EVERY = 1000
# One commune in this many has a quota of its own, split from its province's.
COMMUNE_QUOTA_EVERY = 10
HANDOVERS = 300
# Of the hand-overs, one in this many is still planned (in the next 30 days, no items).
PLANNED_HANDOVER_EVERY = 10
# The sponsors (distributions.demo.records.SPONSORS) whose pledges fund anywhere;
# each province has a pledge of one of the others.
NATIONAL_SPONSORS = 3
# Items paid by their province's pledge (the rest by a national one), in percent.
PROVINCIAL_PAID_PERCENT = 40
# Cards made to expire within the next 60 days, in percent (besides those that do anyway).
EXPIRING_PERCENT = 8
BOOK_MONTHS = [12, 24, 36, 60]
# A book's monthly income: the lowest allowed times 1, 2 or 3.
INCOME_STEPS = 3
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# ---------------------------------------------------------------------------
# The data

DUPLICATES_SQL = """
UPDATE beneficiaries_beneficiary AS copy
   SET full_name = original.full_name,
       search_name = original.search_name,
       sex = original.sex,
       birth_year = original.birth_year,
       birth_date = original.birth_date,
       commune_id = original.commune_id,
       province_id = original.province_id,
       -- The copy's own ID would disagree with the person's year and sex.
       personal_id = NULL
  FROM beneficiaries_beneficiary AS original
 WHERE copy.id = original.id + 1
   AND (original.id - %(first_id)s) %% %(every)s = 0
   AND original.id + 1 < %(first_id)s + %(count)s
"""

# Item j (from 1) is a book when j is a multiple of 10, else a card.  Its recipient
# is the j-th (recipients' ids are consecutive), but for every other book, which
# goes to the previous recipient, who thus has a card and a book: one person in 20
# has a book only, one in 20 nothing, and nobody two of a kind.  Its quota is its
# commune's when the commune has one, else its province's; a delivered item in a
# commune that held a hand-over was, two times in three, given there.  The rest
# comes from hashes of j.
ITEMS_SQL = """
INSERT INTO distributions_item (
    kind, plan_id, beneficiary_id, commune_id, quota_id, pledge_id, handover_id, province_id,
    number, status, issued_on, value, benefit_level, participant_group, living_area,
    primary_care_code, primary_care_name, valid_from, valid_until, months_paid, income_base,
    delivered_on, delivery_method, delivered_by, cancel_reason, created_by_id,
    created_at, updated_at
)
SELECT
    s.kind,
    %(plan)s,
    s.beneficiary_id,
    s.commune_id,
    s.quota_id,
    s.pledge_id,
    CASE WHEN s.ceremony THEN s.handover_id END,
    s.province_id,
    CASE WHEN s.status = 'reserved' THEN ''
         WHEN s.kind = 'card' THEN 'GD' || s.level || s.province_code || lpad(s.j::text, 10, '0')
         ELSE lpad(s.j::text, 10, '0') END,
    s.status,
    i.issued_on,
    v.value,
    CASE WHEN s.kind = 'card' THEN s.level END,
    CASE WHEN s.kind = 'card' THEN 'GD' ELSE '' END,
    '',
    '',
    '',
    CASE WHEN s.kind = 'card' THEN i.issued_on END,
    CASE WHEN s.kind <> 'card' THEN NULL
         WHEN s.h / 31 %% 100 < %(expiring_percent)s
             THEN %(today)s::date + 1 + (s.h / 37 %% 60)::int
         ELSE (i.issued_on + interval '12 months' - interval '1 day')::date END,
    CASE WHEN s.kind = 'book' THEN s.value_months END,
    v.income,
    d.delivered_on,
    CASE WHEN s.status <> 'delivered' THEN ''
         WHEN s.ceremony THEN 'ceremony'
         ELSE (%(methods)s::text[])[1 + s.h / 59 %% 3] END,
    CASE WHEN s.status <> 'delivered' THEN ''
         WHEN s.ceremony THEN 'Ban tổ chức'
         ELSE (%(deliverers)s::text[])[1 + s.h / 59 %% 3] END,
    CASE WHEN s.status IN ('cancelled', 'returned')
         THEN (%(reasons)s::text[])[1 + s.h / 61 %% %(reason_count)s] ELSE '' END,
    NULL,
    d.created_at,
    greatest(d.created_at, (d.delivered_on + time '16:30') AT TIME ZONE %(time_zone)s)
FROM (
    SELECT
        r.j, r.h, r.kind, r.status,
        b.id AS beneficiary_id,
        b.commune_id,
        b.province_id,
        coalesce(cm.quota_id, pv.quota_id) AS quota_id,
        CASE WHEN r.h / 19 %% 100 < %(provincial_paid_percent)s THEN pv.pledge_id
             ELSE (%(national_pledges)s::bigint[])[1 + r.h / 23 %% %(national_count)s]
        END AS pledge_id,
        cm.handover_id,
        cm.held_on,
        pv.code AS province_code,
        r.status = 'delivered' AND cm.handover_id IS NOT NULL AND r.h / 13 %% 3 <> 0
            AS ceremony,
        (1 + r.h / 29 %% 5)::int AS level,
        CASE WHEN r.kind = 'card' THEN 12
             ELSE (%(book_months)s::int[])[1 + r.h / 41 %% %(book_month_count)s] END
            AS value_months,
        CASE WHEN r.kind = 'card' THEN 0 ELSE (1 + r.h / 53 %% %(income_steps)s)::int END
            AS value_step,
        CASE WHEN r.kind = 'card' THEN '' ELSE b.category END AS value_category
    FROM (
        SELECT
            j,
            x.h,
            CASE WHEN j %% 10 = 0 THEN 'book' ELSE 'card' END AS kind,
            CASE WHEN x.h %% 100 < 60 THEN 'delivered'
                 WHEN x.h %% 100 < 90 THEN 'issued'
                 WHEN x.h %% 100 < 95 THEN 'reserved'
                 WHEN x.h %% 100 < 98 THEN 'cancelled'
                 ELSE 'returned' END AS status,
            CASE WHEN j %% 10 <> 0 OR j / 10 %% 2 = 1 THEN j ELSE j - 1 END AS ordinal
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS j
        CROSS JOIN LATERAL (SELECT hashint8extended(j, 11) & %(positive)s AS h) AS x
    ) AS r
    JOIN beneficiaries_beneficiary AS b ON b.id = %(first_recipient)s + r.ordinal - 1
    JOIN unnest(
        %(province_ids)s::bigint[], %(province_quotas)s::bigint[],
        %(province_pledges)s::bigint[], %(province_codes)s::text[]
    ) AS pv (province_id, quota_id, pledge_id, code) ON pv.province_id = b.province_id
    LEFT JOIN unnest(
        %(commune_ids)s::bigint[], %(commune_quotas)s::bigint[],
        %(commune_handovers)s::bigint[], %(commune_held_on)s::date[]
    ) AS cm (commune_id, quota_id, handover_id, held_on) ON cm.commune_id = b.commune_id
) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.ceremony
                THEN greatest(%(starts_on)s::date, s.held_on - (s.h / 17 %% 30)::int)
                ELSE %(starts_on)s::date + (s.h / 100 %% %(days)s)::int END AS issued_on
) AS i
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN s.status <> 'delivered' THEN NULL
             WHEN s.ceremony THEN s.held_on
             ELSE least(i.issued_on + 1 + (s.h / 43 %% 45)::int, %(today)s::date) END
            AS delivered_on,
        (i.issued_on + time '08:00' + make_interval(mins => (s.h / 67 %% 540)::int))
            AT TIME ZONE %(time_zone)s AS created_at
) AS d
JOIN unnest(
    %(value_kinds)s::text[], %(value_starts)s::date[], %(value_ends)s::date[],
    %(value_months)s::int[], %(value_steps)s::int[], %(value_categories)s::text[],
    %(value_incomes)s::bigint[], %(value_amounts)s::bigint[]
) AS v (kind, starts, ends, months, step, category, income, value)
  ON v.kind = s.kind AND v.months = s.value_months AND v.step = s.value_step
 AND v.category = s.value_category AND i.issued_on >= v.starts AND i.issued_on < v.ends
"""

COUNTED = "('reserved', 'issued', 'delivered')"

# Quotas, plan and pledges as the services leave them: counters equal to the items'
# aggregates, sizes above them (quotas 5-25 % more than they used, communes' first,
# since a province's split is the sum of its communes' quotas).
COUNTERS_SQL = [
    f"""
    CREATE TEMPORARY TABLE quota_counts AS
    SELECT q.id,
           count(i.id) FILTER (WHERE i.kind = 'card' AND i.status IN {COUNTED}) AS cards_used,
           count(i.id) FILTER (WHERE i.kind = 'book' AND i.status IN {COUNTED}) AS books_used,
           count(i.id) FILTER (WHERE i.kind = 'card' AND i.status = 'delivered')
               AS cards_delivered,
           count(i.id) FILTER (WHERE i.kind = 'book' AND i.status = 'delivered')
               AS books_delivered
      FROM distributions_quota AS q
      LEFT JOIN distributions_item AS i ON i.quota_id = q.id
     WHERE q.plan_id = %(plan)s
     GROUP BY q.id
    """,
    """
    UPDATE distributions_quota AS q
       SET cards_used = c.cards_used, books_used = c.books_used,
           cards_delivered = c.cards_delivered, books_delivered = c.books_delivered,
           cards = c.cards_used + c.cards_used * (5 + q.id %% 21) / 100 + 5,
           books = c.books_used + c.books_used * (5 + q.id %% 21) / 100 + 2
      FROM quota_counts AS c
     WHERE q.id = c.id AND q.parent_id IS NOT NULL
    """,
    """
    UPDATE distributions_quota AS q
       SET cards_split = c.cards_split, books_split = c.books_split,
           cards_used = c.cards_used, books_used = c.books_used,
           cards_delivered = c.cards_delivered, books_delivered = c.books_delivered,
           cards = c.cards_split + c.cards_used
                   + (c.cards_split + c.cards_used) * (5 + q.id %% 21) / 100 + 5,
           books = c.books_split + c.books_used
                   + (c.books_split + c.books_used) * (5 + q.id %% 21) / 100 + 2
      FROM (
        SELECT counts.*,
               coalesce(sum(child.cards), 0) AS cards_split,
               coalesce(sum(child.books), 0) AS books_split
          FROM quota_counts AS counts
          LEFT JOIN distributions_quota AS child ON child.parent_id = counts.id
         GROUP BY counts.id, counts.cards_used, counts.books_used,
                  counts.cards_delivered, counts.books_delivered
      ) AS c
     WHERE q.id = c.id AND q.parent_id IS NULL
    """,
    # Targets rounded up to the next thousand above the allocation plus 5 %.
    """
    UPDATE distributions_plan AS p
       SET cards_allocated = t.cards, books_allocated = t.books,
           target_cards = (t.cards * 105 / 100 / 1000 + 1) * 1000,
           target_books = (t.books * 105 / 100 / 1000 + 1) * 1000
      FROM (
        SELECT coalesce(sum(cards), 0) AS cards, coalesce(sum(books), 0) AS books
          FROM distributions_quota
         WHERE plan_id = %(plan)s AND parent_id IS NULL
      ) AS t
     WHERE p.id = %(plan)s
    """,
    # The sponsor has paid for what was funded, and promised about a tenth more.
    f"""
    UPDATE distributions_pledge AS p
       SET cards_funded = f.cards, books_funded = f.books, value_funded = f.value,
           cards = f.cards + f.cards / 10 + 10,
           books = f.books + f.books / 10 + 2,
           amount_pledged = f.value + f.value / 10,
           amount_received = f.value,
           received_on = CASE WHEN f.value > 0 THEN p.pledged_on + 30 END
      FROM (
        SELECT pledge.id,
               count(i.id) FILTER (WHERE i.kind = 'card') AS cards,
               count(i.id) FILTER (WHERE i.kind = 'book') AS books,
               coalesce(sum(i.value), 0) AS value
          FROM distributions_pledge AS pledge
          LEFT JOIN distributions_item AS i
            ON i.pledge_id = pledge.id AND i.status IN {COUNTED}
         WHERE pledge.plan_id = %(plan)s
         GROUP BY pledge.id
      ) AS f
     WHERE p.id = f.id
    """,
]

# Each counts the rows that break a rule; all must be 0.  The foreign-key triggers
# were off while loading, so the references are checked here too.
CHECKS = {
    "items whose recipient, quota, pledge, hand-over or province is missing": """
        SELECT count(*) FROM distributions_item AS i
          LEFT JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
          LEFT JOIN distributions_quota AS q ON q.id = i.quota_id
          LEFT JOIN distributions_pledge AS p ON p.id = i.pledge_id
          LEFT JOIN distributions_handover AS h ON h.id = i.handover_id
          LEFT JOIN reference_adminunit AS u ON u.id = i.province_id
         WHERE b.id IS NULL OR q.id IS NULL OR p.id IS NULL OR u.id IS NULL
            OR (i.handover_id IS NOT NULL AND h.id IS NULL)
    """,
    "items outside their quota's or recipient's province, or of another plan": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_quota AS q ON q.id = i.quota_id
          JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
         WHERE i.province_id <> q.province_id OR b.province_id <> i.province_id
            OR q.plan_id <> i.plan_id
    """,
    "items of a commune quota whose recipient lives elsewhere": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_quota AS q ON q.id = i.quota_id
          JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
         WHERE q.parent_id IS NOT NULL AND b.commune_id <> q.unit_id
    """,
    "items paid by a pledge of another plan or province": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_pledge AS p ON p.id = i.pledge_id
         WHERE p.plan_id <> i.plan_id
            OR (p.unit_id IS NOT NULL AND p.province_id <> i.province_id)
    """,
    "items given at a hand-over of another plan or province, or not on its day": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_handover AS h ON h.id = i.handover_id
         WHERE h.plan_id <> i.plan_id OR h.province_id <> i.province_id
            OR h.status = 'planned' OR i.delivered_on <> h.held_on
    """,
    "items issued outside the plan's period or after today, delivered before issue": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_plan AS p ON p.id = i.plan_id
         WHERE i.issued_on < p.starts_on OR i.issued_on > least(p.ends_on, %(today)s)
            OR i.delivered_on < i.issued_on OR i.delivered_on > %(today)s
            OR i.value <= 0
    """,
    "quotas whose used or delivered counters differ from their items": f"""
        SELECT count(*) FROM distributions_quota AS q
          LEFT JOIN (
            SELECT quota_id,
                   count(*) FILTER (WHERE kind = 'card' AND status IN {COUNTED}) AS cu,
                   count(*) FILTER (WHERE kind = 'book' AND status IN {COUNTED}) AS bu,
                   count(*) FILTER (WHERE kind = 'card' AND status = 'delivered') AS cd,
                   count(*) FILTER (WHERE kind = 'book' AND status = 'delivered') AS bd
              FROM distributions_item GROUP BY quota_id
          ) AS a ON a.quota_id = q.id
         WHERE (q.cards_used, q.books_used, q.cards_delivered, q.books_delivered)
               IS DISTINCT FROM
               (coalesce(a.cu, 0), coalesce(a.bu, 0), coalesce(a.cd, 0), coalesce(a.bd, 0))
    """,
    "quotas whose split differs from their sub-units' quotas": """
        SELECT count(*) FROM distributions_quota AS q
          LEFT JOIN (
            SELECT parent_id, sum(cards) AS cards, sum(books) AS books
              FROM distributions_quota GROUP BY parent_id
          ) AS s ON s.parent_id = q.id
         WHERE (q.cards_split, q.books_split)
               IS DISTINCT FROM (coalesce(s.cards, 0), coalesce(s.books, 0))
    """,
    "quotas of a unit not of the plan's edition, or in another province": """
        SELECT count(*) FROM distributions_quota AS q
          JOIN distributions_plan AS p ON p.id = q.plan_id
          JOIN reference_adminunit AS u ON u.id = q.unit_id
          JOIN reference_edition AS e ON e.id = u.edition_id
          LEFT JOIN distributions_quota AS parent ON parent.id = q.parent_id
         WHERE NOT e.in_force @> p.signed_on
            OR q.province_id <> coalesce(u.province_id, u.id)
            OR (parent.id IS NOT NULL AND parent.unit_id <> u.province_id)
    """,
    "plans whose allocation differs from their top-level quotas": """
        SELECT count(*) FROM distributions_plan AS p
          LEFT JOIN (
            SELECT plan_id, sum(cards) AS cards, sum(books) AS books
              FROM distributions_quota WHERE parent_id IS NULL GROUP BY plan_id
          ) AS t ON t.plan_id = p.id
         WHERE (p.cards_allocated, p.books_allocated)
               IS DISTINCT FROM (coalesce(t.cards, 0), coalesce(t.books, 0))
    """,
    "pledges whose funded counters differ from their items": f"""
        SELECT count(*) FROM distributions_pledge AS p
          LEFT JOIN (
            SELECT pledge_id,
                   count(*) FILTER (WHERE kind = 'card') AS cards,
                   count(*) FILTER (WHERE kind = 'book') AS books,
                   sum(value) AS value
              FROM distributions_item WHERE status IN {COUNTED} GROUP BY pledge_id
          ) AS f ON f.pledge_id = p.id
         WHERE (p.cards_funded, p.books_funded, p.value_funded)
               IS DISTINCT FROM (coalesce(f.cards, 0), coalesce(f.books, 0), coalesce(f.value, 0))
    """,
    "hand-overs not in a commune of their day's edition, or in another province": """
        SELECT count(*) FROM distributions_handover AS h
          JOIN reference_adminunit AS u ON u.id = h.place_id
          JOIN reference_edition AS e ON e.id = u.edition_id
         WHERE u.level <> 3 OR NOT e.in_force @> h.held_on OR h.province_id <> u.province_id
    """,
}

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
    "cards expiring within 60 days": f"""
        SELECT count(*) FROM distributions_item
         WHERE kind = 'card' AND status IN {COUNTED}
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


@dataclass
class Records:
    """What the ORM wrote, as the items' SQL needs it."""

    plan_id: int
    starts_on: datetime.date
    last_day: datetime.date
    province_rows: list[tuple[int, int, int, str]]  # province, quota, pledge, code
    commune_rows: list[tuple[int, int | None, int | None, datetime.date | None]]
    national_pledges: list[int]


def _plan_period(today: datetime.date):
    """Return the edition and the plan's days: signed, first, last, and the last with items.

    A year that ends today, signed a month before it starts, under the 2025
    edition (in force from 1 July 2025): the quotas and hand-overs use its units.
    """
    from distributions.services.values import card_end
    from reference.selectors import edition_in_force_on

    edition = edition_in_force_on(today)
    starts_on = max(
        edition.in_force.lower + datetime.timedelta(days=30), today - datetime.timedelta(days=364)
    )
    signed_on = starts_on - datetime.timedelta(days=30)
    if edition_in_force_on(signed_on).pk != edition.pk:
        raise SystemExit(f"The {edition} was not in force on {signed_on}: no plan to sign.")
    ends_on = card_end(starts_on, 12)  # the day before the same date a year later
    return edition, signed_on, starts_on, ends_on, min(ends_on, today)


def _create_records(today: datetime.date) -> Records:
    """Write the plan, quotas, sponsors, pledges and hand-overs (a few hundred rows)."""
    from django.db import connection, transaction

    from distributions.demo.records import SPONSORS
    from distributions.models import Handover, Plan, Pledge, Quota
    from reference.models import AdminUnit, UnitLevel
    from sponsors.models import Sponsor

    edition, signed_on, starts_on, ends_on, last_day = _plan_period(today)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # No audit events for the bench's records, as for the rows written in SQL.
            cursor.execute("SET LOCAL session_replication_role = replica")
        plan = Plan.objects.create(
            number=PLAN_NUMBER,
            title="Kế hoạch trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn",
            signed_on=signed_on,
            signed_by="Tổng Giám đốc Bảo hiểm xã hội Việt Nam",
            starts_on=starts_on,
            ends_on=ends_on,
            status=Plan.Status.ACTIVE,
        )
        sponsors = Sponsor.objects.bulk_create(
            Sponsor(
                short_name=data.short_name,
                name_vi=data.name_vi,
                name_en=data.name_en,
                kind=data.kind,
                tax_code=data.tax_code,
            )
            for data in SPONSORS
        )
        units = AdminUnit.objects.filter(edition=edition).select_related("province")
        provinces = list(units.filter(level=UnitLevel.PROVINCE).order_by("code"))
        communes = list(units.filter(level=UnitLevel.COMMUNE).order_by("pk"))

        province_quotas = {
            quota.unit_id: quota
            for quota in Quota.objects.bulk_create(
                Quota(plan=plan, unit=unit, province_id=unit.current_province_id)
                for unit in provinces
            )
        }
        commune_quotas = {
            quota.unit_id: quota
            for quota in Quota.objects.bulk_create(
                Quota(
                    plan=plan,
                    unit=unit,
                    province_id=unit.current_province_id,
                    parent=province_quotas[unit.province_id],
                )
                for unit in communes[::COMMUNE_QUOTA_EVERY]
            )
        }

        pledged_on = signed_on + datetime.timedelta(days=10)
        national = Pledge.objects.bulk_create(
            Pledge(plan=plan, sponsor=sponsor, pledged_on=pledged_on)
            for sponsor in sponsors[:NATIONAL_SPONSORS]
        )
        regional = sponsors[NATIONAL_SPONSORS:]
        provincial = {
            pledge.unit_id: pledge
            for pledge in Pledge.objects.bulk_create(
                Pledge(
                    plan=plan,
                    sponsor=regional[number % len(regional)],
                    unit=unit,
                    province_id=unit.current_province_id,
                    pledged_on=pledged_on,
                )
                for number, unit in enumerate(provinces)
            )
        }

        handovers = _create_handovers(plan, communes, sponsors, starts_on, last_day, today)

    held = {
        handover.place_id: handover
        for handover in handovers
        if handover.status != Handover.Status.PLANNED
    }
    return Records(
        plan_id=plan.pk,
        starts_on=starts_on,
        last_day=last_day,
        province_rows=[
            (unit.pk, province_quotas[unit.pk].pk, provincial[unit.pk].pk, unit.code)
            for unit in provinces
        ],
        commune_rows=[
            (
                commune,
                commune_quotas[commune].pk if commune in commune_quotas else None,
                held[commune].pk if commune in held else None,
                held[commune].held_on if commune in held else None,
            )
            for commune in sorted(commune_quotas.keys() | held.keys())
        ],
        national_pledges=[pledge.pk for pledge in national],
    )


def _create_handovers(plan, communes, sponsors, starts_on, last_day, today) -> list:
    """Write HANDOVERS hand-overs in communes spread over the country and the year."""
    from distributions.models import Handover

    places = communes[5 :: max(1, len(communes) // HANDOVERS)][:HANDOVERS]
    # From three weeks after the start (the first cards need printing) to today.
    first = starts_on + datetime.timedelta(days=21)
    span = max(1, (last_day - first).days)
    handovers = []
    for number, place in enumerate(places):
        if number % PLANNED_HANDOVER_EVERY == PLANNED_HANDOVER_EVERY - 1:
            held_on, status = today + datetime.timedelta(days=1 + number % 30), "planned"
        else:
            held_on = min(first + datetime.timedelta(days=number * span // len(places)), today)
            status = "closed" if (today - held_on).days > 30 else "held"
        handovers.append(
            Handover(
                plan=plan,
                held_on=held_on,
                place=place,
                province_id=place.current_province_id,
                title=f"Lễ trao tặng sổ BHXH, thẻ BHYT tại {place.name}",
                officials_present="Lãnh đạo BHXH tỉnh; Chủ tịch UBND xã",
                status=status,
            )
        )
    handovers = Handover.objects.bulk_create(handovers)
    through = Handover.sponsors_present.through
    through.objects.bulk_create(
        through(handover_id=handover.pk, sponsor_id=sponsors[number % len(sponsors)].pk)
        for number, handover in enumerate(handovers)
    )
    return handovers


def _value_rows(first: datetime.date, last: datetime.date) -> list[tuple]:
    """Return what each card and book variant is worth, for each period of unchanged rates.

    Computed by the services' own functions, so a card or book is worth what
    item_issue would have stored: (kind, from, until, months, income step,
    category, income, value).
    """
    from beneficiaries.models import Beneficiary
    from distributions.services.values import book_value, card_value
    from reference.models import Rate
    from reference.selectors import rate_on

    changes = Rate.objects.filter(valid_from__gt=first, valid_from__lte=last).values_list(
        "valid_from", flat=True
    )
    starts = [first, *sorted(set(changes))]
    ends = [*starts[1:], last + datetime.timedelta(days=1)]
    rows = []
    for start, end in zip(starts, ends, strict=True):
        rows.append(("card", start, end, 12, 0, "", None, card_value(valid_from=start)))
        lowest = rate_on(Rate.Kind.VSI_MINIMUM_INCOME, start)
        for months in BOOK_MONTHS:
            for step in range(1, INCOME_STEPS + 1):
                income = int(lowest * step)
                for category in Beneficiary.Category.values:
                    value = book_value(
                        issued_on=start, months=months, income_base=income, category=category
                    )
                    rows.append(("book", start, end, months, step, category, income, value))
    return rows


def _item_parameters(records: Records, first_recipient: int, today: datetime.date) -> dict:
    from django.conf import settings

    values = _value_rows(records.starts_on, records.last_day)
    provinces, communes = records.province_rows, records.commune_rows
    return {
        "plan": records.plan_id,
        "first_recipient": first_recipient,
        "starts_on": records.starts_on,
        "days": (records.last_day - records.starts_on).days + 1,
        "today": today,
        "time_zone": settings.TIME_ZONE,
        "positive": 2**63 - 1,
        "province_ids": [row[0] for row in provinces],
        "province_quotas": [row[1] for row in provinces],
        "province_pledges": [row[2] for row in provinces],
        "province_codes": [row[3] for row in provinces],
        "commune_ids": [row[0] for row in communes],
        "commune_quotas": [row[1] for row in communes],
        "commune_handovers": [row[2] for row in communes],
        "commune_held_on": [row[3] for row in communes],
        "national_pledges": records.national_pledges,
        "national_count": len(records.national_pledges),
        "provincial_paid_percent": PROVINCIAL_PAID_PERCENT,
        "expiring_percent": EXPIRING_PERCENT,
        "book_months": BOOK_MONTHS,
        "book_month_count": len(BOOK_MONTHS),
        "income_steps": INCOME_STEPS,
        "methods": ["provincial_office", "commune", "post"],
        "deliverers": ["Cán bộ BHXH tỉnh", "Cán bộ xã", "Bưu điện"],
        "reasons": [
            "Người nhận đã có thẻ BHYT do ngân sách nhà nước đóng",
            "Sai thông tin người nhận, cấp lại",
            "Người nhận chuyển đi nơi khác",
            "Người nhận đã mất",
        ],
        "reason_count": 4,
        **{
            f"value_{name}": [row[index] for row in values]
            for index, name in enumerate(
                ("kinds", "starts", "ends", "months", "steps", "categories", "incomes", "amounts")
            )
        },
    }


def _execute(database: str, statements: list[str], parameters: dict) -> None:
    """Run ``statements`` in one connection of its own, audit triggers off."""
    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            for statement in statements:
                cursor.execute(statement, parameters)
    finally:
        connection.close()


def _recipient_ids(database: str, count: int) -> int:
    """Return the first recipient's id; the items' SQL counts on consecutive ids."""
    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id), count(*) FROM beneficiaries_beneficiary")
            first, last, rows = cursor.fetchone()
    finally:
        connection.close()
    if rows != count or last - first + 1 != count:
        raise SystemExit(f"Expected {count:,} recipients with consecutive ids: {rows:,}.")
    return first


def load(database: str, items: int) -> float:
    """Write the recipients, the plan and its records, the items and the counters.

    Return the seconds it took (Django set up on the migrated, empty database).
    """
    from django.utils import timezone

    today = timezone.localdate()
    start = time.perf_counter()
    print(f"Loading {items:,} recipients...", flush=True)
    load_recipients(database, items, missing_id_every=MISSING_ID_EVERY)
    first_recipient = _recipient_ids(database, items)
    _execute(
        database,
        [DUPLICATES_SQL],
        {"first_id": first_recipient, "every": DUPLICATE_EVERY, "count": items},
    )

    step = time.perf_counter()
    records = _create_records(today)
    parameters = _item_parameters(records, first_recipient, today)
    print(
        f"  plan, {len(records.province_rows)} provinces' quotas and pledges, "
        f"{len(records.commune_rows)} communes' quotas or hand-overs in "
        f"{time.perf_counter() - step:.1f} s",
        flush=True,
    )

    step = time.perf_counter()
    print(f"Loading {items:,} cards and books...", flush=True)
    inserted = insert_in_slices(database, ITEMS_SQL, parameters, items)
    if inserted != items:
        raise SystemExit(f"{inserted:,} items written of {items:,}: a join lost some rows.")
    print(f"  {inserted:,} items inserted in {time.perf_counter() - step:.1f} s", flush=True)

    step = time.perf_counter()
    _execute(database, COUNTERS_SQL, {"plan": records.plan_id})
    print(f"  counters set in {time.perf_counter() - step:.1f} s", flush=True)

    # The triggers that keep the tally of items were off with the others.
    from distributions.services import item_tally_rebuild

    step = time.perf_counter()
    tally_rows = item_tally_rebuild()
    print(f"  {tally_rows:,} tally rows counted in {time.perf_counter() - step:.1f} s", flush=True)

    step = time.perf_counter()
    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            # As autovacuum would have long before a real table held a million rows.
            cursor.execute("VACUUM (FREEZE, ANALYZE) distributions_item")
            cursor.execute("VACUUM ANALYZE beneficiaries_beneficiary")
            cursor.execute("ANALYZE")
    finally:
        connection.close()
    print(f"  vacuumed and analysed in {time.perf_counter() - step:.1f} s", flush=True)
    return time.perf_counter() - start


def check(database: str) -> list[str]:
    """Return the rules the loaded rows break (CHECKS), with the number of rows."""
    from django.utils import timezone

    connection = _connect(database)
    broken = []
    try:
        with connection.cursor() as cursor:
            for rule, sql in CHECKS.items():
                cursor.execute(sql, {"today": timezone.localdate()})
                (rows,) = cursor.fetchone()
                if rows:
                    broken.append(f"{rows:,} {rule}")
    finally:
        connection.close()
    return broken


def row_counts(database: str) -> dict[str, int]:
    from django.utils import timezone

    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            counts = {}
            for name, sql in COUNTS.items():
                cursor.execute(sql, {"today": timezone.localdate()})
                counts[name] = cursor.fetchone()[0]
            return counts
    finally:
        connection.close()


def _sizes(database: str) -> tuple[int, int] | None:
    """Return the numbers of recipients and items in ``database``; None without the tables."""
    from psycopg2 import errors

    connection = _connect(database)
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


@dataclass
class Page:
    user: str
    name: str
    path: str
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    status: int = 0
    content_type: str = ""
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
        elif self.name.endswith("export") and not self.content_type.startswith(XLSX):
            missed.append("not XLSX")
        if self.median_ms > PAGE_BUDGET_MS:
            missed.append("time")
        if self.queries > QUERY_BUDGET:
            missed.append("queries")
        return missed


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
    # A kept database may have had another busiest province with other --items.
    UnitAssignment.objects.filter(user=staff).exclude(unit_id=province).delete()
    UnitAssignment.objects.get_or_create(user=staff, unit_id=province)
    return admin, staff


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


def measure(client, user: str, name: str, path: str, repeat: int) -> Page:
    """GET ``path`` once to warm up, then ``repeat`` times; return the figures."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = Page(user, name, path)
    client.get(path)
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path)
            if response.streaming:
                # A streamed export is made while it is read: its time is the server's too.
                b"".join(response.streaming_content)
            page.times_ms.append((time.perf_counter() - start) * 1000)
        page.queries = max(page.queries, len(captured))
        if response.status_code != 200:
            break  # it would fail each time: once is enough for the table (and the log)
    page.status = response.status_code
    page.content_type = response.get("Content-Type", "")
    if response.exc_info:
        page.error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    return page


def measure_pages(found: Targets, repeat: int) -> list[Page]:
    from django.test import Client

    admin, staff = users(found.province)
    pages = []
    for label, user, commune in (
        ("superuser", admin, found.commune),
        ("provincial staff", staff, found.province_commune),
    ):
        # A server error is a figure of the table, not the end of the run.
        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        client.force_login(user)
        for name, path in page_paths(found, commune):
            page = measure(client, label, name, path, repeat)
            pages.append(page)
            print(
                f"  {label}, {name}: {page.median_ms:.0f} ms, {page.queries} queries, "
                f"{page.status}",
                flush=True,
            )
    return pages


# ---------------------------------------------------------------------------
# Reporting


def _print_counts(counts: dict[str, int]) -> None:
    print("\nRows:")
    for name, rows in counts.items():
        print(f"  {name:<32} {rows:>10,}")


def _print_table(pages: list[Page]) -> None:
    header = (
        f"{'user':<17} {'page':<19} {'median ms':>9} {'max ms':>7} {'queries':>7} "
        f"{'status':>6}  result"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for page in pages:
        missed = page.failures()
        print(
            f"{page.user:<17} {page.name:<19} {page.median_ms:>9.1f} {page.max_ms:>7.1f} "
            f"{page.queries:>7} {page.status:>6}  "
            f"{'FAIL (' + ', '.join(missed) + ')' if missed else 'pass'}"
        )
    print(f"Budget: median ≤ {PAGE_BUDGET_MS:g} ms and ≤ {QUERY_BUDGET} queries, status 200.")
    for page in pages:
        if page.error:
            print(f"  {page.user}, {page.name}: {page.error}")
    for page in pages[: len(PAGES)]:
        print(f"  {page.name}: GET {page.path}")


def _record(args, database: str, load_s, counts, found: Targets, pages, passed) -> None:
    record = {
        **_record_header("dashboards", database),
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
        "pages": [
            {
                "user": page.user,
                "page": page.name,
                "path": page.path,
                "median_ms": round(page.median_ms, 1),
                "max_ms": round(page.max_ms, 1),
                "times_ms": [round(ms, 1) for ms in page.times_ms],
                "queries": page.queries,
                "status": page.status,
                "failures": page.failures(),
            }
            for page in pages
        ],
        "budget_ms": PAGE_BUDGET_MS,
        "query_budget": QUERY_BUDGET,
        "passed": passed,
    }
    _append_record(record)


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
    parser.add_argument(
        "--keep",
        "--keep-db",
        action="store_true",
        help="keep the bench database afterwards; reuse it when it has as many items",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="create and load the database, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.items < 100:
        parser.error("--items must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # Before the settings are read: force_login verifies no authenticator code, and
    # with OTP_REQUIRED the pages would send the user to enrol one.
    os.environ.setdefault("OTP_REQUIRED", "false")

    database, reuse = _open_database(
        f"{_settings().DATABASES['default']['NAME']}_dash_bench",
        keep=args.keep,
        reusable=lambda name: _sizes(name) == (args.items, args.items),
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
        load_s = load(database, args.items)
        print(f"Loaded in {load_s:.1f} s", flush=True)
        start = time.perf_counter()
        broken = check(database)
        print(
            f"Checked in {time.perf_counter() - start:.1f} s: "
            + ("; ".join(broken) if broken else "every rule holds, counters agree with the items"),
            flush=True,
        )
        if broken:
            return 2
    counts = row_counts(database)
    _print_counts(counts)
    if args.load_only:
        return 0

    settings = _settings()
    # The test client asks as 127.0.0.1 over plain HTTP, like the API benchmark's server.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    found = targets()
    print(
        f"\nPlan {found.plan}; busiest province {found.province}, commune {found.commune} "
        f"({found.province_commune} in the province); sponsor {found.sponsor}; "
        f"{args.repeat} requests per page after one to warm up...",
        flush=True,
    )
    pages = measure_pages(found, args.repeat)
    _print_table(pages)
    if args.items != 1_000_000:
        print("\nThe budget is for 1,000,000 items.")

    passed = not any(page.failures() for page in pages)
    _record(args, database, load_s, counts, found, pages, passed)
    print(f"\n{'All budgets met.' if passed else 'Some budgets missed.'}")
    print(f"Figures appended to {RESULTS.relative_to(ROOT)}.")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
