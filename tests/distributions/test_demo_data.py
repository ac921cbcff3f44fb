"""The demo data tell the Lào Cai case of January 2024 as the VSS article does."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Sum
from stdnum.vn import mst

from beneficiaries.identifiers import personal_id_mismatches, validate_personal_id
from beneficiaries.models import Beneficiary
from distributions.demo import DemoReport, demo_load
from distributions.management.commands import load_demo_data
from distributions.models import Handover, Item, Plan, Pledge, Quota
from reference.ethnic_groups import EthnicGroup
from sponsors.models import Sponsor

pytestmark = pytest.mark.django_db

HAND_OVER_DAY = datetime.date(2024, 1, 16)
SEVEN_SPONSORS = {"Agribank", "BIDV", "Vietcombank", "VietinBank", "MB", "PVI", "Vietnam Post"}


@pytest.fixture(scope="module")
def first_load(django_db_setup, django_db_blocker) -> DemoReport:
    """Load the demo once for the module (it takes seconds) and roll it back at the end.

    Each test runs in a savepoint inside this transaction, as Django's
    TestCase.setUpTestData does.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_load()
        transaction.set_rollback(True)


@pytest.fixture
def plan(first_load) -> Plan:
    return Plan.objects.get(number="4033/KH-BHXH")


@pytest.fixture
def city_quota(plan) -> Quota:
    return Quota.objects.select_related("unit__edition").get(
        plan=plan, unit__code="080", unit__edition__code="2024"
    )


@pytest.fixture
def hop_thanh(plan) -> Handover:
    return Handover.objects.select_related("place__parent", "place__edition").get(
        plan=plan, held_on=HAND_OVER_DAY
    )


@pytest.fixture
def ha_giang_quota(plan) -> Quota:
    return Quota.objects.get(plan=plan, unit__code="02", unit__edition__code="2024")


def _counts_by_kind(items) -> dict[str, int]:
    return dict(items.values_list("kind").annotate(n=Count("pk")).order_by("kind"))


def _table_sizes() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Plan, Sponsor, Quota, Pledge, Handover, Beneficiary, Item)
    } | {"delivered": Item.objects.filter(status=Item.Status.DELIVERED).count()}


# -- the plan and the sponsors ---------------------------------------------------


def test_the_plan_is_4033_kh_bhxh_signed_by_the_vss_director_general_on_29_november_2023(plan):
    assert plan.signed_on == datetime.date(2023, 11, 29)
    assert plan.starts_on == datetime.date(2023, 11, 29)
    assert plan.ends_on == datetime.date(2024, 12, 31)
    assert plan.issuing_body == "Bảo hiểm xã hội Việt Nam"
    assert plan.signed_by == "Tổng Giám đốc Bảo hiểm xã hội Việt Nam"
    assert "Trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn" in plan.title
    assert plan.status == Plan.Status.ACTIVE
    assert (plan.target_cards, plan.target_books) == (None, None)


def test_exactly_the_seven_sponsors_of_the_article_are_recorded(first_load):
    sponsors = {sponsor.short_name: sponsor for sponsor in Sponsor.objects.all()}
    assert set(sponsors) == SEVEN_SPONSORS
    assert sponsors["PVI"].kind == Sponsor.Kind.INSURER
    assert sponsors["Vietnam Post"].kind == Sponsor.Kind.STATE_ENTERPRISE
    assert {name for name, sponsor in sponsors.items() if sponsor.kind == Sponsor.Kind.BANK} == (
        SEVEN_SPONSORS - {"PVI", "Vietnam Post"}
    )
    assert sponsors["Agribank"].name_vi == "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam"
    assert all(sponsor.name_vi and sponsor.name_en for sponsor in sponsors.values())
    assert all(mst.is_valid(s.tax_code) for s in sponsors.values() if s.tax_code)
    assert sponsors["BIDV"].tax_code == "0100150619"


def test_each_sponsor_pledged_once_to_the_plan_for_lao_cai_city(city_quota):
    pledges = Pledge.objects.filter(plan=city_quota.plan, unit=city_quota.unit)
    assert sorted(pledges.values_list("sponsor__short_name", flat=True)) == sorted(SEVEN_SPONSORS)


def test_the_lao_cai_city_pledges_fund_exactly_600_cards_and_50_books(city_quota):
    pledges = Pledge.objects.filter(plan=city_quota.plan, unit=city_quota.unit)
    totals = pledges.aggregate(
        cards=Sum("cards"),
        books=Sum("books"),
        cards_funded=Sum("cards_funded"),
        books_funded=Sum("books_funded"),
    )
    assert totals == {"cards": 600, "books": 50, "cards_funded": 600, "books_funded": 50}


def test_each_lao_cai_city_pledge_was_paid_in_full_and_is_worth_what_it_funded(city_quota):
    for pledge in Pledge.objects.filter(plan=city_quota.plan, unit=city_quota.unit):
        assert pledge.amount_pledged == pledge.amount_received == pledge.value_funded > 0
        assert (pledge.pledged_on, pledge.received_on) == (
            datetime.date(2024, 1, 10),
            datetime.date(2024, 1, 15),
        )


# -- Lào Cai City ------------------------------------------------------------------


def test_lao_cai_city_has_a_quota_of_600_cards_and_50_books(city_quota):
    assert city_quota.unit.name == "Thành phố Lào Cai"
    assert city_quota.unit.edition.code == "2024"
    assert (city_quota.cards, city_quota.books) == (600, 50)


def test_the_lao_cai_city_quota_is_all_issued_and_45_cards_and_10_books_are_delivered(
    city_quota,
):
    assert (city_quota.cards_used, city_quota.books_used) == (600, 50)
    assert (city_quota.cards_delivered, city_quota.books_delivered) == (45, 10)
    assert (city_quota.cards_available, city_quota.books_available) == (0, 0)


def test_the_hand_over_of_16_january_2024_was_held_in_hop_thanh_lao_cai_city(hop_thanh):
    assert hop_thanh.place.code == "02680"
    assert hop_thanh.place.name == "Xã Hợp Thành"
    assert hop_thanh.place.edition.code == "2024"
    assert hop_thanh.place.parent.name == "Thành phố Lào Cai"
    assert hop_thanh.status == Handover.Status.HELD
    assert hop_thanh.officials_present.splitlines() == [
        "Ông Đào Việt Ánh, Phó Tổng Giám đốc Bảo hiểm xã hội Việt Nam",
        "Ông Ngô Vũ Quốc, Phó Chủ tịch UBND thành phố Lào Cai",
    ]


def test_all_seven_sponsors_were_present_at_the_hop_thanh_hand_over(hop_thanh):
    present = hop_thanh.sponsors_present.values_list("short_name", flat=True)
    assert set(present) == SEVEN_SPONSORS


def test_45_cards_and_10_books_were_delivered_at_the_hop_thanh_ceremony(hop_thanh, city_quota):
    items = hop_thanh.items.all()
    assert _counts_by_kind(items) == {Item.Kind.BOOK: 10, Item.Kind.CARD: 45}
    assert set(items.values_list("status", "delivery_method", "delivered_on", "quota")) == {
        (Item.Status.DELIVERED, Item.DeliveryMethod.CEREMONY, HAND_OVER_DAY, city_quota.pk)
    }


def test_the_ceremony_items_went_to_55_people_living_in_hop_thanh_today(hop_thanh):
    recipients = Beneficiary.objects.filter(items__handover=hop_thanh).distinct()
    assert recipients.count() == 55
    assert set(recipients.values_list("commune__code", "commune__edition__code")) == {
        ("02680", "2025")
    }
    assert set(recipients.values_list("province__code", flat=True)) == {"15"}


def test_luong_thi_truc_received_a_card_at_the_hop_thanh_hand_over(hop_thanh):
    card = Item.objects.select_related("beneficiary").get(
        beneficiary__search_name="luong thi truc", kind=Item.Kind.CARD
    )
    assert card.handover == hop_thanh
    assert card.status == Item.Status.DELIVERED
    assert card.beneficiary.full_name == "Lương Thị Trúc"
    assert card.beneficiary.sex == Beneficiary.Sex.FEMALE
    assert card.beneficiary.commune.code == "02680"


def test_every_card_of_the_hop_thanh_ceremony_is_worth_972000_vnd(hop_thanh):
    cards = hop_thanh.items.filter(kind=Item.Kind.CARD)
    # 12 months x 4.5% x the base salary of 1,800,000 in force in January 2024.
    assert set(cards.values_list("value", "valid_from", "valid_until")) == {
        (972_000, HAND_OVER_DAY, datetime.date(2025, 1, 15))
    }


def test_the_books_of_the_ceremony_pay_12_months_at_the_lowest_income(hop_thanh):
    books = hop_thanh.items.filter(kind=Item.Kind.BOOK)
    assert set(books.values_list("months_paid", "income_base")) == {(12, 1_500_000)}
    # 22% of 1,500,000 a month, less the state's share: 10% to 30% by category.
    assert all(2_772_000 <= value <= 3_564_000 for value in books.values_list("value", flat=True))


def test_555_cards_and_40_books_await_delivery_by_the_provincial_office(city_quota):
    waiting = city_quota.items.filter(status=Item.Status.ISSUED)
    assert _counts_by_kind(waiting) == {Item.Kind.BOOK: 40, Item.Kind.CARD: 555}
    assert not waiting.filter(handover__isnull=False).exists()
    assert set(waiting.values_list("issued_on", "delivered_on", "delivery_method")) == {
        (HAND_OVER_DAY, None, "")
    }


def test_the_other_lao_cai_city_recipients_live_in_todays_lao_cai_province(city_quota):
    recipients = Beneficiary.objects.filter(items__quota=city_quota).distinct()
    assert recipients.count() == 650
    assert set(recipients.values_list("province__code", "province__edition__code")) == {
        ("15", "2025")
    }


# -- the recipients ---------------------------------------------------------------


def test_the_recipients_are_plausible_and_pass_the_identifier_checks(first_load):
    recipients = list(Beneficiary.objects.all())
    ids = [person.personal_id for person in recipients if person.personal_id]
    assert len(ids) == len(set(ids)) > 100
    for person in recipients:
        middle_name = person.full_name.split()[1]
        assert (middle_name == "Thị") == (person.sex == Beneficiary.Sex.FEMALE)
        assert person.consent_on and person.consent_method
        if person.personal_id:
            validate_personal_id(person.personal_id)
            assert not personal_id_mismatches(
                person.personal_id,
                birth_year=person.birth_year,
                is_female=person.sex == Beneficiary.Sex.FEMALE,
            )
            assert person.personal_id[:3] in {"010", "002"}
    assert {person.ethnic_group for person in recipients} <= {
        "",
        EthnicGroup.KINH,
        EthnicGroup.MONG,
        EthnicGroup.DAO,
        EthnicGroup.TAY,
        EthnicGroup.GIAY,
        EthnicGroup.NUNG,
    }
    assert any(person.birth_date for person in recipients)
    assert any(person.birth_date is None for person in recipients)
    assert len({person.category for person in recipients}) == len(Beneficiary.Category)


def test_nobody_holds_two_items_of_a_kind_under_the_plan(plan):
    doubles = (
        Item.objects.filter(plan=plan)
        .values("beneficiary", "kind")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not doubles.exists()


# -- Hà Giang -----------------------------------------------------------------------


def test_ha_giang_has_its_own_quota_pledges_and_hand_over(ha_giang_quota):
    assert (ha_giang_quota.cards, ha_giang_quota.books) == (200, 20)
    assert (ha_giang_quota.cards_used, ha_giang_quota.books_used) == (150, 20)
    assert (ha_giang_quota.cards_delivered, ha_giang_quota.books_delivered) == (90, 10)
    pledges = Pledge.objects.filter(plan=ha_giang_quota.plan, unit=ha_giang_quota.unit)
    assert pledges.aggregate(cards=Sum("cards"), books=Sum("books")) == {"cards": 200, "books": 20}
    handover = Handover.objects.get(plan=ha_giang_quota.plan, place__province=ha_giang_quota.unit)
    assert handover.held_on.strftime("%Y-%m") == "2024-01"
    assert _counts_by_kind(handover.items.filter(status=Item.Status.DELIVERED)) == {
        Item.Kind.BOOK: 5,
        Item.Kind.CARD: 30,
    }


def test_ha_giang_items_are_delivered_at_the_ceremony_by_the_commune_or_still_waiting(
    ha_giang_quota,
):
    by_method = dict(ha_giang_quota.items.values_list("delivery_method").annotate(n=Count("pk")))
    assert by_method == {
        Item.DeliveryMethod.CEREMONY: 35,
        Item.DeliveryMethod.COMMUNE: 65,
        "": 70,
    }
    by_commune = ha_giang_quota.items.filter(delivery_method=Item.DeliveryMethod.COMMUNE)
    assert not by_commune.filter(handover__isnull=False).exists()
    assert all(
        item.delivered_on.month == 2 and item.delivered_by.startswith("UBND ")
        for item in by_commune
    )


def test_ha_giang_recipients_live_in_tuyen_quang_since_the_2025_reform(ha_giang_quota):
    provinces = Beneficiary.objects.filter(items__quota=ha_giang_quota).values_list(
        "province__code", "province__edition__code", "province__name"
    )
    assert set(provinces) == {("08", "2025", "Tỉnh Tuyên Quang")}


def test_the_plan_allocates_800_cards_and_70_books_across_the_two_provinces(plan):
    assert (plan.cards_allocated, plan.books_allocated) == (800, 70)


def test_a_pledge_never_promises_less_than_the_value_of_what_it_funded(plan):
    for pledge in Pledge.objects.filter(plan=plan):
        assert pledge.amount_pledged >= pledge.value_funded
        assert pledge.amount_received in (0, pledge.amount_pledged)


# -- loading again, and the command ----------------------------------------------------


def test_the_first_load_reports_what_it_created(first_load):
    assert first_load == DemoReport(
        plans=1,
        sponsors=7,
        quotas=2,
        pledges=9,
        handovers=2,
        recipients=820,
        cards=750,
        books=70,
        deliveries=155,
    )


def test_calling_demo_load_a_second_time_creates_nothing(first_load):
    before = _table_sizes()
    assert demo_load().total == 0
    assert _table_sizes() == before


def test_load_demo_data_prints_what_it_created(first_load, monkeypatch):
    monkeypatch.setattr(load_demo_data, "demo_load", lambda **kwargs: first_load)
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert "recipients 820, cards 750, books 70, deliveries 155." in out.getvalue()


def test_load_demo_data_says_when_nothing_was_created(first_load):
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert out.getvalue() == "Demo data already loaded: nothing created.\n"


def test_load_demo_data_prints_nothing_at_verbosity_0(first_load):
    out = io.StringIO()
    call_command("load_demo_data", verbosity=0, stdout=out)
    assert out.getvalue() == ""
