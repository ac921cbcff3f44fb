import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from distributions.models import Handover, Item, Plan, Quota
from distributions.services import (
    BookDetails,
    CardDetails,
    QuotaExhausted,
    book_value,
    card_end,
    card_value,
    handover_save,
    item_cancel,
    item_confirm,
    item_deliver,
    item_issue,
    plan_save,
    quota_delete,
    quota_set,
)
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_handover,
    make_plan,
    make_pledge,
    make_quota,
    unit,
)

pytestmark = pytest.mark.django_db

CARD = CardDetails(valid_from=JAN_2024)


@pytest.fixture
def plan():
    return make_plan()


@pytest.fixture
def lao_cai_city():
    return unit("2024", "080")


def issue(quota, pledge, beneficiary=None, details=CARD, **kwargs):
    return item_issue(
        beneficiary=beneficiary or make_beneficiary(),
        quota=quota,
        pledge=pledge,
        details=details,
        issued_on=kwargs.pop("issued_on", JAN_2024),
        actor=None,
        **kwargs,
    )


# -- values


def test_a_card_issued_in_january_2024_is_worth_12_months_of_4_5_percent_of_1_800_000():
    assert card_value(valid_from=datetime.date(2024, 1, 16)) == 12 * 81_000 == 972_000


def test_a_card_issued_in_january_2025_is_worth_12_months_of_4_5_percent_of_2_340_000():
    assert card_value(valid_from=datetime.date(2025, 1, 10)) == 1_263_600


def test_the_value_follows_the_base_salary_in_force_on_the_first_day():
    assert card_value(valid_from=datetime.date(2024, 6, 30)) == 972_000
    assert card_value(valid_from=datetime.date(2024, 7, 1)) == 1_263_600


def test_a_book_costs_the_sponsor_22_percent_of_the_income_less_the_state_support():
    # Near-poor in 2024: 22% x 1,500,000 = 330,000 a month, the state pays 25% of it.
    assert book_value(
        issued_on=JAN_2024, months=12, income_base=1_500_000, category="near_poor"
    ) == 12 * (330_000 - 82_500)
    # From July 2025 the state pays 40% for the near-poor.
    assert book_value(
        issued_on=datetime.date(2025, 7, 1), months=6, income_base=1_500_000, category="near_poor"
    ) == 6 * (330_000 - 132_000)


def test_a_card_lasts_twelve_months_by_default():
    assert card_end(datetime.date(2024, 1, 16)) == datetime.date(2025, 1, 15)
    assert card_end(datetime.date(2024, 2, 29)) == datetime.date(2025, 2, 27)


def test_the_issued_item_keeps_its_value_and_end_date(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 1)
    pledge = make_pledge(plan)
    card = issue(quota, pledge)
    assert (card.value, card.valid_until) == (972_000, datetime.date(2025, 1, 15))
    book = issue(quota, pledge, details=BookDetails(months_paid=12))
    assert book.income_base == 1_500_000
    pledge.refresh_from_db()
    assert pledge.value_funded == card.value + book.value


# -- quotas


def test_a_quota_split_among_communes_never_adds_up_to_more_than_its_parent(plan, lao_cai_city):
    city = make_quota(plan, lao_cai_city, 600, 50)
    hop_thanh = make_quota(plan, unit("2024", "02680"), 45, 10)
    assert hop_thanh.parent == city
    city.refresh_from_db()
    assert (city.cards_split, city.books_split, city.cards_available) == (45, 10, 555)

    another_commune = unit("2024", "02641")  # Phường Lào Cai, also in the city
    with pytest.raises(QuotaExhausted, match="555 cards and 40 books left"):
        make_quota(plan, another_commune, 556, 0)
    make_quota(plan, another_commune, 555, 40)
    city.refresh_from_db()
    assert city.cards_available == city.books_available == 0


def test_lowering_a_split_quota_is_refused(plan, lao_cai_city):
    make_quota(plan, lao_cai_city, 600, 50)
    make_quota(plan, unit("2024", "02680"), 45, 10)
    with pytest.raises(ValidationError, match="cannot be lower"):
        quota_set(plan=plan, unit=lao_cai_city, cards=44, books=50, actor=None)


def test_a_unit_above_existing_quotas_must_be_set_first(plan):
    make_quota(plan, unit("2024", "02680"), 45, 10)
    with pytest.raises(ValidationError, match="cannot be set above them"):
        make_quota(plan, unit("2024", "080"), 600, 50)


def test_the_top_level_quotas_never_exceed_the_plan_targets():
    plan = make_plan(target_cards=1000, target_books=100)
    make_quota(plan, unit("2024", "080"), 600, 50)
    with pytest.raises(QuotaExhausted, match="1001 cards over a target of 1000"):
        make_quota(plan, unit("2024", "02"), 401, 10)
    make_quota(plan, unit("2024", "02"), 400, 50)
    plan.refresh_from_db()
    assert (plan.cards_allocated, plan.books_allocated) == (1000, 100)


def test_the_database_refuses_counters_beyond_a_target():
    plan = make_plan(target_cards=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(cards_allocated=11)


def test_a_quota_takes_units_of_the_edition_in_force_when_the_plan_was_signed(plan):
    with pytest.raises(ValidationError, match="2024"):
        make_quota(plan, unit("2025", "15"), 10, 0)


def test_an_unused_quota_can_be_deleted_and_gives_its_numbers_back(plan, lao_cai_city):
    city = make_quota(plan, lao_cai_city, 600, 50)
    commune = make_quota(plan, unit("2024", "02680"), 45, 10)
    quota_delete(quota=commune, actor=None)
    city.refresh_from_db()
    assert city.cards_split == city.books_split == 0
    make_quota(plan, unit("2024", "02680"), 1, 0)
    city.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        quota_delete(quota=city, actor=None)


# -- issuing


def test_issuing_counts_against_the_quota_and_the_pledge(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 2, 0)
    pledge = make_pledge(plan, cards=5)
    issue(quota, pledge)
    issue(quota, pledge)
    with pytest.raises(QuotaExhausted, match="no health-insurance card left"):
        issue(quota, pledge)
    quota.refresh_from_db()
    pledge.refresh_from_db()
    assert (quota.cards_used, pledge.cards_funded) == (2, 2)
    assert Item.objects.count() == 2


def test_a_pledge_never_funds_more_items_than_it_pledged(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 600, 50)
    pledge = make_pledge(plan, cards=1, books=0)
    issue(quota, pledge)
    with pytest.raises(QuotaExhausted, match="already funded every"):
        issue(quota, pledge)
    with pytest.raises(QuotaExhausted, match="already funded every"):
        issue(quota, pledge, details=BookDetails(months_paid=12))


def test_a_pledge_for_an_area_funds_only_that_area(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 0)
    elsewhere = make_quota(plan, unit("2024", "02"), 10, 0)
    pledge = make_pledge(plan, unit=lao_cai_city)
    issue(quota, pledge)
    with pytest.raises(ValidationError, match="funds only"):
        issue(elsewhere, pledge)


def test_one_card_and_one_book_per_recipient_per_plan(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 10)
    pledge = make_pledge(plan)
    person = make_beneficiary()
    issue(quota, pledge, person)
    issue(quota, pledge, person, details=BookDetails(months_paid=12))
    with pytest.raises(ValidationError, match="already has a health-insurance card"):
        issue(quota, pledge, person)
    # Under another plan the same person may get another card.
    other_plan = make_plan()
    issue(make_quota(other_plan, lao_cai_city, 1, 0), make_pledge(other_plan), person)


def test_the_database_refuses_a_second_live_card_for_one_person(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 0)
    card = issue(quota, make_pledge(plan))
    copy = Item.objects.get(pk=card.pk)
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_a_cancelled_card_frees_its_place_and_may_be_issued_again(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 1, 0)
    pledge = make_pledge(plan, cards=1)
    person = make_beneficiary()
    card = issue(quota, pledge, person)
    item_cancel(item=card, reason="Sai tên", actor=None)
    quota.refresh_from_db()
    pledge.refresh_from_db()
    assert (quota.cards_used, pledge.cards_funded, pledge.value_funded) == (0, 0, 0)
    again = issue(quota, pledge, person)
    assert again.status == Item.Status.ISSUED


def test_a_closed_plan_takes_no_new_issuance(lao_cai_city):
    plan = make_plan()
    quota = make_quota(plan, lao_cai_city, 10, 0)
    pledge = make_pledge(plan)
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.CLOSED)
    with pytest.raises(ValidationError, match="takes no new cards"):
        issue(quota, pledge)


def test_delivering_at_the_ceremony_and_later(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 0)
    pledge = make_pledge(plan)
    event = make_handover(plan)
    at_event = issue(quota, pledge, handover=event)
    item_deliver(
        item=at_event, delivered_on=JAN_2024, method=Item.DeliveryMethod.CEREMONY, actor=None
    )
    later = issue(quota, pledge)
    item_deliver(
        item=later,
        delivered_on=datetime.date(2024, 2, 1),
        method=Item.DeliveryMethod.PROVINCIAL_OFFICE,
        delivered_by="BHXH tỉnh Lào Cai",
        actor=None,
    )
    quota.refresh_from_db()
    assert (quota.cards_used, quota.cards_delivered) == (2, 2)
    with pytest.raises(ValidationError, match="Only an issued item can be delivered"):
        item_deliver(item=later, delivered_on=JAN_2024, method="post", actor=None)
    # A return gives the place back and keeps the story.
    item_cancel(item=later, reason="Đã có thẻ khác", returned=True, actor=None)
    quota.refresh_from_db()
    assert (quota.cards_used, quota.cards_delivered) == (1, 1)
    assert Item.objects.get(pk=later.pk).status == Item.Status.RETURNED


def test_delivery_cannot_come_before_issue(plan, lao_cai_city):
    card = issue(make_quota(plan, lao_cai_city, 1, 0), make_pledge(plan))
    with pytest.raises(ValidationError):
        item_deliver(
            item=card, delivered_on=datetime.date(2024, 1, 1), method="commune", actor=None
        )


def test_a_hand_over_takes_the_unit_in_force_on_its_day(plan):
    with pytest.raises(ValidationError, match="2024"):
        make_handover(plan, place=unit("2025", "02680"))
    event = make_handover(plan, place=unit("2024", "02680"))
    assert event.place.parent.name == "Thành phố Lào Cai"


def test_quota_counters_match_the_items_they_count(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 10)
    pledge = make_pledge(plan)
    for _ in range(3):
        issue(quota, pledge)
    issue(quota, pledge, details=BookDetails(months_paid=6))
    cancelled = issue(quota, pledge)
    item_cancel(item=cancelled, reason="Trùng", actor=None)
    quota = Quota.objects.get(pk=quota.pk)
    counted = Item.objects.filter(quota=quota, status__in=Item.COUNTED)
    assert quota.cards_used == counted.filter(kind="card").count() == 3
    assert quota.books_used == counted.filter(kind="book").count() == 1


def test_a_reserved_item_holds_its_place_until_it_is_issued_then_delivered(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 1, 0)
    reserved = issue(quota, make_pledge(plan), reserved=True)
    assert reserved.status == Item.Status.RESERVED
    with pytest.raises(QuotaExhausted):
        issue(quota, make_pledge(plan))
    with pytest.raises(ValidationError, match="Only an issued item"):
        item_deliver(item=reserved, delivered_on=JAN_2024, method="commune", actor=None)
    issued = item_confirm(item=reserved, issued_on=JAN_2024, number="GD4101012345678", actor=None)
    assert (issued.status, issued.number) == (Item.Status.ISSUED, "GD4101012345678")
    delivered = item_deliver(item=issued, delivered_on=JAN_2024, method="commune", actor=None)
    assert delivered.status == Item.Status.DELIVERED


def test_a_plan_moves_forward_only(plan):
    plan.status = Plan.Status.CLOSED
    plan_save(plan=plan, actor=None)
    plan.status = Plan.Status.ACTIVE
    with pytest.raises(ValidationError, match="cannot go from"):
        plan_save(plan=plan, actor=None)


def test_a_closed_hand_over_takes_no_more_items(plan, lao_cai_city):
    quota = make_quota(plan, lao_cai_city, 10, 0)
    pledge = make_pledge(plan)
    event = make_handover(plan)
    event.status = Handover.Status.CLOSED
    handover_save(handover=event, actor=None)
    with pytest.raises(ValidationError, match="closed"):
        issue(quota, pledge, handover=event)
    event.status = Handover.Status.HELD
    with pytest.raises(ValidationError, match="cannot go from"):
        handover_save(handover=event, actor=None)
