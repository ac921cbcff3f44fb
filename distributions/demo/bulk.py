"""Demo data at scale: plans, quotas, pledges, hand-overs and cards and books, in SQL.

``manage.py generate_demo`` and the dashboards benchmark (bench.dashboards)
call ``demo_generate``; the REST API benchmark only the recipients' part
(beneficiaries.demo).  Unlike the Lào Cai story (distributions.demo.loader),
nothing goes through the services: a million ``item_issue`` calls would take
hours.  The plans and the few hundred quotas, pledges and hand-overs of each are
written through the ORM; the items by ``INSERT ... SELECT FROM generate_series``
inside PostgreSQL (reference.bulk), triggers off, and made so that the
services' own rules hold:

- each person of the load belongs to one plan's cohort (beneficiaries.demo):
  there they get a card, or a book if of working age, or both, or (one in 20)
  nothing yet; RENEWAL_PERCENT of the card holders get a card again in the
  next plan;
- an item counts against the quota of its recipient's commune when that has
  one, else of the province; under a plan of the 2024 units, the commune of
  2024 whose code today's commune kept, and its province (Hợp Thành 2024 for
  Hợp Thành of today, in Lào Cai of 2024);
- a provincial pledge pays only in its province; a hand-over gives only items
  of its province, on its day, at a place of the units in force that day;
- values come from the dated rates (distributions.services.values), dates are
  within the plan and not after today, delivery never before issue, returned
  items were delivered first;
- the counters of quotas, plans and pledges are then set from the items and
  the sizes a little above them (COUNTERS_SQL), the tally is counted again
  (item_tally_rebuild), and everything is checked in SQL (CHECKS).
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from beneficiaries import demo as recipients
from beneficiaries.models import Beneficiary
from reference import bulk
from reference.models import AdminUnit, Edition, Rate, UnitLevel
from reference.selectors import edition_in_force_on, rate_on
from sponsors.models import Sponsor

from ..models import Handover, Item, Plan, Pledge, Quota
from ..services import item_tally_rebuild
from ..services.values import book_value, card_value
from .records import SPONSORS

# What marks a generated plan: ``--replace`` deletes these with all they hold.
GENERATED_PLAN_PREFIX = "DEMO-"
MAX_PLANS = 5
# Row slots of each ROW_CYCLE (beneficiaries.demo): nothing yet, a book only, both.
NOTHING_SLOT = 0
BOOK_ONLY_SLOT, CARD_AND_BOOK_SLOT = recipients.WORKING_AGE_SLOTS
RENEWAL_PERCENT = 30
# Percent of items delivered, issued, reserved and cancelled (the rest returned): a
# plan under way, and one that is over, where most were given long ago.
CURRENT_STATUSES = (60, 30, 5, 3)
FINISHED_STATUSES = (88, 4, 0, 5)
# The sponsors (distributions.demo.records.SPONSORS) whose pledges fund anywhere; each
# province has a pledge of one of the others.
NATIONAL_SPONSORS = 3
# Items paid by their province's pledge (the rest by a national one), in percent.
PROVINCIAL_PAID_PERCENT = 40
BOOK_MONTHS = [12, 24, 36, 60]
# A book's monthly income: the lowest allowed times 1, 2 or 3.
INCOME_STEPS = 3
DELIVERY_METHODS = ["provincial_office", "commune", "post"]
DELIVERERS = ["Cán bộ BHXH tỉnh", "Cán bộ xã", "Bưu điện"]
CANCEL_REASONS = [
    "Người nhận đã có thẻ BHYT do ngân sách nhà nước đóng",
    "Sai thông tin người nhận, cấp lại",
    "Người nhận chuyển đi nơi khác",
    "Người nhận đã mất",
]
GENERATED_PLAN_NOTE = (
    "Dữ liệu mẫu sinh tự động (generate_demo): chỉ tiêu, tài trợ, buổi trao tặng và "
    "người nhận là giả định."
)


@dataclass(frozen=True)
class PlanSpec:
    """A plan to generate, with what its items look like."""

    number: str
    title: str
    signed_on: datetime.date
    starts_on: datetime.date
    ends_on: datetime.date
    statuses: tuple[int, int, int, int] = CURRENT_STATUSES
    handovers: int = 300
    # One hand-over in this many is still planned, in the coming month (None: none).
    planned_handover_every: int | None = 10
    # Cards made to expire within the next 60 days, in percent (besides those that do).
    expiring_percent: int = 0
    # One commune in this many has a quota of its own, split from its province's.
    commune_quota_every: int = 10
    notes: str = ""

    def last_day(self, today: datetime.date) -> datetime.date:
        """Return the last day items may be issued on: the plan's last, or today."""
        return min(self.ends_on, today)


def yearly_plans(count: int, *, today: datetime.date, recipients_count: int) -> list[PlanSpec]:
    """Return ``count`` plans of a calendar year each, the last one under way.

    Each is signed on 29 November of the year before, as 4033/KH-BHXH was, so
    under the units in force then: with today in 2026, the 2025 plan counts
    against the 63 provinces of 2024 and the 2026 one against the 34 of today.
    The year under way counts from April, so that its plan has had time to give.
    """
    last_year = (today - datetime.timedelta(days=90)).year
    handovers = max(5, min(300, recipients_count // (count * 2000)))
    specs = []
    for year in range(last_year - count + 1, last_year + 1):
        ends_on = datetime.date(year, 12, 31)
        finished = ends_on < today
        specs.append(
            PlanSpec(
                number=f"{GENERATED_PLAN_PREFIX}{year}/KH-BHXH",
                title=(
                    'Kế hoạch tổ chức Chương trình "Trao tặng sổ BHXH, thẻ BHYT cho người có '
                    f'hoàn cảnh khó khăn" năm {year}'
                ),
                signed_on=datetime.date(year - 1, 11, 29),
                starts_on=datetime.date(year, 1, 1),
                ends_on=ends_on,
                statuses=FINISHED_STATUSES if finished else CURRENT_STATUSES,
                handovers=handovers,
                planned_handover_every=None if finished else 10,
                notes=GENERATED_PLAN_NOTE,
            )
        )
    return specs


# ---------------------------------------------------------------------------
# Plans, quotas, pledges and hand-overs: a few hundred rows each, through the ORM


@dataclass
class PlanRecords:
    """What the ORM wrote for one plan, as the items' SQL needs it."""

    spec: PlanSpec
    plan_id: int
    # One row per commune of today: (commune, quota, provincial pledge, the quota's
    # province code for card numbers, hand-over held there, its day).
    areas: list[tuple[int, int, int, str, int | None, datetime.date | None]]
    national_pledges: list[int]


def _sponsors() -> list[Sponsor]:
    """Return the seven demo sponsors in SPONSORS' order, creating those missing."""
    found = Sponsor.objects.in_bulk([data.short_name for data in SPONSORS], field_name="short_name")
    Sponsor.objects.bulk_create(
        Sponsor(
            short_name=data.short_name,
            name_vi=data.name_vi,
            name_en=data.name_en,
            kind=data.kind,
            tax_code=data.tax_code,
        )
        for data in SPONSORS
        if data.short_name not in found
    )
    found = Sponsor.objects.in_bulk([data.short_name for data in SPONSORS], field_name="short_name")
    return [found[data.short_name] for data in SPONSORS]


@dataclass
class _Units:
    """The units of every edition, found from today's communes by code and province."""

    editions: list[Edition]
    communes: list[AdminUnit]  # today's, by id
    by_pk: dict[int, AdminUnit]  # today's communes
    # (code, province of today) -> unit, for each level-3 unit of each edition
    by_code: dict[tuple[int, str, int], AdminUnit]
    provinces: dict[int, list[AdminUnit]]  # edition -> provinces by code

    @classmethod
    def load(cls, today: datetime.date) -> "_Units":
        today_edition = edition_in_force_on(today)
        units = AdminUnit.objects.select_related("province").order_by("pk")
        by_code, provinces = {}, {}
        communes = []
        for unit in units.filter(level=UnitLevel.COMMUNE):
            by_code[(unit.edition_id, unit.code, unit.current_province_id)] = unit
            if unit.edition_id == today_edition.pk:
                communes.append(unit)
        for unit in units.filter(level=UnitLevel.PROVINCE).order_by("code"):
            provinces.setdefault(unit.edition_id, []).append(unit)
        return cls(
            editions=list(Edition.objects.all()),
            communes=communes,
            by_pk={commune.pk: commune for commune in communes},
            by_code=by_code,
            provinces=provinces,
        )

    def edition_on(self, day: datetime.date) -> Edition:
        return next(edition for edition in self.editions if day in edition.in_force)

    def then(self, edition: Edition, commune: AdminUnit) -> AdminUnit | None:
        """Return the commune of ``edition`` that today's ``commune`` continues, if any."""
        return self.by_code.get((edition.pk, commune.code, commune.province_id))

    def province_then(self, edition: Edition, commune: AdminUnit) -> AdminUnit:
        """Return the province of ``edition`` that today's ``commune`` lay in."""
        old = self.then(edition, commune)
        if old is not None:
            return old.province
        # A code new in today's units: its province's first predecessor.
        return next(
            province
            for province in self.provinces[edition.pk]
            if province.current_province_id == commune.province_id
        )


def _handover_places(loaded: recipients.RecipientsLoaded, count: int) -> list[int]:
    """Return the ``count`` communes of today where most of the load's people live.

    Ceremonies are held where many recipients are; with a small load, that is
    also where some items can be given at them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT commune_id FROM beneficiaries_beneficiary
             WHERE id BETWEEN %s AND %s
             GROUP BY commune_id ORDER BY count(*) DESC, commune_id LIMIT %s
            """,
            [loaded.first_id, loaded.last_id, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _create_plan(
    spec: PlanSpec,
    number: int,
    plans: int,
    *,
    units: _Units,
    sponsors: list[Sponsor],
    places: list[int],
    today: datetime.date,
) -> PlanRecords:
    """Write one plan with its quotas, pledges and hand-overs."""
    edition = edition_in_force_on(spec.signed_on)
    plan = Plan.objects.create(
        number=spec.number,
        title=spec.title,
        signed_on=spec.signed_on,
        signed_by="Tổng Giám đốc Bảo hiểm xã hội Việt Nam",
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        status=Plan.Status.ACTIVE if spec.ends_on >= today else Plan.Status.CLOSED,
        notes=spec.notes,
    )
    provinces = units.provinces[edition.pk]
    province_quotas = {
        quota.unit_id: quota
        for quota in Quota.objects.bulk_create(
            Quota(plan=plan, unit=unit, province_id=unit.current_province_id) for unit in provinces
        )
    }
    # Communes of the plan's units that a commune of today continues: only there
    # can today's people be counted against a commune's quota.
    continued = [
        old for commune in units.communes if (old := units.then(edition, commune)) is not None
    ]
    continued.sort(key=lambda unit: unit.pk)
    commune_quotas = {
        quota.unit_id: quota
        for quota in Quota.objects.bulk_create(
            Quota(
                plan=plan,
                unit=unit,
                province_id=unit.current_province_id,
                parent=province_quotas[unit.province_id],
            )
            for unit in continued[:: spec.commune_quota_every]
        )
    }

    pledged_on = spec.signed_on + datetime.timedelta(days=10)
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
                sponsor=regional[index % len(regional)],
                unit=unit,
                province_id=unit.current_province_id,
                pledged_on=pledged_on,
            )
            for index, unit in enumerate(provinces)
        )
    }

    held = _create_handovers(
        spec,
        plan,
        units=units,
        places=[
            commune
            for pk in places[number::plans]
            if units.then(edition, commune := units.by_pk[pk]) is not None
        ],
        sponsors=sponsors,
        provincial=provincial,
        edition=edition,
        today=today,
    )
    areas = []
    for commune in units.communes:
        province = units.province_then(edition, commune)
        old = units.then(edition, commune)
        quota = commune_quotas.get(old.pk) if old else None
        handover = held.get(commune.pk)
        areas.append(
            (
                commune.pk,
                (quota or province_quotas[province.pk]).pk,
                provincial[province.pk].pk,
                province.code,
                handover.pk if handover else None,
                handover.held_on if handover else None,
            )
        )
    return PlanRecords(
        spec=spec,
        plan_id=plan.pk,
        areas=areas,
        national_pledges=[pledge.pk for pledge in national],
    )


def _create_handovers(
    spec: PlanSpec,
    plan: Plan,
    *,
    units: _Units,
    places: list[AdminUnit],
    sponsors: list[Sponsor],
    provincial: dict[int, Pledge],
    edition: Edition,
    today: datetime.date,
) -> dict[int, Handover]:
    """Write the plan's hand-overs, spread over its days; return those held, by commune of today.

    Each is held at the commune as it was named on its day, with the national
    sponsors in turn and the province's own sponsor present.
    """
    places = places[: spec.handovers]
    # From three weeks after the start (the first cards need printing) to the last day.
    first = spec.starts_on + datetime.timedelta(days=21)
    last = spec.last_day(today)
    span = max(1, (last - first).days)
    rows = []
    for index, commune in enumerate(places):
        every = spec.planned_handover_every
        if every and index % every == every - 1:
            held_on = today + datetime.timedelta(days=1 + index % 30)
            if spec.ends_on > today:
                held_on = min(held_on, spec.ends_on)
            status = Handover.Status.PLANNED
        else:
            held_on = min(first + datetime.timedelta(days=index * span // len(places)), last)
            recent = (today - held_on).days <= 30
            status = Handover.Status.HELD if recent else Handover.Status.CLOSED
        place = units.then(units.edition_on(held_on), commune)
        province = units.province_then(edition, commune)
        rows.append(
            (
                commune.pk,
                Handover(
                    plan=plan,
                    held_on=held_on,
                    place=place,
                    province_id=place.current_province_id,
                    title=f"Lễ trao tặng sổ BHXH, thẻ BHYT tại {place.name}",
                    officials_present="Lãnh đạo BHXH tỉnh; Chủ tịch UBND xã",
                    status=status,
                ),
                [sponsors[index % NATIONAL_SPONSORS].pk, provincial[province.pk].sponsor_id],
            )
        )
    Handover.objects.bulk_create(handover for _, handover, _ in rows)
    through = Handover.sponsors_present.through
    through.objects.bulk_create(
        through(handover_id=handover.pk, sponsor_id=sponsor)
        for _, handover, present in rows
        for sponsor in dict.fromkeys(present)
    )
    return {
        commune: handover
        for commune, handover, _ in rows
        if handover.status != Handover.Status.PLANNED
    }


def plans_create(
    specs: Sequence[PlanSpec],
    loaded: recipients.RecipientsLoaded,
    *,
    today: datetime.date,
    progress: bulk.Progress | None = None,
) -> list[PlanRecords]:
    """Write the plans of ``specs`` with their quotas, pledges and hand-overs, in one transaction.

    Hand-overs are held where the people of ``loaded`` are most numerous.
    """
    units = _Units.load(today)
    places = _handover_places(loaded, sum(spec.handovers for spec in specs))
    records = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            # No audit events, as for the rows written in SQL.
            cursor.execute("SET LOCAL session_replication_role = replica")
        sponsors = _sponsors()
        for number, spec in enumerate(specs):
            records.append(
                _create_plan(
                    spec,
                    number,
                    len(specs),
                    units=units,
                    sponsors=sponsors,
                    places=places,
                    today=today,
                )
            )
            if progress is not None:
                progress(1)
    return records


# ---------------------------------------------------------------------------
# Cards and books


def _value_rows(first: datetime.date, last: datetime.date) -> list[tuple]:
    """Return what each card and book variant is worth, for each period of unchanged rates.

    Computed by the services' own functions, so a card or book is worth what
    item_issue would have stored: (kind, from, until, months, income step,
    category, income, value).
    """
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


# Row n (from 1) of the load is the person with id first_recipient + n - 1, who gets
# up to three items: (their cohort's plan, a card), (the same plan, a book),
# (the next plan, a card again).  Item m = 4n + slot is made from hashes of m.
ITEMS_SQL = f"""
INSERT INTO distributions_item (
    kind, plan_id, beneficiary_id, commune_id, quota_id, pledge_id, handover_id, province_id,
    number, status, issued_on, value, benefit_level, participant_group, living_area,
    primary_care_code, primary_care_name, valid_from, valid_until, months_paid, income_base,
    delivered_on, delivery_method, delivered_by, cancel_reason, created_by_id,
    created_at, updated_at
)
SELECT
    s.kind,
    s.plan_id,
    s.beneficiary_id,
    s.commune_id,
    s.quota_id,
    s.pledge_id,
    CASE WHEN s.ceremony THEN s.handover_id END,
    s.province_id,
    CASE WHEN s.status = 'reserved' THEN ''
         WHEN %(check_numbers)s AND EXISTS (
             SELECT 1 FROM distributions_item AS other
              WHERE other.kind = s.kind AND other.number = s.number
         ) THEN ''
         ELSE s.number END,
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
         WHEN s.h / 31 %% 100 < s.expiring_percent
             THEN %(today)s::date + 1 + (s.h / 37 %% 60)::int
         ELSE (i.issued_on + interval '12 months' - interval '1 day')::date END,
    CASE WHEN s.kind = 'book' THEN s.value_months END,
    v.income,
    d.delivered_on,
    CASE WHEN d.delivered_on IS NULL THEN ''
         WHEN s.ceremony THEN 'ceremony'
         ELSE (%(methods)s::text[])[1 + s.h / 59 %% 3] END,
    CASE WHEN d.delivered_on IS NULL THEN ''
         WHEN s.ceremony THEN 'Ban tổ chức'
         ELSE (%(deliverers)s::text[])[1 + s.h / 59 %% 3] END,
    CASE WHEN s.status IN ('cancelled', 'returned')
         THEN (%(reasons)s::text[])[1 + s.h / 61 %% %(reason_count)s] ELSE '' END,
    NULL,
    d.created_at,
    greatest(
        d.created_at,
        (coalesce(d.delivered_on, i.issued_on) + time '16:30') AT TIME ZONE %(time_zone)s
    )
FROM (
    SELECT
        r.h, r.kind, r.status,
        (%(plan_ids)s::bigint[])[r.plan_no] AS plan_id,
        (%(starts_on)s::date[])[r.plan_no] AS starts_on,
        (%(days)s::int[])[r.plan_no] AS days,
        (%(expiring_percent)s::int[])[r.plan_no] AS expiring_percent,
        b.id AS beneficiary_id,
        b.commune_id,
        b.province_id,
        a.quota_id,
        CASE WHEN r.h / 19 %% 100 < %(provincial_paid_percent)s THEN a.pledge_id
             ELSE (%(national_pledges)s::bigint[])[
                 (r.plan_no - 1) * %(national_count)s + 1 + r.h / 23 %% %(national_count)s]
        END AS pledge_id,
        a.handover_id,
        a.held_on,
        r.status IN ('delivered', 'returned') AND a.handover_id IS NOT NULL
            AND r.h / 13 %% 3 <> 0 AS ceremony,
        (1 + r.h / 29 %% 5)::int AS level,
        CASE WHEN r.kind = 'card'
             THEN 'GD' || (1 + r.h / 29 %% 5)::int || a.province_code
                  || lpad((b.id * 4 + r.slot)::text, 10, '0')
             ELSE lpad((b.id * 4 + r.slot)::text, 10, '0') END AS number,
        CASE WHEN r.kind = 'card' THEN 12
             ELSE (%(book_months)s::int[])[1 + r.h / 41 %% %(book_month_count)s] END
            AS value_months,
        CASE WHEN r.kind = 'card' THEN 0 ELSE (1 + r.h / 53 %% %(income_steps)s)::int END
            AS value_step,
        CASE WHEN r.kind = 'card' THEN '' ELSE b.category END AS value_category
    FROM (
        SELECT
            n, w.plan_no, w.kind, w.slot, x.h,
            CASE WHEN x.h %% 100 < (%(delivered_below)s::int[])[w.plan_no] THEN 'delivered'
                 WHEN x.h %% 100 < (%(issued_below)s::int[])[w.plan_no] THEN 'issued'
                 WHEN x.h %% 100 < (%(reserved_below)s::int[])[w.plan_no] THEN 'reserved'
                 WHEN x.h %% 100 < (%(cancelled_below)s::int[])[w.plan_no] THEN 'cancelled'
                 ELSE 'returned' END AS status
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
        CROSS JOIN LATERAL (
            SELECT
                n %% %(row_cycle)s AS slot,
                {recipients.cohort_sql("n")} AS cohort,
                hashint8extended(n, %(key_renewal)s) & %(positive)s AS g
        ) AS c
        CROSS JOIN LATERAL (
            VALUES
                (c.cohort, 'card', 0, c.slot NOT IN (%(nothing_slot)s, %(book_only_slot)s)),
                (c.cohort, 'book', 1, c.slot IN (%(book_only_slot)s, %(card_and_book_slot)s)),
                (c.cohort + 1, 'card', 2,
                 c.slot NOT IN (%(nothing_slot)s, %(book_only_slot)s)
                 AND c.cohort < %(cohorts)s AND c.g %% 100 < %(renewal_percent)s)
        ) AS w (plan_no, kind, slot, wanted)
        CROSS JOIN LATERAL (
            SELECT hashint8extended(n * 4 + w.slot, %(key_item)s) & %(positive)s AS h
        ) AS x
        WHERE w.wanted
    ) AS r
    JOIN beneficiaries_beneficiary AS b ON b.id = %(first_recipient)s + r.n - 1
    LEFT JOIN unnest(
        %(area_plans)s::int[], %(area_communes)s::bigint[], %(area_quotas)s::bigint[],
        %(area_pledges)s::bigint[], %(area_codes)s::text[], %(area_handovers)s::bigint[],
        %(area_held_on)s::date[]
    ) AS a (plan_no, commune_id, quota_id, pledge_id, province_code, handover_id, held_on)
      ON a.plan_no = r.plan_no AND a.commune_id = b.commune_id
) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.ceremony
                THEN greatest(s.starts_on, s.held_on - (s.h / 17 %% 30)::int)
                ELSE s.starts_on + (s.h / 100 %% s.days)::int END AS issued_on
) AS i
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN s.status NOT IN ('delivered', 'returned') THEN NULL
             WHEN s.ceremony THEN s.held_on
             ELSE least(i.issued_on + 1 + (s.h / 43 %% 45)::int, %(today)s::date) END
            AS delivered_on,
        (i.issued_on + time '08:00' + make_interval(mins => (s.h / 67 %% 540)::int))
            AT TIME ZONE %(time_zone)s AS created_at
) AS d
LEFT JOIN unnest(
    %(value_kinds)s::text[], %(value_starts)s::date[], %(value_ends)s::date[],
    %(value_months)s::int[], %(value_steps)s::int[], %(value_categories)s::text[],
    %(value_incomes)s::bigint[], %(value_amounts)s::bigint[]
) AS v (kind, starts, ends, months, step, category, income, value)
  ON v.kind = s.kind AND v.months = s.value_months AND v.step = s.value_step
 AND v.category = s.value_category AND i.issued_on >= v.starts AND i.issued_on < v.ends
"""


def _item_parameters(
    records: list[PlanRecords],
    loaded: recipients.RecipientsLoaded,
    *,
    today: datetime.date,
    seed: int,
    renewal_percent: int,
) -> dict:
    specs = [record.spec for record in records]
    values = _value_rows(
        min(spec.starts_on for spec in specs), max(spec.last_day(today) for spec in specs)
    )
    areas = [(number, *area) for number, record in enumerate(records, 1) for area in record.areas]
    thresholds = [
        [sum(spec.statuses[: index + 1]) for spec in specs]
        for index in range(len(CURRENT_STATUSES))
    ]
    return {
        **recipients.hash_keys(seed),
        "key_renewal": seed * 64 + 40,
        "key_item": seed * 64 + 41,
        "positive": bulk.POSITIVE,
        "cohorts": len(records),
        "row_cycle": recipients.ROW_CYCLE,
        "nothing_slot": NOTHING_SLOT,
        "book_only_slot": BOOK_ONLY_SLOT,
        "card_and_book_slot": CARD_AND_BOOK_SLOT,
        "renewal_percent": renewal_percent,
        "first_recipient": loaded.first_id,
        "today": today,
        "time_zone": settings.TIME_ZONE,
        "check_numbers": Item.objects.exclude(number="").exists(),
        "plan_ids": [record.plan_id for record in records],
        "starts_on": [spec.starts_on for spec in specs],
        "days": [(spec.last_day(today) - spec.starts_on).days + 1 for spec in specs],
        "expiring_percent": [spec.expiring_percent for spec in specs],
        "delivered_below": thresholds[0],
        "issued_below": thresholds[1],
        "reserved_below": thresholds[2],
        "cancelled_below": thresholds[3],
        "national_pledges": [pk for record in records for pk in record.national_pledges],
        "national_count": NATIONAL_SPONSORS,
        "provincial_paid_percent": PROVINCIAL_PAID_PERCENT,
        **{
            f"area_{name}": [row[index] for row in areas]
            for index, name in enumerate(
                ("plans", "communes", "quotas", "pledges", "codes", "handovers", "held_on")
            )
        },
        "book_months": BOOK_MONTHS,
        "book_month_count": len(BOOK_MONTHS),
        "income_steps": INCOME_STEPS,
        "methods": DELIVERY_METHODS,
        "deliverers": DELIVERERS,
        "reasons": CANCEL_REASONS,
        "reason_count": len(CANCEL_REASONS),
        **{
            f"value_{name}": [row[index] for row in values]
            for index, name in enumerate(
                ("kinds", "starts", "ends", "months", "steps", "categories", "incomes", "amounts")
            )
        },
    }


def items_without_renewals(recipients_count: int) -> int:
    """Return the cards and books ITEMS_SQL gives ``recipients_count`` people, none renewed.

    One each, but for one in 20 who has nothing yet and one in 20 who has a
    book as well: as many as there are people when they are a multiple of 20.
    """
    per_slot = {NOTHING_SLOT: 0, BOOK_ONLY_SLOT: 1, CARD_AND_BOOK_SLOT: 2}
    cycles, rest = divmod(recipients_count, recipients.ROW_CYCLE)
    per_cycle = sum(per_slot.get(slot, 1) for slot in range(recipients.ROW_CYCLE))
    return cycles * per_cycle + sum(per_slot.get(slot, 1) for slot in range(1, rest + 1))


def items_load(
    records: list[PlanRecords],
    loaded: recipients.RecipientsLoaded,
    *,
    today: datetime.date,
    seed: int = 0,
    renewal_percent: int = RENEWAL_PERCENT,
    progress: bulk.Progress | None = None,
) -> int:
    """Write the cards and books of the people of ``loaded`` under ``records``' plans.

    The plans are the cohorts the people were loaded with, in the same order.
    Return the number of items written.
    """
    parameters = _item_parameters(
        records, loaded, today=today, seed=seed, renewal_percent=renewal_percent
    )
    return bulk.execute_in_slices(ITEMS_SQL, parameters, loaded.count, progress=progress)


# ---------------------------------------------------------------------------
# Counters and checks

COUNTED = "('reserved', 'issued', 'delivered')"

# Quotas, plans and pledges as the services leave them: counters equal to the items'
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
     WHERE q.plan_id = ANY(%(plans)s)
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
        SELECT plan.id, coalesce(sum(q.cards), 0) AS cards, coalesce(sum(q.books), 0) AS books
          FROM distributions_plan AS plan
          LEFT JOIN distributions_quota AS q ON q.plan_id = plan.id AND q.parent_id IS NULL
         WHERE plan.id = ANY(%(plans)s)
         GROUP BY plan.id
      ) AS t
     WHERE p.id = t.id
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
         WHERE pledge.plan_id = ANY(%(plans)s)
         GROUP BY pledge.id
      ) AS f
     WHERE p.id = f.id
    """,
]


def counters_set(plan_ids: list[int], *, progress: bulk.Progress | None = None) -> None:
    """Set the counters and sizes of the plans' quotas, the plans and their pledges."""
    bulk.execute(COUNTERS_SQL, {"plans": plan_ids}, progress=progress)


# Each counts the rows of the plans that break a rule; all must be 0.  The foreign-key
# triggers were off while loading, so the references are checked here too.
CHECKS = {
    "items whose recipient, quota, pledge, hand-over or province is missing": """
        SELECT count(*) FROM distributions_item AS i
          LEFT JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
          LEFT JOIN distributions_quota AS q ON q.id = i.quota_id
          LEFT JOIN distributions_pledge AS p ON p.id = i.pledge_id
          LEFT JOIN distributions_handover AS h ON h.id = i.handover_id
          LEFT JOIN reference_adminunit AS u ON u.id = i.province_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (b.id IS NULL OR q.id IS NULL OR p.id IS NULL OR u.id IS NULL
                OR (i.handover_id IS NOT NULL AND h.id IS NULL))
    """,
    "items outside their quota's or recipient's province or commune, or of another plan": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_quota AS q ON q.id = i.quota_id
          JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (i.province_id <> q.province_id OR b.province_id <> i.province_id
                OR b.commune_id <> i.commune_id OR q.plan_id <> i.plan_id)
    """,
    # A commune of older units goes on as the commune of today that kept its code.
    "items of a commune's quota whose recipient lives elsewhere": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_quota AS q ON q.id = i.quota_id
          JOIN reference_adminunit AS unit ON unit.id = q.unit_id
          JOIN reference_adminunit AS home ON home.id = i.commune_id
         WHERE i.plan_id = ANY(%(plans)s) AND unit.level = 3 AND unit.code <> home.code
    """,
    "items paid by a pledge of another plan or province": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_pledge AS p ON p.id = i.pledge_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (p.plan_id <> i.plan_id
                OR (p.unit_id IS NOT NULL AND p.province_id <> i.province_id))
    """,
    "items given at a hand-over of another plan or province, or not on its day": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_handover AS h ON h.id = i.handover_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (h.plan_id <> i.plan_id OR h.province_id <> i.province_id
                OR h.status = 'planned' OR i.delivered_on <> h.held_on)
    """,
    "items issued outside the plan's period or after today, delivered before issue": """
        SELECT count(*) FROM distributions_item AS i
          JOIN distributions_plan AS p ON p.id = i.plan_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (i.issued_on < p.starts_on OR i.issued_on > least(p.ends_on, %(today)s)
                OR i.delivered_on < i.issued_on OR i.delivered_on > %(today)s
                OR i.value <= 0 OR i.updated_at < i.created_at)
    """,
    "items delivered or returned without a delivery, or others with one": """
        SELECT count(*) FROM distributions_item AS i
         WHERE i.plan_id = ANY(%(plans)s)
           AND (i.status IN ('delivered', 'returned')) <> (i.delivered_on IS NOT NULL)
    """,
    "items recorded before their recipient, or books for people not of working age": """
        SELECT count(*) FROM distributions_item AS i
          JOIN beneficiaries_beneficiary AS b ON b.id = i.beneficiary_id
         WHERE i.plan_id = ANY(%(plans)s)
           AND (i.created_at < b.created_at
                OR (i.kind = 'book'
                    AND extract(year FROM i.issued_on) - b.birth_year NOT BETWEEN 15 AND 60))
    """,
    "quotas whose used or delivered counters differ from their items": f"""
        SELECT count(*) FROM distributions_quota AS q
          LEFT JOIN (
            SELECT quota_id,
                   count(*) FILTER (WHERE kind = 'card' AND status IN {COUNTED}) AS cu,
                   count(*) FILTER (WHERE kind = 'book' AND status IN {COUNTED}) AS bu,
                   count(*) FILTER (WHERE kind = 'card' AND status = 'delivered') AS cd,
                   count(*) FILTER (WHERE kind = 'book' AND status = 'delivered') AS bd
              FROM distributions_item WHERE plan_id = ANY(%(plans)s) GROUP BY quota_id
          ) AS a ON a.quota_id = q.id
         WHERE q.plan_id = ANY(%(plans)s)
           AND (q.cards_used, q.books_used, q.cards_delivered, q.books_delivered)
               IS DISTINCT FROM
               (coalesce(a.cu, 0), coalesce(a.bu, 0), coalesce(a.cd, 0), coalesce(a.bd, 0))
    """,
    "quotas whose split differs from their sub-units' quotas": """
        SELECT count(*) FROM distributions_quota AS q
          LEFT JOIN (
            SELECT parent_id, sum(cards) AS cards, sum(books) AS books
              FROM distributions_quota GROUP BY parent_id
          ) AS s ON s.parent_id = q.id
         WHERE q.plan_id = ANY(%(plans)s)
           AND (q.cards_split, q.books_split)
               IS DISTINCT FROM (coalesce(s.cards, 0), coalesce(s.books, 0))
    """,
    "quotas of a unit not of the plan's edition, or in another province": """
        SELECT count(*) FROM distributions_quota AS q
          JOIN distributions_plan AS p ON p.id = q.plan_id
          JOIN reference_adminunit AS u ON u.id = q.unit_id
          JOIN reference_edition AS e ON e.id = u.edition_id
          LEFT JOIN distributions_quota AS parent ON parent.id = q.parent_id
          LEFT JOIN reference_adminunit AS province ON province.id = coalesce(u.province_id, u.id)
         WHERE q.plan_id = ANY(%(plans)s)
           AND (NOT e.in_force @> p.signed_on
                OR q.province_id <> coalesce(province.successor_id, province.id)
                OR (parent.id IS NOT NULL AND parent.unit_id <> u.province_id))
    """,
    "plans whose allocation differs from their top-level quotas, or exceeds the target": """
        SELECT count(*) FROM distributions_plan AS p
          LEFT JOIN (
            SELECT plan_id, sum(cards) AS cards, sum(books) AS books
              FROM distributions_quota WHERE parent_id IS NULL GROUP BY plan_id
          ) AS t ON t.plan_id = p.id
         WHERE p.id = ANY(%(plans)s)
           AND ((p.cards_allocated, p.books_allocated)
                IS DISTINCT FROM (coalesce(t.cards, 0), coalesce(t.books, 0))
                OR p.cards_allocated > p.target_cards OR p.books_allocated > p.target_books)
    """,
    "pledges whose funded counters differ from their items": f"""
        SELECT count(*) FROM distributions_pledge AS p
          LEFT JOIN (
            SELECT pledge_id,
                   count(*) FILTER (WHERE kind = 'card') AS cards,
                   count(*) FILTER (WHERE kind = 'book') AS books,
                   sum(value) AS value
              FROM distributions_item
             WHERE plan_id = ANY(%(plans)s) AND status IN {COUNTED}
             GROUP BY pledge_id
          ) AS f ON f.pledge_id = p.id
         WHERE p.plan_id = ANY(%(plans)s)
           AND (p.cards_funded, p.books_funded, p.value_funded)
               IS DISTINCT FROM (coalesce(f.cards, 0), coalesce(f.books, 0), coalesce(f.value, 0))
    """,
    "pledges of a unit not of the plan's edition, or in another province": """
        SELECT count(*) FROM distributions_pledge AS pledge
          JOIN distributions_plan AS p ON p.id = pledge.plan_id
          JOIN reference_adminunit AS u ON u.id = pledge.unit_id
          JOIN reference_edition AS e ON e.id = u.edition_id
         WHERE pledge.plan_id = ANY(%(plans)s)
           AND (NOT e.in_force @> p.signed_on
                OR pledge.province_id <> coalesce(u.successor_id, u.id))
    """,
    "hand-overs not in a commune of their day's units, or in another province": """
        SELECT count(*) FROM distributions_handover AS h
          JOIN reference_adminunit AS u ON u.id = h.place_id
          JOIN reference_edition AS e ON e.id = u.edition_id
          JOIN reference_adminunit AS province ON province.id = u.province_id
         WHERE h.plan_id = ANY(%(plans)s)
           AND (u.level <> 3 OR NOT e.in_force @> h.held_on
                OR h.province_id <> coalesce(province.successor_id, province.id)
                OR (h.status = 'planned') <> (h.held_on > %(today)s))
    """,
}


def plans_check(
    plan_ids: list[int], *, today: datetime.date, progress: bulk.Progress | None = None
) -> list[str]:
    """Return the rules (CHECKS) that the plans' records break, with the number of rows."""
    broken = []
    with connection.cursor() as cursor:
        for rule, sql in CHECKS.items():
            cursor.execute(sql, {"plans": plan_ids, "today": today})
            (rows,) = cursor.fetchone()
            if rows:
                broken.append(f"{rows:,} {rule}")
            if progress is not None:
                progress(1)
    return broken


# ---------------------------------------------------------------------------
# The whole load


@dataclass
class Generated:
    recipients: recipients.RecipientsLoaded
    plan_ids: list[int]
    items: int
    tally_rows: int
    broken: list[str] = field(default_factory=list)


def demo_generate(
    *,
    recipients_count: int,
    plans: Sequence[PlanSpec],
    today: datetime.date,
    seed: int = 0,
    missing_id_every: int = recipients.MISSING_ID_EVERY,
    duplicate_every: int | None = recipients.DUPLICATE_EVERY,
    renewal_percent: int = RENEWAL_PERCENT,
    check: bool = True,
    phases: bulk.Phases | None = None,
) -> Generated:
    """Write ``recipients_count`` people and the plans with their records and items.

    Beside what the database holds (the Lào Cai story, other plans and
    people).  Each phase is timed by ``phases``; the rules are checked at the
    end unless ``check`` is false.
    """
    phases = phases or bulk.Phases()
    if not 1 <= len(plans) <= MAX_PLANS:
        raise ValueError(f"Between 1 and {MAX_PLANS} plans, not {len(plans)}.")
    with phases.phase("recipients", recipients_count) as advance:
        loaded = recipients.recipients_load(
            recipients_count,
            recorded_by=[spec.starts_on for spec in plans],
            seed=seed,
            missing_id_every=missing_id_every,
            duplicate_every=duplicate_every,
            progress=advance,
        )
    with phases.phase("recipients vacuumed and analysed"):
        bulk.vacuum("beneficiaries_beneficiary", freeze=True)
    with phases.phase("plans, quotas, pledges and hand-overs", len(plans)) as advance:
        records = plans_create(plans, loaded, today=today, progress=advance)
    plan_ids = [record.plan_id for record in records]
    with phases.phase("cards and books", recipients_count) as advance:
        items = items_load(
            records,
            loaded,
            today=today,
            seed=seed,
            renewal_percent=renewal_percent,
            progress=advance,
        )
    with phases.phase("counters of quotas, plans and pledges", len(COUNTERS_SQL)) as advance:
        counters_set(plan_ids, progress=advance)
    with phases.phase("tally of items"):
        # The triggers that keep it were off with the others.
        tally_rows = item_tally_rebuild()
    with phases.phase("items vacuumed, everything analysed"):
        bulk.vacuum("distributions_item", freeze=True)
        bulk.vacuum()
    generated = Generated(loaded, plan_ids, items, tally_rows)
    if check:
        with phases.phase("checks", len(CHECKS) + 1) as advance:
            generated.broken = recipients.recipients_check(
                loaded.first_id, loaded.last_id, today=today
            )
            advance(1)
            generated.broken += plans_check(plan_ids, today=today, progress=advance)
    return generated


# ---------------------------------------------------------------------------
# Starting again

DELETE_SQL = [
    """
    CREATE TEMPORARY TABLE generated_plans ON COMMIT DROP AS
    SELECT id FROM distributions_plan WHERE number LIKE %(pattern)s
    """,
    "DELETE FROM distributions_item WHERE plan_id IN (SELECT id FROM generated_plans)",
    "DELETE FROM distributions_itemtally WHERE plan_id IN (SELECT id FROM generated_plans)",
    """
    DELETE FROM distributions_handover_sponsors_present WHERE handover_id IN (
        SELECT id FROM distributions_handover WHERE plan_id IN (SELECT id FROM generated_plans)
    )
    """,
    "DELETE FROM distributions_handover WHERE plan_id IN (SELECT id FROM generated_plans)",
    "DELETE FROM distributions_pledge WHERE plan_id IN (SELECT id FROM generated_plans)",
    # The foreign keys are off: quotas go in any order, all of them.
    "DELETE FROM distributions_quota WHERE plan_id IN (SELECT id FROM generated_plans)",
    "DELETE FROM distributions_plan WHERE id IN (SELECT id FROM generated_plans)",
]


def generated_plans() -> list[str]:
    return list(
        Plan.objects.filter(number__startswith=GENERATED_PLAN_PREFIX)
        .order_by("number")
        .values_list("number", flat=True)
    )


def generated_delete() -> tuple[int, int, int]:
    """Delete the generated plans with everything under them, then the generated people.

    Return the numbers of plans, items and recipients deleted.  The plans go in
    one transaction, triggers off as they were written; the sponsors stay (the
    Lào Cai story shares them).  A generated person whom someone gave a card
    under another plan, or whose import row points at them, stays too.
    """
    counts = bulk.execute(DELETE_SQL, {"pattern": f"{GENERATED_PLAN_PREFIX}%"}, atomic=True)
    people = recipients.generated_recipients_delete()
    # Else the next load writes around a million dead rows and their index entries.
    bulk.vacuum("distributions_item", "beneficiaries_beneficiary")
    return counts[-1], counts[1], people
