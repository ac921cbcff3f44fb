"""Demo data: the Lào Cai hand-over of 16 January 2024, as VSS reported it on 19/01/2024.

From the article ("VSS Extends Care to People Facing Hardships in Lao Cai
Province"): plan 4033/KH-BHXH signed on 29/11/2023 by the VSS Director General;
seven sponsors; 600 health-insurance cards and 50 social-insurance books for
Lào Cai City; 45 cards and 10 books handed over in Hợp Thành commune on
16/01/2024 by Deputy General Director Đào Việt Ánh with Vice Chairman Ngô Vũ
Quốc of the city; the other 555 cards and 40 books left to the Lào Cai
provincial social-security office; Ms Lương Thị Trúc of Hợp Thành among the
recipients.

Made up, because the article does not say:

- how the sponsors split the cost: the five banks 100 cards and 10 books each,
  PVI and Vietnam Post 50 cards each; pledged on 10/01/2024 and paid in full on
  15/01/2024;
- every recipient but Lương Thị Trúc's name, sex and commune (names, birth
  years, ethnic groups, categories and personal ID numbers are drawn from a
  fixed seed; the IDs only pass the model's checks), and which sponsor pays for
  whose card;
- the whole Hà Giang part (a quota, two pledges and a hand-over in Lũng Cú),
  added so that filters and totals span two provinces.

Cards run 12 months from the day they are issued; books pay 12 months at the
lowest income.  Everything goes through the services, as a user's input would.
Running the loader again creates nothing: records are looked up by their
natural keys first.
"""

import datetime
import random
from dataclasses import astuple, dataclass, field

from django.db import transaction

from accounts.models import User
from beneficiaries.models import Beneficiary, current_communes
from beneficiaries.services import beneficiary_save
from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, Rate, UnitLevel, UnitType
from reference.selectors import rate_on
from reference.text import normalize
from sponsors.models import Sponsor

from .models import Handover, Item, Plan, Pledge, Quota
from .services import (
    BookDetails,
    CardDetails,
    book_value,
    card_value,
    handover_save,
    item_deliver,
    item_issue,
    plan_save,
    pledge_save,
    quota_set,
)

SEED = 4033
PLAN_NUMBER = "4033/KH-BHXH"
BOOK_MONTHS = 12
PLEDGED_ON = datetime.date(2024, 1, 10)
RECEIVED_ON = datetime.date(2024, 1, 15)
LAO_CAI_DAY = datetime.date(2024, 1, 16)
HA_GIANG_DAY = datetime.date(2024, 1, 18)
DEMO_NOTE = "Dữ liệu mẫu: người giả định, không có thật."
ADULTS = (1950, 2004)
WORKING_AGE = (1966, 2004)  # voluntary social insurance is for people who can still pay in


class ReferenceDataMissing(LookupError):
    """The administrative units the demo needs are not loaded."""


@dataclass
class DemoReport:
    """How many records one run of ``demo_load`` created."""

    plans: int = 0
    sponsors: int = 0
    quotas: int = 0
    pledges: int = 0
    handovers: int = 0
    recipients: int = 0
    cards: int = 0
    books: int = 0
    deliveries: int = 0

    @property
    def total(self) -> int:
        return sum(astuple(self))


@dataclass(frozen=True)
class _SponsorData:
    short_name: str
    name_vi: str
    name_en: str
    kind: str
    tax_code: str = ""


# Tax codes only where the published code is certain; PVI's is left blank
# because the article does not say which PVI company gave.
SPONSORS = (
    _SponsorData(
        "Agribank",
        "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
        "Vietnam Bank for Agriculture and Rural Development",
        Sponsor.Kind.BANK,
        "0100686174",
    ),
    _SponsorData(
        "BIDV",
        "Ngân hàng Thương mại Cổ phần Đầu tư và Phát triển Việt Nam",
        "Joint Stock Commercial Bank for Investment and Development of Vietnam",
        Sponsor.Kind.BANK,
        "0100150619",
    ),
    _SponsorData(
        "Vietcombank",
        "Ngân hàng Thương mại Cổ phần Ngoại thương Việt Nam",
        "Joint Stock Commercial Bank for Foreign Trade of Vietnam",
        Sponsor.Kind.BANK,
        "0100112437",
    ),
    _SponsorData(
        "VietinBank",
        "Ngân hàng Thương mại Cổ phần Công Thương Việt Nam",
        "Vietnam Joint Stock Commercial Bank for Industry and Trade",
        Sponsor.Kind.BANK,
        "0100111948",
    ),
    _SponsorData(
        "MB",
        "Ngân hàng Thương mại Cổ phần Quân đội",
        "Military Commercial Joint Stock Bank",
        Sponsor.Kind.BANK,
        "0100283873",
    ),
    _SponsorData(
        "PVI",
        "Tổng Công ty Bảo hiểm PVI",
        "PVI Insurance Corporation",
        Sponsor.Kind.INSURER,
    ),
    _SponsorData(
        "Vietnam Post",
        "Tổng công ty Bưu điện Việt Nam",
        "Vietnam Post Corporation",
        Sponsor.Kind.STATE_ENTERPRISE,
        "0102595740",
    ),
)


@dataclass(frozen=True)
class _PledgeData:
    sponsor: str
    cards: int
    books: int
    received: bool = True


LAO_CAI_PLEDGES = (
    *(
        _PledgeData(bank, 100, 10)
        for bank in ("Agribank", "BIDV", "Vietcombank", "VietinBank", "MB")
    ),
    _PledgeData("PVI", 50, 0),
    _PledgeData("Vietnam Post", 50, 0),
)
# BIDV has not paid yet: a pledge with nothing received is something to show.
HA_GIANG_PLEDGES = (_PledgeData("Agribank", 100, 10), _PledgeData("BIDV", 100, 10, received=False))


# -- synthetic people ---------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    family: tuple[str, ...]
    male_middle: tuple[str, ...]
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]


_LOWLAND_MALE = ("Hùng", "Dũng", "Minh", "Tuấn", "Hải", "Sơn", "Thắng", "Toàn", "Cường", "Bình")
_LOWLAND_FEMALE = ("Lan", "Hoa", "Mai", "Dung", "Hương", "Thu", "Linh", "Hằng", "Nga", "Yến")
_NAMES = {
    EthnicGroup.KINH: _Names(
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ"),
        ("Văn", "Đức"),
        _LOWLAND_MALE,
        _LOWLAND_FEMALE,
    ),
    EthnicGroup.TAY: _Names(
        ("Hoàng", "Nông", "Lương", "Hà", "Ma", "Lục"), ("Văn",), _LOWLAND_MALE, _LOWLAND_FEMALE
    ),
    EthnicGroup.NUNG: _Names(
        ("Nông", "Hoàng", "Lục", "Vi", "Sầm"), ("Văn", "Đức"), _LOWLAND_MALE, _LOWLAND_FEMALE
    ),
    EthnicGroup.GIAY: _Names(
        ("Lò", "Vàng", "Hoàng", "Lương"), ("Văn",), _LOWLAND_MALE, _LOWLAND_FEMALE
    ),
    EthnicGroup.MONG: _Names(
        ("Giàng", "Vàng", "Sùng", "Thào", "Lý", "Hầu"),
        ("Seo", "A"),
        ("Páo", "Chứ", "Sử", "Lử", "Dơ", "Phừ", "Chinh", "Sính", "Pả"),
        ("Mỷ", "Dợ", "Sai", "Chía", "Súa", "Dính", "Mai", "Pàng"),
    ),
    EthnicGroup.DAO: _Names(
        ("Lý", "Triệu", "Bàn", "Tẩn", "Phàn", "Chảo"),
        ("Văn",),
        ("Chài", "Phin", "Quẩy", "Vần", "Tá", "Lở", "Sành"),
        ("Mẩy", "Xuân", "Chạn", "Mây", "Sảy", "Nhất"),
    ),
}
# Rough shares of the groups among people in hardship in the north-west mountains.
_GROUP_WEIGHTS = {
    EthnicGroup.KINH: 30,
    EthnicGroup.MONG: 25,
    EthnicGroup.TAY: 15,
    EthnicGroup.DAO: 15,
    EthnicGroup.GIAY: 8,
    EthnicGroup.NUNG: 7,
}
_CATEGORY_WEIGHTS = {
    Beneficiary.Category.POOR: 30,
    Beneficiary.Category.NEAR_POOR: 25,
    Beneficiary.Category.OUT_OF_POVERTY: 10,
    Beneficiary.Category.ETHNIC_MINORITY: 20,
    Beneficiary.Category.AVERAGE_LIVING: 10,
    Beneficiary.Category.OTHER: 5,
}
_CONSENT_WEIGHTS = {
    Beneficiary.ConsentMethod.SIGNED: 70,
    Beneficiary.ConsentMethod.THUMBPRINT: 25,
    Beneficiary.ConsentMethod.ORAL: 5,
}


@dataclass(frozen=True)
class _Person:
    full_name: str
    sex: str
    birth_year: int
    commune: AdminUnit
    category: str
    consent_on: datetime.date
    consent_method: str
    birth_date: datetime.date | None = None
    ethnic_group: str = ""
    personal_id: str | None = None
    address_line: str = ""
    notes: str = DEMO_NOTE

    @property
    def key(self) -> tuple:
        """Return what finds this person again: the ID, else name, birth year and commune."""
        return (self.personal_id,) if self.personal_id else self.name_key

    @property
    def name_key(self) -> tuple:
        return (self.full_name, self.birth_year, self.commune.pk)


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class _PeopleMaker:
    """Draws plausible people from a seeded generator, never the same one twice."""

    rng: random.Random
    taken_keys: set[tuple] = field(default_factory=set)
    taken_ids: set[str] = field(default_factory=set)

    def reserve(self, person: _Person) -> _Person:
        self.taken_keys.add(person.name_key)
        return person

    def person(
        self,
        commune: AdminUnit,
        *,
        id_province: str,
        consent_before: datetime.date,
        born: tuple[int, int],
    ) -> _Person:
        rng = self.rng
        while True:
            group = _pick(rng, _GROUP_WEIGHTS)
            names = _NAMES[group]
            sex = rng.choice(Beneficiary.Sex.values)
            if sex == Beneficiary.Sex.MALE:
                middle, given = rng.choice(names.male_middle), rng.choice(names.male_given)
            else:
                middle, given = "Thị", rng.choice(names.female_given)
            full_name = f"{rng.choice(names.family)} {middle} {given}"
            birth_year = rng.randint(*born)
            if (full_name, birth_year, commune.pk) not in self.taken_keys:
                break

        birth_date = None
        if rng.random() < 0.5:  # many older people know only their birth year
            birth_date = datetime.date(birth_year, 1, 1) + datetime.timedelta(
                days=rng.randrange(365)
            )
        category = _pick(rng, _CATEGORY_WEIGHTS)
        if group == EthnicGroup.KINH and category == Beneficiary.Category.ETHNIC_MINORITY:
            category = Beneficiary.Category.POOR
        personal_id = None
        if rng.random() < 0.6:
            personal_id = self._personal_id(id_province, birth_year, sex == Beneficiary.Sex.FEMALE)
        place = "Tổ" if commune.unit_type == UnitType.WARD else "Thôn"
        return self.reserve(
            _Person(
                full_name=full_name,
                sex=sex,
                birth_year=birth_year,
                birth_date=birth_date,
                ethnic_group=group,
                category=category,
                personal_id=personal_id,
                commune=commune,
                address_line=f"{place} {rng.randint(1, 15)}",
                consent_on=consent_before - datetime.timedelta(days=rng.randint(3, 20)),
                consent_method=_pick(rng, _CONSENT_WEIGHTS),
            )
        )

    def _personal_id(self, province: str, birth_year: int, is_female: bool) -> str:
        """Return a 12-digit ID whose 4th to 6th digits agree with the sex and birth year."""
        century_sex = (birth_year // 100 - 19) * 2 + is_female
        while True:
            number = f"{province}{century_sex}{birth_year % 100:02d}{self.rng.randrange(10**6):06d}"
            if number not in self.taken_ids:
                self.taken_ids.add(number)
                return number


# -- gifts ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Delivery:
    on: datetime.date
    method: str
    by: str = ""


@dataclass(frozen=True)
class _Gift:
    person: _Person
    kind: str
    issued_on: datetime.date
    handover: Handover | None = None
    delivery: _Delivery | None = None


def _values(gifts: list[_Gift]) -> list[int]:
    """Return what each gift is worth, as item_issue will compute it."""
    cache: dict[tuple, int] = {}
    values = []
    for gift in gifts:
        if gift.kind == Item.Kind.CARD:
            key = (gift.kind, gift.issued_on)
            if key not in cache:
                cache[key] = card_value(valid_from=gift.issued_on)
        else:
            key = (gift.kind, gift.issued_on, gift.person.category)
            if key not in cache:
                cache[key] = book_value(
                    issued_on=gift.issued_on,
                    months=BOOK_MONTHS,
                    income_base=int(rate_on(Rate.Kind.VSI_MINIMUM_INCOME, gift.issued_on)),
                    category=gift.person.category,
                )
        values.append(cache[key])
    return values


class _Loader:
    def __init__(self, actor: User | None):
        self.actor = actor
        self.report = DemoReport()
        self.rng = random.Random(SEED)
        self.people = _PeopleMaker(self.rng)

    # -- look-ups ---------------------------------------------------------------

    def unit(self, edition: str, code: str) -> AdminUnit:
        try:
            return AdminUnit.objects.select_related("parent", "province").get(
                edition__code=edition, code=code
            )
        except AdminUnit.DoesNotExist:
            raise ReferenceDataMissing(
                f"No unit {code} in the {edition} edition of administrative units."
            ) from None

    def successor_communes(self, old_unit: AdminUnit) -> list[AdminUnit]:
        """Return today's communes that kept the code of a commune of ``old_unit``, by code.

        New communes reuse the code of one of the communes they absorbed, so these
        are where people of ``old_unit`` live now (not all of them: a split commune
        may also have gone to a neighbour that kept another code).
        """
        old_codes = AdminUnit.objects.filter(
            edition_id=old_unit.edition_id, level=UnitLevel.COMMUNE
        ).within(old_unit)
        return list(
            AdminUnit.objects.filter(
                current_communes(), code__in=old_codes.values("code")
            ).order_by("code")
        )

    # -- records ------------------------------------------------------------------

    def plan(self) -> Plan:
        plan = Plan.objects.filter(number=PLAN_NUMBER).first()
        if plan is None:
            plan = Plan(
                number=PLAN_NUMBER,
                title=(
                    'Kế hoạch tổ chức Chương trình "Trao tặng sổ BHXH, thẻ BHYT cho người có '
                    'hoàn cảnh khó khăn"'
                ),
                issuing_body="Bảo hiểm xã hội Việt Nam",
                signed_on=datetime.date(2023, 11, 29),
                signed_by="Tổng Giám đốc Bảo hiểm xã hội Việt Nam",
                starts_on=datetime.date(2023, 11, 29),
                ends_on=datetime.date(2024, 12, 31),
                status=Plan.Status.ACTIVE,
            )
            plan = plan_save(plan=plan, actor=self.actor)
            self.report.plans += 1
        return plan

    def sponsors(self) -> dict[str, Sponsor]:
        found = Sponsor.objects.in_bulk(
            [data.short_name for data in SPONSORS], field_name="short_name"
        )
        for data in SPONSORS:
            if data.short_name not in found:
                sponsor = Sponsor(
                    short_name=data.short_name,
                    name_vi=data.name_vi,
                    name_en=data.name_en,
                    kind=data.kind,
                    tax_code=data.tax_code,
                )
                sponsor.full_clean()
                sponsor.save()
                found[data.short_name] = sponsor
                self.report.sponsors += 1
        return found

    def quota(self, plan: Plan, unit: AdminUnit, cards: int, books: int) -> Quota:
        quota = Quota.objects.filter(plan=plan, unit=unit).first()
        if quota is None:
            quota = quota_set(plan=plan, unit=unit, cards=cards, books=books, actor=self.actor)
            self.report.quotas += 1
        return quota

    def handover(
        self,
        plan: Plan,
        *,
        held_on: datetime.date,
        place: AdminUnit,
        title: str,
        officials_present: str,
        sponsors: list[Sponsor],
        notes: str = "",
    ) -> Handover:
        handover = Handover.objects.filter(plan=plan, held_on=held_on, place=place).first()
        if handover is None:
            handover = Handover(
                plan=plan,
                held_on=held_on,
                place=place,
                title=title,
                officials_present=officials_present,
                status=Handover.Status.HELD,
                notes=notes,
            )
            handover = handover_save(handover=handover, actor=self.actor)
            handover.sponsors_present.set(sponsors)
            self.report.handovers += 1
        return handover

    def give(
        self,
        plan: Plan,
        quota: Quota,
        pledges: tuple[_PledgeData, ...],
        sponsors: dict[str, Sponsor],
        gifts: list[_Gift],
    ) -> None:
        """Create the pledges that pay for ``gifts``, their recipients, then the items.

        Each pledge promises the value of what it pays for, so that what sponsors
        pledged and what their items are worth agree to the dong.
        """
        values = _values(gifts)
        slots = {
            kind: [data.sponsor for data in pledges for _ in range(getattr(data, f"{kind}s"))]
            for kind in Item.Kind.values
        }
        for kind_slots in slots.values():
            self.rng.shuffle(kind_slots)
        payers = [slots[gift.kind].pop() for gift in gifts]

        saved_pledges = {}
        for data in pledges:
            paid = [
                value for payer, value in zip(payers, values, strict=True) if payer == data.sponsor
            ]
            # Places the pledge funds but nobody has taken yet, at the price of a card
            # or a book (for the "other" category) issued with the first gift.
            unused = {kind: slots[kind].count(data.sponsor) for kind in slots}
            day = gifts[0].issued_on
            amount = sum(paid) + unused[Item.Kind.CARD] * card_value(valid_from=day)
            if unused[Item.Kind.BOOK]:
                amount += unused[Item.Kind.BOOK] * book_value(
                    issued_on=day,
                    months=BOOK_MONTHS,
                    income_base=int(rate_on(Rate.Kind.VSI_MINIMUM_INCOME, day)),
                    category=Beneficiary.Category.OTHER,
                )
            saved_pledges[data.sponsor] = self.pledge(
                plan, sponsors[data.sponsor], quota.unit, data, amount
            )

        recipients = self.recipients([gift.person for gift in gifts])
        held = set(
            Item.objects.filter(
                plan=plan,
                beneficiary__in=[recipient.pk for recipient in recipients.values()],
                status__in=Item.COUNTED,
            ).values_list("beneficiary_id", "kind")
        )
        for gift, payer in zip(gifts, payers, strict=True):
            recipient = recipients[gift.person.key]
            if (recipient.pk, gift.kind) in held:
                continue
            details = (
                CardDetails(valid_from=gift.issued_on)
                if gift.kind == Item.Kind.CARD
                else BookDetails(months_paid=BOOK_MONTHS)
            )
            item = item_issue(
                beneficiary=recipient,
                quota=quota,
                pledge=saved_pledges[payer],
                details=details,
                issued_on=gift.issued_on,
                handover=gift.handover,
                actor=self.actor,
            )
            if gift.kind == Item.Kind.CARD:
                self.report.cards += 1
            else:
                self.report.books += 1
            if gift.delivery is not None:
                item_deliver(
                    item=item,
                    delivered_on=gift.delivery.on,
                    method=gift.delivery.method,
                    delivered_by=gift.delivery.by,
                    handover=gift.handover,
                    actor=self.actor,
                )
                self.report.deliveries += 1

    def pledge(
        self, plan: Plan, sponsor: Sponsor, unit: AdminUnit, data: _PledgeData, amount: int
    ) -> Pledge:
        pledge = Pledge.objects.filter(plan=plan, sponsor=sponsor, unit=unit).first()
        if pledge is None:
            pledge = Pledge(
                plan=plan,
                sponsor=sponsor,
                unit=unit,
                cards=data.cards,
                books=data.books,
                amount_pledged=amount,
                amount_received=amount if data.received else 0,
                pledged_on=PLEDGED_ON,
                received_on=RECEIVED_ON if data.received else None,
                notes="Dữ liệu mẫu: cách chia kinh phí giữa các nhà tài trợ là giả định.",
            )
            pledge = pledge_save(pledge=pledge, actor=self.actor)
            self.report.pledges += 1
        return pledge

    def recipients(self, people: list[_Person]) -> dict[tuple, Beneficiary]:
        """Return the recipient of each person's key, creating those not recorded yet.

        Two queries find those already there; each new one goes through
        beneficiary_save (a dozen queries, most of them its validation).
        """
        found: dict[tuple, Beneficiary] = {}
        ids = [person.personal_id for person in people if person.personal_id]
        for recipient in Beneficiary.objects.filter(personal_id__in=ids):
            found[(recipient.personal_id,)] = recipient
        without_id = [person for person in people if not person.personal_id]
        for recipient in Beneficiary.objects.filter(
            full_name__in={person.full_name for person in without_id},
            commune__in={person.commune.pk for person in without_id},
        ):
            found.setdefault(
                (recipient.full_name, recipient.birth_year, recipient.commune_id), recipient
            )

        for person in people:
            if person.key in found:
                continue
            recipient, _duplicates = beneficiary_save(
                beneficiary=Beneficiary(
                    full_name=person.full_name,
                    sex=person.sex,
                    birth_year=person.birth_year,
                    birth_date=person.birth_date,
                    ethnic_group=person.ethnic_group,
                    personal_id=person.personal_id,
                    commune=person.commune,
                    address_line=person.address_line,
                    category=person.category,
                    consent_on=person.consent_on,
                    consent_method=person.consent_method,
                    notes=person.notes,
                ),
                actor=self.actor,
            )
            found[person.key] = recipient
            self.report.recipients += 1
        return found

    # -- the two areas ------------------------------------------------------------

    def gift(
        self,
        kind: str,
        commune: AdminUnit,
        *,
        id_province: str,
        issued_on: datetime.date,
        handover: Handover | None = None,
        delivery: _Delivery | None = None,
    ) -> _Gift:
        """Return a card or a book for a new made-up person living in ``commune``."""
        person = self.people.person(
            commune,
            id_province=id_province,
            consent_before=issued_on,
            born=WORKING_AGE if kind == Item.Kind.BOOK else ADULTS,
        )
        return _Gift(person, kind, issued_on, handover, delivery)

    def lao_cai_city(self, plan: Plan, sponsors: dict[str, Sponsor]) -> None:
        city = self.unit("2024", "080")
        hop_thanh = self.unit("2024", "02680")
        hop_thanh_now = self.unit("2025", "02680")
        quota = self.quota(plan, city, cards=600, books=50)
        handover = self.handover(
            plan,
            held_on=LAO_CAI_DAY,
            place=hop_thanh,
            title=(
                "Trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn tại xã Hợp Thành, "
                "thành phố Lào Cai"
            ),
            officials_present=(
                "Ông Đào Việt Ánh, Phó Tổng Giám đốc Bảo hiểm xã hội Việt Nam\n"
                "Ông Ngô Vũ Quốc, Phó Chủ tịch UBND thành phố Lào Cai"
            ),
            sponsors=list(sponsors.values()),
        )
        truc = self.people.reserve(
            _Person(
                full_name=normalize("Lương Thị Trúc"),
                sex=Beneficiary.Sex.FEMALE,
                birth_year=1975,
                commune=hop_thanh_now,
                category=Beneficiary.Category.OTHER,
                consent_on=datetime.date(2024, 1, 8),
                consent_method=Beneficiary.ConsentMethod.SIGNED,
                notes=(
                    "Dữ liệu mẫu: họ tên và xã theo bài báo của BHXH Việt Nam ngày 19/01/2024; "
                    "năm sinh và các thông tin khác là giả định."
                ),
            )
        )

        def gift(kind: str, commune: AdminUnit, **kwargs) -> _Gift:
            return self.gift(kind, commune, id_province="010", issued_on=LAO_CAI_DAY, **kwargs)

        at_ceremony = {
            "handover": handover,
            "delivery": _Delivery(on=LAO_CAI_DAY, method=Item.DeliveryMethod.CEREMONY),
        }
        gifts = [_Gift(truc, Item.Kind.CARD, LAO_CAI_DAY, **at_ceremony)]
        gifts += [gift(Item.Kind.CARD, hop_thanh_now, **at_ceremony) for _ in range(44)]
        gifts += [gift(Item.Kind.BOOK, hop_thanh_now, **at_ceremony) for _ in range(10)]
        # The rest wait for the provincial office, anywhere in the former city.
        communes = self.successor_communes(city)
        gifts += [gift(Item.Kind.CARD, self.rng.choice(communes)) for _ in range(555)]
        gifts += [gift(Item.Kind.BOOK, self.rng.choice(communes)) for _ in range(40)]
        self.give(plan, quota, LAO_CAI_PLEDGES, sponsors, gifts)

    def ha_giang(self, plan: Plan, sponsors: dict[str, Sponsor]) -> None:
        province = self.unit("2024", "02")
        lung_cu = self.unit("2024", "00715")
        quota = self.quota(plan, province, cards=200, books=20)
        pledge_sponsors = [sponsors[data.sponsor] for data in HA_GIANG_PLEDGES]
        handover = self.handover(
            plan,
            held_on=HA_GIANG_DAY,
            place=lung_cu,
            title=(
                "Trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn tại xã Lũng Cú, "
                "huyện Đồng Văn"
            ),
            officials_present=(
                "Đại diện Bảo hiểm xã hội tỉnh Hà Giang\nĐại diện UBND huyện Đồng Văn"
            ),
            sponsors=pledge_sponsors,
            notes="Dữ liệu mẫu: buổi trao tặng giả định, không có trong bài báo.",
        )
        communes = self.successor_communes(province)
        lung_cu_now = next(commune for commune in communes if commune.code == lung_cu.code)
        old_names = dict(
            AdminUnit.objects.filter(
                edition_id=province.edition_id, code__in=[commune.code for commune in communes]
            ).values_list("code", "name")
        )

        def gift(kind: str, commune: AdminUnit, **kwargs) -> _Gift:
            return self.gift(kind, commune, id_province="002", issued_on=HA_GIANG_DAY, **kwargs)

        def by_commune(commune: AdminUnit) -> _Delivery:
            # Delivered in February by the commune, under its name of the time.
            return _Delivery(
                on=datetime.date(2024, 2, self.rng.randint(1, 29)),
                method=Item.DeliveryMethod.COMMUNE,
                by=f"UBND {old_names[commune.code]}",
            )

        at_ceremony = {
            "handover": handover,
            "delivery": _Delivery(on=HA_GIANG_DAY, method=Item.DeliveryMethod.CEREMONY),
        }
        gifts = [gift(Item.Kind.CARD, lung_cu_now, **at_ceremony) for _ in range(30)]
        gifts += [gift(Item.Kind.BOOK, lung_cu_now, **at_ceremony) for _ in range(5)]
        for kind, count in ((Item.Kind.CARD, 60), (Item.Kind.BOOK, 5)):
            for _ in range(count):
                commune = self.rng.choice(communes)
                gifts.append(gift(kind, commune, delivery=by_commune(commune)))
        gifts += [gift(Item.Kind.CARD, self.rng.choice(communes)) for _ in range(60)]
        gifts += [gift(Item.Kind.BOOK, self.rng.choice(communes)) for _ in range(10)]
        self.give(plan, quota, HA_GIANG_PLEDGES, sponsors, gifts)


@transaction.atomic
def demo_load(*, actor: User | None = None) -> DemoReport:
    """Load the Lào Cai 2024 case (and a Hà Giang counterpart); return what was created.

    Safe to run again: what is already there is found by its natural key and
    left alone.  820 recipients and as many cards and books, each through its service.
    """
    loader = _Loader(actor)
    plan = loader.plan()
    sponsors = loader.sponsors()
    loader.lao_cai_city(plan, sponsors)
    loader.ha_giang(plan, sponsors)
    return loader.report
