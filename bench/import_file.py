"""A recipients' workbook as communes send it, for the import benchmark.

Realistic rather than clean, because the pipeline's cost lies in the mess:
names in NFC, NFD or capitals, births as date cells, text or a year alone, ID
numbers that Excel turned into numbers, communes by code or by name, and a known
share of errors and repeated people, so that the benchmark can also check the
outcome counts.  The same seed gives the same file (with the same reference
data and Faker version), so runs compare.

Needs Django set up: the communes are read from the database (2025 edition).
"""

import datetime
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import translation
from faker import Faker
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from beneficiaries.identifiers import PROVINCE_CODES
from beneficiaries.imports.columns import COLUMNS
from beneficiaries.models import Beneficiary
from reference.models import AdminUnit, UnitLevel
from reference.text import fold

# Communes a national list draws from (of 3,321), with uneven weights: some
# communes send thousands of rows, most a few dozen.
COMMUNES_PER_FILE = 800
FIRST_BIRTH_YEAR = 1935
LAST_BIRTH_YEAR = 2022
DATE_FORMAT = "dd/mm/yyyy"
TITLE = "DANH SÁCH NGƯỜI CÓ HOÀN CẢNH KHÓ KHĂN ĐƯỢC TRAO TẶNG THẺ BHYT, SỔ BHXH"
SUBTITLE = "(Kèm theo Kế hoạch số 4033/KH-BHXH ngày 29/11/2023 của Bảo hiểm xã hội Việt Nam)"

# Recipients are poorer and more often of ethnic minorities than the country
# as a whole; names as people write them (some by another name of the group).
ETHNIC_GROUPS = {
    "Kinh": 50,
    "Tày": 7,
    "Thái": 7,
    "Mường": 6,
    "Mông": 5,
    "H'Mông": 1,
    "Khơ-me": 4,
    "Khmer": 1,
    "Nùng": 4,
    "Dao": 3,
    "Gia-rai": 2,
    "Ê-đê": 1.5,
    "Hoa": 1.5,
    "Ba-na": 1,
    "Giáy": 0.7,
    "Sán Chay": 0.6,
    "Chăm": 0.5,
    "Xơ-đăng": 0.5,
    "Cơ-ho": 0.5,
    "Sán Dìu": 0.5,
    "Hrê": 0.4,
    "Khơ-mú": 0.3,
    "Hà Nhì": 0.2,
    "": 2,
}
CATEGORIES = {
    Beneficiary.Category.POOR: 30,
    Beneficiary.Category.NEAR_POOR: 30,
    Beneficiary.Category.OUT_OF_POVERTY: 10,
    Beneficiary.Category.ETHNIC_MINORITY: 12,
    Beneficiary.Category.AVERAGE_LIVING: 10,
    Beneficiary.Category.OTHER: 8,
}
# Faker's vi_VN names are Kinh names; a few groups name people otherwise:
# (family names, middle names for men, for women, given names).
_MINORITY_NAMES = {
    "Mông": (
        ("Giàng", "Sùng", "Vàng", "Lý", "Thào", "Hầu", "Mùa"),
        ("A", "Seo"),
        ("Thị", "Seo"),
        ("Páo", "Sính", "Chứ", "Mỷ", "Dế", "Sểnh", "Chá", "Pàng", "Súa", "Mai"),
    ),
    "Khơ-me": (
        ("Thạch", "Sơn", "Danh", "Kim", "Lâm", "Chau"),
        ("",),
        ("Thị", ""),
        ("Sa Rươne", "Pholl", "Sóc", "Kha", "Ry", "Sa Ly", "Sóc Kha"),
    ),
}
# Ê-đê names: Y (men) or H' (women), a given name, the clan.
_EDE_NAMES = ("Hen", "Nhi", "Moan", "Blin", "Thu", "Jú", "Khuê")
_EDE_CLANS = ("Niê", "Êban", "Ênuôl", "Mlô", "Ayun", "Byă")
_VILLAGE_WORDS = (
    "Nà Lừa",
    "Tả Van",
    "Phìn Hồ",
    "Cốc Lếu",
    "Hòa Bình",
    "Tân Lập",
    "Đông Hưng",
    "Mỹ Lợi",
    "Khe Mạ",
    "Bản Mòng",
    "Sơn Thủy",
    "Phú Lộc",
)
_NOTES = ("Người cao tuổi sống một mình", "Khuyết tật nặng", "Hộ nghèo năm 2024", "Mồ côi")
_IMPOSSIBLE_DATES = ("31/02/1970", "30/02/1985", "31/04/1962", "29/02/1971", "31/06/1990")
ERROR_KINDS = ("impossible_date", "empty_name", "unknown_commune", "bad_id_length")
_MOBILE_PREFIXES = ("32", "33", "34", "35", "36", "37", "38", "39", "56", "58", "70", "76")
_MOBILE_PREFIXES += ("77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "89", "90")
_MOBILE_PREFIXES += ("91", "93", "94", "96", "97", "98", "99")


@dataclass
class FileSummary:
    """What the file holds on purpose: what a correct import must reject or hold back."""

    rows: int
    communes: int
    provinces: int
    # Kind of error (ERROR_KINDS) -> rows; a dict, which dataclasses.asdict copies as it is.
    errors: dict[str, int] = field(default_factory=dict)
    # A person's ID number again, later in the file: rejected.
    repeated_ids: int = 0
    # Name, birth and commune again without an ID number: a possible duplicate.
    repeated_people: int = 0

    @property
    def expected_rejected(self) -> int:
        return sum(self.errors.values()) + self.repeated_ids

    @property
    def expected_new(self) -> int:
        return self.rows - self.expected_rejected - self.repeated_people


@dataclass(frozen=True)
class _Commune:
    code: str
    name: str
    short_name: str
    province_name: str
    province_short_name: str
    # Whether the name alone finds it within its province (else only the code does).
    unique_name: bool


def _communes() -> tuple[list[_Commune], list[str]]:
    """Return today's communes and the 2024 codes that no longer exist (two queries)."""
    units = list(
        AdminUnit.objects.filter(edition__code="2025", level=UnitLevel.COMMUNE)
        .select_related("province")
        .order_by("code")
    )
    names = Counter((unit.province_id, unit.search_name) for unit in units)
    communes = [
        _Commune(
            code=unit.code,
            name=unit.name,
            short_name=unit.short_name,
            province_name=unit.province.name,
            province_short_name=unit.province.short_name,
            unique_name=names[unit.province_id, unit.search_name] == 1,
        )
        for unit in units
    ]
    current = {unit.code for unit in units}
    old_codes = (
        AdminUnit.objects.filter(edition__code="2024", level=UnitLevel.COMMUNE)
        .exclude(code__in=current)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return communes, list(old_codes)


class _Generator:
    """Makes the rows one by one; all randomness comes from one seeded Random and Faker."""

    def __init__(self, seed: int, communes: list[_Commune], old_codes: list[str]):
        self.rng = random.Random(seed)
        self.fake = Faker("vi_VN")
        self.fake.seed_instance(seed)
        chosen = self.rng.sample(communes, min(COMMUNES_PER_FILE, len(communes)))
        self.communes = chosen
        self.commune_weights = _cumulative([self.rng.paretovariate(1.2) for _ in chosen])
        self.old_codes = old_codes or ["99999"]
        self.ethnic_groups = list(ETHNIC_GROUPS)
        self.ethnic_weights = _cumulative(ETHNIC_GROUPS.values())
        with translation.override("vi"):
            self.category_labels = {category: str(category.label) for category in CATEGORIES}
        self.categories = list(CATEGORIES)
        self.category_weights = _cumulative(CATEGORIES.values())
        self.id_provinces = sorted(PROVINCE_CODES)
        self.numbers_used: set[str] = set()
        # (folded name, year, commune code) of every person: two people who share
        # them by chance would be possible duplicates the summary does not count.
        self.keys_used: set[tuple[str, int, str]] = set()

    def person(self) -> dict:
        """Return a valid person's cells by column key."""
        rng = self.rng
        female = rng.random() < 0.55
        ethnic = rng.choices(self.ethnic_groups, cum_weights=self.ethnic_weights)[0]
        year = rng.randint(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR)
        address, commune = self.address()
        name = self.name(ethnic, female)
        while (fold(name), year, commune.code) in self.keys_used:
            name = self.name(ethnic, female)
        self.keys_used.add((fold(name), year, commune.code))
        cells = {
            "full_name": name,
            "birth": self.birth(year),
            "sex": "Nữ" if female else "Nam",
            "ethnic_group": ethnic,
            "phone": self.phone(),
            "village": self.village(),
            "category": self.category(ethnic),
            "note": rng.choice(_NOTES) if rng.random() < 0.05 else None,
            **address,
        }
        kind = rng.random()
        if kind < 0.85:
            personal_id = self.personal_id(year, female)
            # Excel drops the leading zero of a number cell: 11 digits are left.
            cells["personal_id"] = int(personal_id) if rng.random() < 0.12 else personal_id
        if 0.78 <= kind < 0.92:
            number = self.social_insurance_number()
            cells["social_insurance_number"] = int(number) if rng.random() < 0.2 else number
        return cells

    def name(self, ethnic: str, female: bool) -> str:
        rng, fake = self.rng, self.fake
        parts = _MINORITY_NAMES.get(ethnic.replace("H'", ""))
        if ethnic == "Ê-đê":
            prefix = "H'" if female else "Y "
            name = f"{prefix}{rng.choice(_EDE_NAMES)} {rng.choice(_EDE_CLANS)}"
        elif parts:
            family, men, women, given = parts
            middle = rng.choice(women if female else men)
            name = f"{rng.choice(family)} {middle} {rng.choice(given)}"
        else:
            middle = fake.middle_name()
            if female:
                middle = "Thị" if middle == "Văn" or rng.random() < 0.5 else middle
                first = fake.first_name_female() if rng.random() < 0.8 else fake.first_name_unisex()
            else:
                middle = "Văn" if middle == "Thị" or rng.random() < 0.5 else middle
                first = fake.first_name_male()
            name = f"{fake.last_name()} {middle} {first}"
        name = " ".join(name.split())
        form = rng.random()
        if form < 0.05:
            return unicodedata.normalize("NFD", name)
        if form < 0.10:
            return name.upper()
        if form < 0.11:
            return f" {name.replace(' ', '  ', 1)} "
        return name

    def birth(self, year: int):
        rng = self.rng
        form = rng.random()
        if form < 0.2:
            # Only the year is known: typed as text or as a number.
            return year if rng.random() < 0.5 else str(year)
        day = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        if form < 0.7:
            return day
        return f"{day.day:02d}/{day.month:02d}/{day.year}"

    def personal_id(self, year: int, female: bool) -> str:
        """Return a new 12-digit ID: province, century and sex, year, 6 random digits."""
        century_sex = (year // 100 - 19) * 2 + int(female)
        while True:
            number = (
                f"{self.rng.choice(self.id_provinces)}{century_sex}{year % 100:02d}"
                f"{self.rng.randrange(10**6):06d}"
            )
            if number not in self.numbers_used:
                self.numbers_used.add(number)
                return number

    def social_insurance_number(self) -> str:
        while True:
            number = f"{self.rng.choice(self.id_provinces)[1:]}{self.rng.randrange(10**8):08d}"
            if number not in self.numbers_used:
                self.numbers_used.add(number)
                return number

    def phone(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.3:
            return None
        prefix, rest = rng.choice(_MOBILE_PREFIXES), f"{rng.randrange(10**7):07d}"
        form = rng.random()
        if form < 0.6:
            return f"0{prefix}{rest}"
        if form < 0.8:
            return f"0{prefix}{rest[0]} {rest[1:4]} {rest[4:]}"
        if form < 0.9:
            return f"+84 {prefix}{rest[0]} {rest[1:4]} {rest[4:]}"
        return f"0{prefix}.{rest[:3]}.{rest[3:]}"

    def village(self) -> str:
        rng = self.rng
        pattern = rng.random()
        if pattern < 0.3:
            return f"Thôn {rng.randint(1, 15)}"
        if pattern < 0.5:
            return f"Tổ dân phố {rng.randint(1, 30)}"
        if pattern < 0.6:
            return f"Xóm {rng.randint(1, 12)}"
        if pattern < 0.8:
            return f"Bản {rng.choice(_VILLAGE_WORDS)}"
        return f"Ấp {rng.choice(_VILLAGE_WORDS)}"

    def category(self, ethnic: str) -> str:
        category = self.rng.choices(self.categories, cum_weights=self.category_weights)[0]
        if category == Beneficiary.Category.ETHNIC_MINORITY and ethnic in {"Kinh", ""}:
            category = Beneficiary.Category.NEAR_POOR
        label = self.category_labels[category]
        return label[0].upper() + label[1:] if self.rng.random() < 0.2 else label

    def address(self) -> tuple[dict, _Commune]:
        """Return (the commune cells, the commune): by code (text or a number that lost its
        zero), with or without its name, or by name and province alone."""
        rng = self.rng
        commune = rng.choices(self.communes, cum_weights=self.commune_weights)[0]
        name = commune.name if rng.random() < 0.6 else commune.short_name
        province = commune.province_name if rng.random() < 0.6 else commune.province_short_name
        if commune.unique_name and rng.random() < 0.15:
            return {"commune": name, "province": province}, commune
        cells = {"commune_code": int(commune.code) if rng.random() < 0.2 else commune.code}
        if rng.random() < 0.7:
            cells.update(commune=name, province=province)
        return cells, commune

    def error(self, cells: dict, kind: str) -> dict:
        """Return ``cells`` with one error of ``kind``, the row otherwise valid."""
        rng = self.rng
        if kind == "impossible_date":
            cells["birth"] = rng.choice(_IMPOSSIBLE_DATES)
        elif kind == "empty_name":
            cells["full_name"] = None
        elif kind == "unknown_commune":
            # Mostly a 2024 code of a commune merged away in 2025, as old lists carry.
            cells["commune_code"] = rng.choice(self.old_codes)
            cells.pop("commune", None)
            cells.pop("province", None)
        elif kind == "bad_id_length":
            # The old 9-digit identity card, a 12-digit ID typed without its zero, or a typo.
            length = rng.choice((9, 11, 13))
            cells["personal_id"] = "".join(str(rng.randrange(10)) for _ in range(length))
        return cells

    def repeat_id(self, source: dict) -> dict:
        """Return the same person again, with another phone and village."""
        return {**source, "phone": self.phone(), "village": self.village()}

    def repeat_person(self, source: dict) -> dict:
        """Return the same name, birth and commune without any ID number."""
        cells = {**source, "phone": self.phone(), "village": self.village()}
        cells.pop("personal_id", None)
        cells.pop("social_insurance_number", None)
        return cells


def _cumulative(weights) -> list[float]:
    total, result = 0.0, []
    for weight in weights:
        total += weight
        result.append(total)
    return result


def write_import_file(
    path: Path | str,
    rows: int,
    seed: int = 2026,
    error_rate: float = 0.02,
    duplicate_rate: float = 0.01,
) -> FileSummary:
    """Write ``rows`` recipients in the template to an XLSX at ``path``; return what it holds.

    Written with openpyxl in normal mode, not write-only: a write-only workbook
    has no dimension record and some readers then return short rows.
    Runs two queries (the communes of 2025, the codes of 2024).
    """
    communes, old_codes = _communes()
    generator = _Generator(seed, communes, old_codes)
    rng = generator.rng
    summary = FileSummary(
        rows=rows,
        communes=len(generator.communes),
        provinces=len({commune.province_name for commune in generator.communes}),
    )
    # Valid people written so far without error: what repeats copy.
    sources: list[dict] = []

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append([TITLE])
    sheet.append([SUBTITLE])
    last_column = get_column_letter(len(COLUMNS))
    for row in (1, 2):
        sheet.merge_cells(f"A{row}:{last_column}{row}")
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    sheet.append([column.vietnamese for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=3, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A4"
    first_row = 4
    birth_column = next(i for i, column in enumerate(COLUMNS, start=1) if column.key == "birth")

    for number in range(1, rows + 1):
        draw = rng.random()
        if draw < error_rate:
            kind = rng.choice(ERROR_KINDS)
            cells = generator.error(generator.person(), kind)
            summary.errors[kind] = summary.errors.get(kind, 0) + 1
        elif draw < error_rate + duplicate_rate and sources:
            source = rng.choice(sources)
            if rng.random() < 0.5 and (
                source.get("personal_id") or source.get("social_insurance_number")
            ):
                cells = generator.repeat_id(source)
                summary.repeated_ids += 1
            else:
                cells = generator.repeat_person(source)
                summary.repeated_people += 1
        else:
            cells = generator.person()
            sources.append(cells)
        cells["number"] = number
        sheet.append([cells.get(column.key) for column in COLUMNS])
        if isinstance(cells["birth"], datetime.date):
            # The row's number, not sheet.max_row: that scans every cell each time.
            sheet.cell(row=first_row + number - 1, column=birth_column).number_format = DATE_FORMAT
    workbook.save(path)
    return summary
