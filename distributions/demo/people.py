"""Made-up recipients: names by ethnic group, weighted draws and ID numbers that pass the checks."""

import datetime
import random
from dataclasses import dataclass, field

from beneficiaries.demo import CONSENT_WEIGHTS
from beneficiaries.models import Beneficiary
from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, UnitType

DEMO_NOTE = "Dữ liệu mẫu: người giả định, không có thật."
ADULTS = (1950, 2004)
WORKING_AGE = (1966, 2004)  # voluntary social insurance is for people who can still pay in


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


@dataclass(frozen=True)
class Person:
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
class PeopleMaker:
    """Draws plausible people from a seeded generator, never the same one twice."""

    rng: random.Random
    taken_keys: set[tuple] = field(default_factory=set)
    taken_ids: set[str] = field(default_factory=set)

    def reserve(self, person: Person) -> Person:
        self.taken_keys.add(person.name_key)
        return person

    def person(
        self,
        commune: AdminUnit,
        *,
        id_province: str,
        consent_before: datetime.date,
        born: tuple[int, int],
    ) -> Person:
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
            Person(
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
                consent_method=_pick(rng, CONSENT_WEIGHTS),
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
