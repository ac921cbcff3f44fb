"""The loader: finds or creates each record through its service, in the story's order."""

import datetime
import random
from dataclasses import astuple, dataclass

from django.db import transaction

from accounts.models import User
from beneficiaries.models import Beneficiary, current_communes
from beneficiaries.services import beneficiary_save
from reference.models import AdminUnit, UnitLevel
from reference.text import normalize
from sponsors.models import Sponsor

from ..models import Handover, Item, Plan, Pledge, Quota
from ..services import (
    BookDetails,
    CardDetails,
    handover_save,
    item_deliver,
    item_issue,
    item_value,
    plan_save,
    pledge_save,
    quota_set,
)
from .people import ADULTS, WORKING_AGE, PeopleMaker, Person
from .records import (
    HA_GIANG_DAY,
    HA_GIANG_PLEDGES,
    LAO_CAI_DAY,
    LAO_CAI_PLEDGES,
    PLAN_NUMBER,
    PLEDGED_ON,
    RECEIVED_ON,
    SPONSORS,
    PledgeData,
)

SEED = 4033
BOOK_MONTHS = 12


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
class _Delivery:
    on: datetime.date
    method: str
    by: str = ""


@dataclass(frozen=True)
class _Gift:
    person: Person
    kind: str
    issued_on: datetime.date
    handover: Handover | None = None
    delivery: _Delivery | None = None


def _details(kind: str, issued_on: datetime.date) -> CardDetails | BookDetails:
    """Return the details of every demo card (12 months) or book (12 months, lowest income)."""
    if kind == Item.Kind.CARD:
        return CardDetails(valid_from=issued_on)
    return BookDetails(months_paid=BOOK_MONTHS)


class _Loader:
    def __init__(self, actor: User | None):
        self.actor = actor
        self.report = DemoReport()
        self.rng = random.Random(SEED)
        self.people = PeopleMaker(self.rng)
        self.values: dict[tuple, int] = {}

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

    def value(self, kind: str, issued_on: datetime.date, category: str) -> int:
        """Return what a demo card or book is worth, as item_issue will compute it.

        Remembered: each new one reads two or three rates, and 820 gifts share a
        handful of values.
        """
        key = (kind, issued_on, category)
        if key not in self.values:
            self.values[key] = item_value(
                details=_details(kind, issued_on), issued_on=issued_on, category=category
            )
        return self.values[key]

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
            handover = handover_save(handover=handover, sponsors=sponsors, actor=self.actor)
            self.report.handovers += 1
        return handover

    def give(
        self,
        plan: Plan,
        quota: Quota,
        pledges: tuple[PledgeData, ...],
        sponsors: dict[str, Sponsor],
        gifts: list[_Gift],
    ) -> None:
        """Create the pledges that pay for ``gifts``, their recipients, then the items.

        Each pledge promises the value of what it pays for, so that what sponsors
        pledged and what their items are worth agree to the dong.
        """
        values = [self.value(gift.kind, gift.issued_on, gift.person.category) for gift in gifts]
        slots = {
            kind: [data.sponsor for data in pledges for _ in range(getattr(data, f"{kind}s"))]
            for kind in Item.Kind.values
        }
        for kind_slots in slots.values():
            self.rng.shuffle(kind_slots)
        payers = [slots[gift.kind].pop() for gift in gifts]

        saved_pledges = {}
        day = gifts[0].issued_on
        for data in pledges:
            paid = [
                value for payer, value in zip(payers, values, strict=True) if payer == data.sponsor
            ]
            # Places the pledge funds but nobody has taken yet, at the price of a card
            # or a book (for the "other" category) issued with the first gift.
            unused = sum(
                slots[kind].count(data.sponsor) * self.value(kind, day, Beneficiary.Category.OTHER)
                for kind in slots
            )
            saved_pledges[data.sponsor] = self.pledge(
                plan, sponsors[data.sponsor], quota.unit, data, sum(paid) + unused
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
            item = item_issue(
                beneficiary=recipient,
                quota=quota,
                pledge=saved_pledges[payer],
                details=_details(gift.kind, gift.issued_on),
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
        self, plan: Plan, sponsor: Sponsor, unit: AdminUnit, data: PledgeData, amount: int
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

    def recipients(self, people: list[Person]) -> dict[tuple, Beneficiary]:
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
            Person(
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
