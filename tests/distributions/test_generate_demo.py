"""generate_demo writes data that every rule of the record, and the services', would accept.

The command writes on connections of its own (one per slice), so its rows are
committed, not rolled back with a test: it runs once for the module, in
autocommit, and the module deletes what it generated at the end, by the same
path as ``--replace``.  PostgreSQL checked every CHECK and UNIQUE constraint as
the rows went in; the tests check what the foreign keys (off during the load),
the counters, the tally and the model's own validation would say, and that the
people look like Vietnam's.
"""

import collections
import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from faker.providers.person.vi_VN import Provider

from beneficiaries import demo as recipients
from beneficiaries.identifiers import personal_id_mismatches, validate_personal_id
from beneficiaries.models import Beneficiary, current_communes
from distributions.demo.bulk import (
    CHECKS,
    GENERATED_PLAN_PREFIX,
    generated_delete,
    generated_plans,
    plans_check,
    yearly_plans,
)
from distributions.demo.records import SPONSORS
from distributions.models import Handover, Item, Plan, Pledge, Quota
from distributions.services import item_tally_differences
from distributions.services.values import book_value, card_value
from reference import bulk
from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, Rate, UnitLevel
from reference.selectors import edition_in_force_on
from reference.text import fold, normalize
from sponsors.models import Sponsor

COUNT = 3000
SEED = 7


@pytest.fixture(scope="module")
def output(django_db_setup, django_db_blocker):
    """Run ``generate_demo --beneficiaries 3000`` once; delete what it made at the end."""
    with django_db_blocker.unblock():
        # pytest-django runs the last test of this module after the transactional ones,
        # which empty every table: the units may have to be loaded again.
        if not Rate.objects.exists():
            call_command("load_reference_data", verbosity=0)
        sponsors = list(Sponsor.objects.values_list("pk", flat=True))
        out = io.StringIO()
        call_command("generate_demo", beneficiaries=COUNT, seed=SEED, stdout=out)
        yield out.getvalue()
        generated_delete()
        # The demo sponsors it created, as it wrote them: without audit events.
        bulk.execute(
            ["DELETE FROM sponsors_sponsor WHERE id <> ALL(%(kept)s::bigint[])"], {"kept": sponsors}
        )
        assert not generated_plans()
        assert recipients.generated_recipients_count() == 0


@pytest.fixture
def people(output):
    return Beneficiary.objects.filter(notes=recipients.GENERATED_NOTE)


@pytest.fixture
def plans(output):
    return list(Plan.objects.filter(number__startswith=GENERATED_PLAN_PREFIX).order_by("number"))


@pytest.fixture
def items(plans):
    return Item.objects.filter(plan__in=plans)


def _shares(values) -> dict:
    counts = collections.Counter(values)
    total = sum(counts.values())
    return {value: count / total for value, count in counts.items()}


def _weight_shares(weights: dict) -> dict:
    total = sum(weights.values())
    return {value: weight / total for value, weight in weights.items()}


# -- the command -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_times_each_phase_and_checks_every_rule(output):
    for phase in ("recipients", "plans, quotas, pledges and hand-overs", "cards and books"):
        assert f"  {phase}: " in output
    assert "  checks: " in output
    assert f"Generated {COUNT:,} recipients" in output
    assert "every rule checked holds" in output


@pytest.mark.django_db
def test_it_refuses_to_run_again_unless_told_to_replace(output):
    with pytest.raises(CommandError, match="--replace"):
        call_command("generate_demo", beneficiaries=10, stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "arguments",
    [{"beneficiaries": 0}, {"beneficiaries": 2_000_001}, {"beneficiaries": 10, "plans": 6}],
)
def test_it_refuses_sizes_it_cannot_make(arguments):
    with pytest.raises(CommandError, match="must be between"):
        call_command("generate_demo", **arguments, stdout=io.StringIO())


# -- rules, counters and the tally ------------------------------------------------------


@pytest.mark.django_db
def test_every_rule_checked_in_sql_holds(people, plans):
    ids = people.order_by("pk").values_list("pk", flat=True)
    today = timezone.localdate()
    assert recipients.recipients_check(ids.first(), ids.last(), today=today) == []
    assert plans_check([plan.pk for plan in plans], today=today) == []
    assert len(CHECKS) > 10


@pytest.mark.django_db
def test_the_tally_agrees_with_the_items(output):
    assert item_tally_differences() == []


@pytest.mark.django_db
def test_quota_counters_agree_with_their_items_and_sub_quotas(plans):
    quotas = Quota.objects.filter(plan__in=plans).annotate(
        cards_counted=Count("items", filter=Q(items__kind="card", items__status__in=Item.COUNTED)),
        books_counted=Count("items", filter=Q(items__kind="book", items__status__in=Item.COUNTED)),
        cards_given=Count("items", filter=Q(items__kind="card", items__status="delivered")),
        books_given=Count("items", filter=Q(items__kind="book", items__status="delivered")),
    )
    split = {
        row["parent"]: (row["cards"], row["books"])
        for row in Quota.objects.filter(plan__in=plans, parent__isnull=False)
        .values("parent")
        .annotate(cards=Sum("cards"), books=Sum("books"))
    }
    used = 0
    for quota in quotas:
        assert (quota.cards_used, quota.books_used) == (quota.cards_counted, quota.books_counted)
        assert (quota.cards_delivered, quota.books_delivered) == (
            quota.cards_given,
            quota.books_given,
        )
        assert (quota.cards_split, quota.books_split) == split.get(quota.pk, (0, 0))
        assert quota.cards_available > 0 and quota.books_available > 0
        used += quota.cards_used
    assert used > COUNT * 0.8


@pytest.mark.django_db
def test_plans_allocate_their_top_quotas_within_their_targets(plans):
    for plan in plans:
        top = Quota.objects.filter(plan=plan, parent__isnull=True).aggregate(
            cards=Sum("cards"), books=Sum("books")
        )
        assert (plan.cards_allocated, plan.books_allocated) == (top["cards"], top["books"])
        assert plan.cards_allocated <= plan.target_cards
        assert plan.books_allocated <= plan.target_books


@pytest.mark.django_db
def test_pledges_of_the_seven_sponsors_fund_what_their_items_are_worth(plans, items):
    pledges = Pledge.objects.filter(plan__in=plans).annotate(
        cards_paid=Count("items", filter=Q(items__kind="card", items__status__in=Item.COUNTED)),
        books_paid=Count("items", filter=Q(items__kind="book", items__status__in=Item.COUNTED)),
        value_paid=Sum("items__value", filter=Q(items__status__in=Item.COUNTED), default=0),
    )
    for pledge in pledges:
        assert (pledge.cards_funded, pledge.books_funded, pledge.value_funded) == (
            pledge.cards_paid,
            pledge.books_paid,
            pledge.value_paid,
        )
        assert pledge.cards >= pledge.cards_funded and pledge.books >= pledge.books_funded
        assert pledge.amount_received == pledge.value_funded
    sponsors = set(pledges.values_list("sponsor__short_name", flat=True))
    assert sponsors == {data.short_name for data in SPONSORS}
    # A provincial pledge pays only in its province.
    assert (
        not items.filter(pledge__unit__isnull=False)
        .exclude(pledge__province=F("province"))
        .exists()
    )


@pytest.mark.django_db
def test_the_models_own_validation_accepts_a_sample(people, items):
    for person in people.order_by("pk")[::15]:
        person.full_clean()
    for item in items.select_related("beneficiary", "quota", "pledge").order_by("pk")[::20]:
        item.full_clean()


# -- the people -----------------------------------------------------------------------


@pytest.mark.django_db
def test_names_are_fakers_vi_vn_names_in_vietnamese_order_agreeing_with_sex(people):
    women = set(Provider.first_names_female) | set(Provider.first_names_unisex)
    men = set(Provider.first_names_male) | set(Provider.first_names_unisex)
    middles = collections.Counter()
    groups = collections.Counter()
    for full_name, search_name, sex, group in people.values_list(
        "full_name", "search_name", "sex", "ethnic_group"
    ):
        family, *middle, given = full_name.split(" ")
        # A household of a large minority group has a family name of its group.
        assert family in recipients.MINORITY_FAMILY_NAMES.get(group, Provider.last_names)
        if group == EthnicGroup.MONG:
            sex_name = "female" if sex == Beneficiary.Sex.FEMALE else "male"
            assert " ".join(middle) in recipients.MONG_MIDDLE_NAMES[sex_name]
        else:
            assert " ".join(middle) in Provider.middle_names
        groups[group in recipients.MINORITY_FAMILY_NAMES] += 1
        assert given in (women if sex == Beneficiary.Sex.FEMALE else men)
        assert full_name == normalize(full_name) and search_name == fold(full_name)
        middles[sex, " ".join(middle)] += 1
    assert not middles["M", "Thị"] and not middles["F", "Văn"]
    assert middles["F", "Thị"] > middles["F", "Xuân"] and middles["M", "Văn"] > middles["M", "Hữu"]
    shares = _shares(name.split(" ")[0] for name in people.values_list("full_name", flat=True))
    assert max(shares, key=shares.get) == "Nguyễn"
    assert 0 < groups[True] < groups[False]  # most people are Kinh


@pytest.mark.django_db
def test_every_province_of_today_has_people_in_its_real_communes(people):
    provinces = AdminUnit.objects.in_force_on(timezone.localdate()).provinces()
    assert set(people.values_list("province", flat=True)) == set(
        provinces.values_list("pk", flat=True)
    )
    assert provinces.count() == 34
    communes = AdminUnit.objects.filter(current_communes())
    assert not people.exclude(commune__in=communes).exists()
    assert not people.exclude(province=F("commune__province")).exists()


@pytest.mark.django_db
def test_a_minority_group_lives_in_its_provinces_and_the_kinh_everywhere(people):
    homes = {group: set(codes) for group, codes in recipients.ETHNIC_GROUP_HOMES.items()}
    for group, province_code in people.values_list("ethnic_group", "province__code"):
        if group in homes:
            assert province_code in homes[group], (group, province_code)
    kinh = people.filter(ethnic_group=EthnicGroup.KINH)
    assert kinh.values("province").distinct().count() == 34
    assert people.filter(ethnic_group=EthnicGroup.MONG, province__code="15").exists()


@pytest.mark.django_db
def test_ethnic_groups_and_categories_are_in_the_configured_proportions(people):
    groups = _shares(people.values_list("ethnic_group", flat=True))
    weights = _weight_shares(recipients.ETHNIC_GROUP_WEIGHTS)
    assert groups[EthnicGroup.KINH] == pytest.approx(weights[EthnicGroup.KINH], abs=0.05)
    assert groups[EthnicGroup.KINH] > 0.5
    for group in (EthnicGroup.TAY, EthnicGroup.THAI, EthnicGroup.MUONG, EthnicGroup.KHMER):
        assert groups[group] == pytest.approx(weights[group], abs=0.02)
    assert {EthnicGroup.MONG, EthnicGroup.NUNG} <= groups.keys()

    categories = _shares(people.values_list("category", flat=True))
    expected = _weight_shares(recipients.CATEGORY_WEIGHTS)
    # A Kinh household (or one of no recorded group) drawn "ethnic minority" is poor.
    kinh = weights[EthnicGroup.KINH] + weights[""]
    moved = expected[Beneficiary.Category.ETHNIC_MINORITY] * kinh
    expected[Beneficiary.Category.ETHNIC_MINORITY] -= moved
    expected[Beneficiary.Category.POOR] += moved
    for category, share in expected.items():
        assert categories[category] == pytest.approx(share, abs=0.05)
    assert not people.filter(category="ethnic_minority", ethnic_group__in=["01", ""]).exists()


@pytest.mark.django_db
def test_sexes_ages_and_missing_ids_are_as_configured(people):
    # Every other row is a woman, but a copy (a person recorded twice) takes the sex
    # of the person it copies.
    women = people.filter(sex="F").count()
    assert abs(women - COUNT // 2) <= COUNT // recipients.DUPLICATE_EVERY
    assert people.filter(personal_id__isnull=True).count() / COUNT == pytest.approx(
        1 / recipients.MISSING_ID_EVERY, abs=0.02
    )
    ages = [
        created.year - born
        for created, born in people.values_list("created_at", "birth_year")
        if created
    ]
    assert min(ages) >= 1 and max(ages) <= 91
    # Children are 18 % of the card holders, the book holders (one in ten) all adults.
    children = sum(age < 16 for age in ages) / len(ages)
    assert children == pytest.approx(0.18 * 0.9, abs=0.04)


@pytest.mark.django_db
def test_personal_ids_agree_with_sex_year_and_mostly_the_home_province(people):
    # The province before 2025 that each commune of today continues (by its code).
    before = dict(
        AdminUnit.objects.filter(level=UnitLevel.COMMUNE, edition__code="2024").values_list(
            "code", "province__code"
        )
    )
    rows = list(
        people.filter(personal_id__isnull=False).values_list(
            "personal_id", "sex", "birth_year", "commune__code"
        )
    )
    at_home = 0
    for number, sex, birth_year, commune in rows:
        validate_personal_id(number)
        assert personal_id_mismatches(number, birth_year=birth_year, is_female=sex == "F") == {}
        at_home += number[:3] == f"0{before.get(commune)}"
    assert len({row[0] for row in rows}) == len(rows)
    assert at_home / len(rows) > 0.8


@pytest.mark.django_db
def test_households_share_a_commune_and_a_category(people):
    households = people.values("household_key").annotate(
        people=Count("pk"),
        communes=Count("commune", distinct=True),
        categories=Count("category", distinct=True),
    )
    assert {row["people"] for row in households} == {3}
    # A few households hold a person recorded twice, in another commune.
    assert sum(row["communes"] > 1 for row in households) <= COUNT // 1000 + 1
    assert {row["categories"] for row in households} == {1}


# -- plans, hand-overs and cards and books --------------------------------------------


@pytest.mark.django_db
def test_the_default_plans_are_one_of_2024_units_and_one_of_today_s():
    specs = yearly_plans(2, today=datetime.date(2026, 12, 2), recipients_count=COUNT)
    assert [spec.number for spec in specs] == ["DEMO-2025/KH-BHXH", "DEMO-2026/KH-BHXH"]
    assert [spec.signed_on for spec in specs] == [
        datetime.date(2024, 11, 29),
        datetime.date(2025, 11, 29),
    ]
    assert [edition_in_force_on(spec.signed_on).code for spec in specs] == ["2024", "2025"]


@pytest.mark.django_db
def test_quotas_pledges_and_hand_overs_use_the_units_of_their_day(plans):
    today = timezone.localdate()
    assert len(plans) == 2
    for plan in plans:
        edition = edition_in_force_on(plan.signed_on)
        quotas = Quota.objects.filter(plan=plan)
        assert not quotas.exclude(unit__edition=edition).exists()
        assert quotas.filter(parent__isnull=True).count() == (63 if edition.code == "2024" else 34)
        assert quotas.filter(parent__isnull=False, unit__level=UnitLevel.COMMUNE).count() > 300
        assert (
            not Pledge.objects.filter(plan=plan)
            .exclude(Q(unit__isnull=True) | Q(unit__edition=edition))
            .exists()
        )
        for handover in Handover.objects.filter(plan=plan).select_related("place"):
            assert handover.place.edition_id == edition_in_force_on(handover.held_on).pk
            assert (handover.status == Handover.Status.PLANNED) == (handover.held_on > today)
        assert plan.status == (Plan.Status.ACTIVE if plan.ends_on >= today else Plan.Status.CLOSED)


@pytest.mark.django_db
def test_items_come_in_every_status_with_consistent_dates(plans, items):
    today = timezone.localdate()
    assert set(items.values_list("status", flat=True)) == set(Item.Status.values)
    assert set(items.values_list("kind", flat=True)) == set(Item.Kind.values)
    for item in items.select_related("plan", "handover", "beneficiary"):
        assert item.plan.starts_on <= item.issued_on <= min(item.plan.ends_on, today)
        delivered = item.status in (Item.Status.DELIVERED, Item.Status.RETURNED)
        assert (item.delivered_on is not None) == delivered
        if delivered:
            assert item.issued_on <= item.delivered_on <= today
        if item.handover is not None:
            assert item.delivered_on == item.handover.held_on
            assert item.delivery_method == Item.DeliveryMethod.CEREMONY
            assert item.handover.province_id == item.province_id
        assert (item.commune_id, item.province_id) == (
            item.beneficiary.commune_id,
            item.beneficiary.province_id,
        )
        assert item.created_at >= item.beneficiary.created_at
        assert bool(item.number) == (item.status != Item.Status.RESERVED)
    assert items.filter(handover__isnull=False).exists()


@pytest.mark.django_db
def test_values_are_what_the_rates_say(items):
    for item in items.select_related("beneficiary"):
        if item.kind == Item.Kind.CARD:
            assert item.value == card_value(valid_from=item.valid_from)
        else:
            assert item.value == book_value(
                issued_on=item.issued_on,
                months=item.months_paid,
                income_base=item.income_base,
                category=item.beneficiary.category,
            )


@pytest.mark.django_db
def test_people_get_a_card_a_book_or_both_once_per_plan_books_at_working_age(people, items):
    per_plan = items.values("plan", "beneficiary", "kind").annotate(n=Count("pk"))
    assert {row["n"] for row in per_plan} == {1}
    kinds = collections.Counter(
        tuple(sorted(row))
        for row in _group(items.values_list("plan", "beneficiary", "kind")).values()
    )
    assert kinds.keys() == {("card",), ("book",), ("book", "card")}
    for issued_on, birth_year in items.filter(kind="book").values_list(
        "issued_on", "beneficiary__birth_year"
    ):
        assert 20 <= issued_on.year - birth_year <= 56
    # One in 20 has nothing yet; about a third of the first plan's card holders got
    # a card again in the second.
    assert people.filter(items__isnull=True).count() == COUNT // 20
    renewed = people.annotate(plans=Count("items__plan", distinct=True)).filter(plans=2)
    assert 0.05 < renewed.count() / COUNT < 0.25


def _group(rows) -> dict:
    groups = collections.defaultdict(list)
    for plan, person, kind in rows:
        groups[plan, person].append(kind)
    return groups


# -- starting again -------------------------------------------------------------------


def test_replace_deletes_what_was_generated_and_nothing_else(output, django_db_blocker):
    """Last in the module: it replaces the module's data with a smaller load."""
    with django_db_blocker.unblock():
        with transaction.atomic(), connection.cursor() as cursor:
            # Committed, as the command's rows are, and like them without audit events.
            cursor.execute("SET LOCAL session_replication_role = replica")
            kept = Beneficiary(
                full_name="Lương Thị Trúc",
                birth_year=1975,
                sex="F",
                commune=AdminUnit.objects.filter(current_communes()).first(),
                category="other",
            )
            kept.save()
        before = list(
            Beneficiary.objects.filter(notes=recipients.GENERATED_NOTE).values_list(
                "pk", flat=True
            )[:50]
        )
        out = io.StringIO()
        try:
            call_command("generate_demo", beneficiaries=600, seed=8, replace=True, stdout=out)
            assert "Deleted 2 plans" in out.getvalue()
            assert f"and {COUNT:,} recipients generated before" in out.getvalue()
            assert recipients.generated_recipients_count() == 600
            assert not Beneficiary.objects.filter(pk__in=before).exists()
            assert Beneficiary.objects.filter(pk=kept.pk).exists()
            assert len(generated_plans()) == 2
            assert item_tally_differences() == []
        finally:
            bulk.execute(
                ["DELETE FROM beneficiaries_beneficiary WHERE id = %(id)s"], {"id": kept.pk}
            )
