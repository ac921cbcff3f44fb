"""Made-up recipients by the million, written in SQL (reference.bulk).

Used by ``manage.py generate_demo`` and by the benchmarks (bench.api,
bench.dashboards), so that what is measured is what a demo shows.

Row i (from 1) of a load is one person, made from i and hashes of it so that
every CHECK constraint holds and the model's own checks would pass too:

- names from Faker's ``vi_VN`` person provider, in Vietnamese order (family,
  middle, given), the middle and given names from the lists of the person's
  sex, search_name folded as ``reference.text.fold`` folds; a household of
  one of the largest minority groups of the north and the Mekong delta has
  a family name of its group (MINORITY_FAMILY_NAMES), and a Mông man or woman
  a Mông middle name (Giàng A Páo's "A");
- three consecutive rows are a household: one commune, village, household key,
  hardship category and ethnic group, and the first two one family name;
- a commune of today's edition: a Kinh household (or one of no recorded group)
  in any, each commune as likely; one of a minority group in a province where
  the group lives (ETHNIC_GROUP_HOMES: the Mông in the northern mountains, the
  Khmer in the Mekong delta, the Ê-đê in the Central Highlands), so that the
  groups' national shares stay those of ETHNIC_GROUP_WEIGHTS;
- the personal ID's province is the one the person's commune belonged to
  before 2025 (one person in ten was registered elsewhere), its 4th digit
  agrees with sex and century, its 5th and 6th with the year of birth, and
  its serial is (i - 1) / 2, so that two rows of one sex never share an ID
  (hence at most MAX_RECIPIENTS rows a load);
- rows whose number ends a cycle of ROW_CYCLE at WORKING_AGE_SLOTS are of
  working age: the cards and books loader gives them the social-insurance
  books (distributions.demo.bulk);
- each person belongs to one of the load's cohorts (a plan, for the
  generator), recorded in the half-year before it starts and consenting up to
  three weeks before being recorded.
"""

import datetime
import functools
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from reference import bulk
from reference.ethnic_groups import EthnicGroup
from reference.models import AdminUnit, UnitLevel, UnitType
from reference.selectors import UnitNotFound, edition_in_force_on
from reference.text import fold, normalize

from .identifiers import PROVINCE_CODES
from .models import Beneficiary, current_communes

# What marks a generated recipient: ``--replace`` deletes these and nobody else.
GENERATED_NOTE = "Dữ liệu mẫu sinh tự động (generate_demo): người giả định, không có thật."
MAX_RECIPIENTS = 2_000_000
MISSING_ID_EVERY = 20
# One person in this many is recorded a second time (the next row becomes a copy).
# A multiple of ROW_CYCLE: the copies (rows 2, 1002, ...) are then never of working age.
DUPLICATE_EVERY = 1000
ROW_CYCLE = 20
WORKING_AGE_SLOTS = (10, 19)
WORKING_AGES = (20, 55)  # voluntary social insurance is for people who can still pay in
BORN_ELSEWHERE_PERCENT = 10
PHONE_PERCENT = 70
RECORDED_DAYS_BEFORE = 180
CONSENT_DAYS_BEFORE = 21

# Approximate shares among people in hardship, per 10,000: the 2019 census's order
# (Kinh 85 %, then Tày, Thái, Mường, Mông, Khmer, Nùng... about 1-2 % each) with the
# minorities about twice as frequent, since poverty is; a few records say nothing.
ETHNIC_GROUP_WEIGHTS = {
    EthnicGroup.KINH: 6510,
    EthnicGroup.TAY: 450,
    EthnicGroup.THAI: 440,
    EthnicGroup.MUONG: 360,
    EthnicGroup.KHMER: 340,
    EthnicGroup.MONG: 330,
    EthnicGroup.NUNG: 280,
    EthnicGroup.DAO: 220,
    EthnicGroup.GIA_RAI: 130,
    EthnicGroup.E_DE: 100,
    EthnicGroup.BA_NA: 75,
    EthnicGroup.HOA: 60,
    EthnicGroup.XO_DANG: 55,
    EthnicGroup.SAN_CHAY: 50,
    EthnicGroup.CO_HO: 50,
    EthnicGroup.SAN_DIU: 45,
    EthnicGroup.CHAM: 45,
    EthnicGroup.HRE: 40,
    EthnicGroup.RA_GLAI: 35,
    EthnicGroup.MNONG: 30,
    EthnicGroup.XTIENG: 25,
    EthnicGroup.BRU_VAN_KIEU: 25,
    EthnicGroup.THO: 20,
    EthnicGroup.CO_TU: 20,
    EthnicGroup.GIAY: 15,
    EthnicGroup.KHO_MU: 20,
    EthnicGroup.TA_OI: 12,
    EthnicGroup.GIE_TRIENG: 10,
    EthnicGroup.MA: 10,
    EthnicGroup.CO: 8,
    EthnicGroup.CHO_RO: 6,
    EthnicGroup.HA_NHI: 6,
    EthnicGroup.XINH_MUN: 5,
    EthnicGroup.CHU_RU: 5,
    EthnicGroup.LAO: 4,
    EthnicGroup.KHANG: 4,
    EthnicGroup.LA_CHI: 3,
    EthnicGroup.PHU_LA: 3,
    EthnicGroup.LA_HU: 3,
    EthnicGroup.LA_HA: 2,
    EthnicGroup.PA_THEN: 2,
    EthnicGroup.LU: 2,
    EthnicGroup.NGAI: 1,
    EthnicGroup.CHUT: 2,
    EthnicGroup.LO_LO: 2,
    EthnicGroup.MANG: 2,
    EthnicGroup.CO_LAO: 1,
    EthnicGroup.BO_Y: 1,
    EthnicGroup.CONG: 1,
    EthnicGroup.SI_LA: 1,
    EthnicGroup.PU_PEO: 1,
    EthnicGroup.RO_MAM: 1,
    EthnicGroup.BRAU: 1,
    EthnicGroup.O_DU: 1,
    "": 130,
}
# Approximate shares of the hardship categories, in percent.  A household of Kinh
# (or of no recorded group) drawn as "ethnic minority" is counted poor instead.
CATEGORY_WEIGHTS = {
    Beneficiary.Category.POOR: 34,
    Beneficiary.Category.NEAR_POOR: 26,
    Beneficiary.Category.OUT_OF_POVERTY: 9,
    Beneficiary.Category.ETHNIC_MINORITY: 14,
    Beneficiary.Category.AVERAGE_LIVING: 10,
    Beneficiary.Category.OTHER: 7,
}
# Ages (when recorded) of those who get a card, in percent by band: children and
# the old are many among people in hardship.
AGE_BANDS = {
    (2, 5): 6,
    (6, 15): 12,
    (16, 29): 12,
    (30, 44): 18,
    (45, 59): 24,
    (60, 74): 20,
    (75, 90): 8,
}
CONSENT_WEIGHTS = {
    Beneficiary.ConsentMethod.SIGNED: 70,
    Beneficiary.ConsentMethod.THUMBPRINT: 25,
    Beneficiary.ConsentMethod.ORAL: 5,
}
# Faker draws its family names evenly; these weights (per cent) keep Nguyễn first, as
# it is for two people in five, but flatter than the true shares, since Faker lists
# only ten of the hundred-odd family names (no Phan, Huỳnh, Võ, Đỗ, Hồ or Ngô).
FAMILY_NAME_WEIGHTS = {
    "Nguyễn": 30,
    "Trần": 13,
    "Lê": 11,
    "Phạm": 9,
    "Hoàng": 8,
    "Vũ": 7,
    "Đặng": 6,
    "Bùi": 6,
    "Dương": 5,
    "Mai": 5,
}
# Faker's middle names are of both sexes; these are borne by one only.  Thị and Văn
# are most people's, the more so among older and rural people.
WOMEN_ONLY_MIDDLE_NAMES = {"Thị", "Mai", "Mai Bảo"}
MEN_ONLY_MIDDLE_NAMES = {"Văn", "Đức", "Trí", "Thế", "Tấn", "Hữu", "Quang", "Phú"}
MIDDLE_NAME_WEIGHTS = {"Thị": 8, "Văn": 8}
# Where each minority group mostly lives: the codes of today's provinces (2025), after
# the statistics office's census (Lào Cai took in Yên Bái, Tuyên Quang Hà Giang, Phú Thọ
# Hòa Bình, Quảng Ngãi Kon Tum, Lâm Đồng Đắk Nông, Cần Thơ Sóc Trăng...).  A group not
# listed lives anywhere.
ETHNIC_GROUP_HOMES = {
    EthnicGroup.TAY: ["04", "08", "15", "19", "20", "22"],
    EthnicGroup.THAI: ["11", "12", "14", "15", "38", "40"],
    EthnicGroup.HOA: ["79", "75", "92", "91", "22"],
    EthnicGroup.KHMER: ["91", "92", "86", "96"],
    EthnicGroup.MUONG: ["25", "38", "14", "37"],
    EthnicGroup.NUNG: ["20", "04", "19", "08", "15", "66"],
    EthnicGroup.MONG: ["08", "15", "11", "14", "12", "04", "40", "38"],
    EthnicGroup.DAO: ["08", "15", "20", "22", "04", "12", "19"],
    EthnicGroup.GIA_RAI: ["52"],
    EthnicGroup.E_DE: ["66"],
    EthnicGroup.BA_NA: ["52", "51"],
    EthnicGroup.XO_DANG: ["51"],
    EthnicGroup.SAN_CHAY: ["08", "19"],
    EthnicGroup.CO_HO: ["68"],
    EthnicGroup.CHAM: ["56", "91"],
    EthnicGroup.SAN_DIU: ["19", "22", "25"],
    EthnicGroup.HRE: ["51"],
    EthnicGroup.MNONG: ["68", "66"],
    EthnicGroup.RA_GLAI: ["56"],
    EthnicGroup.XTIENG: ["75"],
    EthnicGroup.BRU_VAN_KIEU: ["44"],
    EthnicGroup.THO: ["40", "38"],
    EthnicGroup.GIAY: ["15", "12", "08"],
    EthnicGroup.CO_TU: ["48", "46"],
    EthnicGroup.GIE_TRIENG: ["51", "48"],
    EthnicGroup.MA: ["68"],
    EthnicGroup.KHO_MU: ["40", "11", "14"],
    EthnicGroup.CO: ["51"],
    EthnicGroup.TA_OI: ["46", "44"],
    EthnicGroup.CHO_RO: ["75"],
    EthnicGroup.KHANG: ["14", "11"],
    EthnicGroup.XINH_MUN: ["14"],
    EthnicGroup.HA_NHI: ["12", "11", "15"],
    EthnicGroup.CHU_RU: ["68"],
    EthnicGroup.LAO: ["11", "14"],
    EthnicGroup.LA_CHI: ["08"],
    EthnicGroup.PHU_LA: ["15"],
    EthnicGroup.LA_HU: ["12"],
}
# Family names common in some of the largest minority groups, each as likely: a Mông is
# Giàng, Sùng or Vàng far more often than Nguyễn.  Of the others (of the Central
# Highlands, whose names put the family name last, among them) Faker's Kinh names stand in.
MINORITY_FAMILY_NAMES = {
    EthnicGroup.TAY: ["Hoàng", "Nông", "Lục", "Ma", "Hà", "Lương", "Bế", "Triệu"],
    EthnicGroup.THAI: ["Lò", "Cầm", "Lường", "Quàng", "Tòng", "Vi", "Hà", "Lê"],
    EthnicGroup.KHMER: ["Thạch", "Sơn", "Kim", "Danh", "Lâm", "Châu", "Trà", "Lý"],
    EthnicGroup.MUONG: ["Bùi", "Đinh", "Quách", "Hà", "Xa", "Cao"],
    EthnicGroup.NUNG: ["Nông", "Hoàng", "Lương", "Chu", "Lăng", "Mông", "Vi"],
    EthnicGroup.MONG: ["Giàng", "Sùng", "Vàng", "Thào", "Lý", "Hầu", "Mùa", "Lầu", "Hạng"],
    EthnicGroup.DAO: ["Triệu", "Bàn", "Đặng", "Lý", "Phùng", "Chảo", "Tẩn"],
}
# Middle names of the Mông, by sex, each as likely.
MONG_MIDDLE_NAMES = {"male": ["A", "Seo", "Mí", "Văn"], "female": ["Thị", "Mỷ"]}
MOBILE_PREFIXES = [
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "059", "070",
    "076", "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089",
    "090", "091", "093", "094", "096", "097", "098", "099",
]  # fmt: skip


@dataclass(frozen=True)
class FakerNames:
    """The vi_VN person provider's lists, each name once, sorted by the sex that bears it."""

    family: tuple[str, ...]
    female_middle: tuple[str, ...]
    male_middle: tuple[str, ...]
    female_given: tuple[str, ...]
    male_given: tuple[str, ...]


@functools.cache
def faker_names() -> FakerNames:
    """Return Faker's vi_VN names: family, middle and given names (unisex ones for both)."""
    from faker.providers.person.vi_VN import Provider

    def unique(*names) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalize(name) for group in names for name in group))

    middle = unique(Provider.middle_names)
    return FakerNames(
        family=unique(Provider.last_names),
        female_middle=tuple(name for name in middle if name not in MEN_ONLY_MIDDLE_NAMES),
        male_middle=tuple(name for name in middle if name not in WOMEN_ONLY_MIDDLE_NAMES),
        female_given=unique(Provider.first_names_female, Provider.first_names_unisex),
        male_given=unique(Provider.first_names_male, Provider.first_names_unisex),
    )


def hash_keys(seed: int) -> dict[str, int]:
    """Return the seeds of the hashes of a load: one per purpose, all changed by ``seed``."""
    names = ("person", "name", "household", "cohort", "ethnic", "category", "family", "age")
    return {f"key_{name}": seed * 64 + number for number, name in enumerate(names, 1)}


def cohort_sql(row: str) -> str:
    """Return the SQL of row ``row``'s cohort (from 1): the items' loader reads it too."""
    return f"(1 + (hashint8extended({row}, %(key_cohort)s) & %(positive)s) %% %(cohorts)s)"


def _pick(name: str, hashed: str) -> str:
    """Return the SQL of a weighted draw of parameter ``name`` (see bulk.weighted)."""
    return (
        f"(%({name}_values)s::text[])"
        f"[width_bucket(({hashed}) %% %({name}_total)s, %({name}_bounds)s::bigint[])]"
    )


def _hash(value: str, key: str) -> str:
    return f"(hashint8extended({value}, %(key_{key})s) & %(positive)s)"


def _minority(name: str, hashed: str) -> str:
    """Return the SQL of a draw from the family names of the household's group (``m.g``),
    NULL for a group without a list of its own."""
    return (
        f"(%({name})s::text[])[(%(minority_starts)s::int[])[m.g]"
        f" + ({hashed}) %% (%(minority_counts)s::int[])[m.g]]"
    )


def _among(name: str, female: str, hashed: str) -> str:
    """Return the SQL of a draw from parameter ``name``'s list of the person's sex."""
    female_name, male_name = (
        f"(%({name}_{sex})s::text[])[1 + ({hashed}) %% %({name}_{sex}_count)s]"
        for sex in ("female", "male")
    )
    return f"CASE WHEN {female} THEN {female_name} ELSE {male_name} END"


RECIPIENTS_SQL = f"""
INSERT INTO beneficiaries_beneficiary (
    id, full_name, search_name, birth_date, birth_year, sex, ethnic_group, personal_id,
    social_insurance_number, phone, commune_id, province_id, address_line, category,
    household_key, consent_on, consent_method, consent_recorded_by_id, notes,
    created_at, updated_at, anonymised_at
)
SELECT
    r.id,
    n.family || ' ' || n.middle || ' ' || n.given,
    n.family_folded || ' ' || n.middle_folded || ' ' || n.given_folded,
    CASE WHEN r.h / 100003 %% 5 = 0 THEN NULL
         ELSE make_date(d.birth_year, (1 + r.h / 7 %% 12)::int, (1 + r.h / 97 %% 28)::int) END,
    d.birth_year,
    CASE WHEN r.female THEN 'F' ELSE 'M' END,
    a.ethnic_group,
    CASE WHEN r.h / 1009 %% %(missing_id_every)s = 0 THEN NULL
         WHEN %(check_ids)s AND EXISTS (
             SELECT 1 FROM beneficiaries_beneficiary AS other
              WHERE other.personal_id = d.personal_id
         ) THEN NULL
         ELSE d.personal_id END,
    NULL,
    CASE WHEN r.h / 211 %% 100 < %(phone_percent)s
         THEN (%(phone_prefixes)s::text[])[1 + r.h / 223 %% %(phone_prefix_count)s]
              || lpad((r.h / 227 %% 10000000)::text, 7, '0')
         ELSE '' END,
    (%(commune_ids)s::bigint[])[place.commune],
    (%(commune_provinces)s::bigint[])[place.commune],
    (%(commune_places)s::text[])[place.commune] || ' ' || (1 + r.c / 7 %% 15)::text,
    CASE WHEN a.category = 'ethnic_minority' AND a.ethnic_group IN ('01', '') THEN 'poor'
         ELSE a.category END,
    'HK' || lpad((r.id - r.member)::text, 10, '0'),
    (d.created_at AT TIME ZONE %(time_zone)s)::date - (r.h / 229 %% %(consent_days)s)::int,
    {_pick("consent", "r.h / 233")},
    NULL,
    %(notes)s,
    d.created_at,
    d.created_at,
    NULL
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
CROSS JOIN LATERAL (
    SELECT
        %(first_id)s + i - 1 AS id,
        i %% 2 = 1 AS female,
        (i - 1) %% 3 AS member,
        i %% %(row_cycle)s = ANY(%(working_age_slots)s::int[]) AS working_age,
        {_hash("i", "person")} AS h,
        {_hash("i", "name")} AS k,
        {_hash("(i - 1) / 3", "household")} AS c
) AS r
CROSS JOIN LATERAL (
    SELECT
        {cohort_sql("i")} AS cohort,
        {_pick("ethnic", _hash("(i - 1) / 3", "ethnic"))} AS ethnic_group,
        {_pick("category", _hash("(i - 1) / 3", "category"))} AS category,
        CASE WHEN r.working_age
             THEN (%(working_min)s + r.h / 241 %% %(working_span)s)::int
             ELSE ({_pick("age", _hash("i", "age"))})::int END AS age,
        -- The first two of a household share the family name.
        CASE WHEN r.member < 2 THEN {_hash("(i - 1) / 3", "family")}
             ELSE {_hash("i", "family")} END AS f
) AS a
CROSS JOIN LATERAL (
    -- The household's commune: among those where its group lives, or any.
    SELECT COALESCE(
        (%(home_communes)s::int[])[
            (%(home_starts)s::int[])[home.g] + r.c %% (%(home_counts)s::int[])[home.g]
        ],
        1 + r.c %% %(commune_count)s
    ) AS commune
    FROM (SELECT array_position(%(home_groups)s::text[], a.ethnic_group) AS g) AS home
) AS place
CROSS JOIN LATERAL (
    -- The household's group among those with family names of their own (else NULL).
    SELECT array_position(%(minority_groups)s::text[], a.ethnic_group) AS g,
           a.ethnic_group = %(mong)s AS mong
) AS m
CROSS JOIN LATERAL (
    SELECT extract(year FROM (%(recorded_by)s::date[])[a.cohort])::int - a.age AS year
) AS birth
CROSS JOIN LATERAL (
    SELECT
        birth.year AS birth_year,
        CASE WHEN r.h / 251 %% 100 < %(born_elsewhere_percent)s
             THEN (%(id_provinces)s::text[])[1 + r.h / 257 %% %(id_province_count)s]
             ELSE (%(commune_id_provinces)s::text[])[place.commune] END
            || ((birth.year / 100 - 19) * 2 + r.female::int)::text
            || lpad((birth.year %% 100)::text, 2, '0')
            || lpad(((i - 1) / 2 %% 1000000)::text, 6, '0') AS personal_id,
        ((%(recorded_by)s::date[])[a.cohort] - (1 + r.h / 263 %% %(recorded_days)s)::int
            + time '07:30' + make_interval(mins => (r.h / 269 %% 600)::int))
            AT TIME ZONE %(time_zone)s AS created_at
) AS d
CROSS JOIN LATERAL (
    SELECT
        COALESCE({_minority("minority_family", "a.f")}, {_pick("family", "a.f")}) AS family,
        COALESCE({_minority("minority_family_folded", "a.f")}, {_pick("family_folded", "a.f")})
            AS family_folded,
        CASE WHEN m.mong THEN {_among("mong_middle", "r.female", "r.k / 7")}
             WHEN r.female THEN {_pick("female_middle", "r.k")}
             ELSE {_pick("male_middle", "r.k")} END AS middle,
        CASE WHEN m.mong THEN {_among("mong_middle_folded", "r.female", "r.k / 7")}
             WHEN r.female THEN {_pick("female_middle_folded", "r.k")}
             ELSE {_pick("male_middle_folded", "r.k")} END AS middle_folded,
        CASE WHEN r.female
             THEN (%(female_given)s::text[])[1 + r.k / 101 %% %(female_given_count)s]
             ELSE (%(male_given)s::text[])[1 + r.k / 101 %% %(male_given_count)s] END AS given,
        CASE WHEN r.female
             THEN (%(female_given_folded)s::text[])[1 + r.k / 101 %% %(female_given_count)s]
             ELSE (%(male_given_folded)s::text[])[1 + r.k / 101 %% %(male_given_count)s] END
            AS given_folded
) AS n
"""

# A person recorded twice: the next row becomes a copy of about one row in ``every``
# (same name, sex, birth and commune: a possible duplicate), when both are of one cohort.
DUPLICATES_SQL = f"""
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
   AND original.id BETWEEN %(first_id)s AND %(first_id)s + %(count)s - 2
   -- The first of a household, whose copy is the second: the same household, so the
   -- same ethnic group, family name and category, as one person listed twice would be.
   AND (original.id - %(first_id)s) %% 3 = 0
   AND (original.id - %(first_id)s) / 3 %% GREATEST(%(every)s / 3, 1) = 0
   -- Not onto a row of working age (it gets a book), with a child's or an old person's birth.
   AND NOT (copy.id - %(first_id)s + 1) %% %(row_cycle)s = ANY(%(working_age_slots)s::int[])
   AND {cohort_sql("original.id - %(first_id)s + 1")} = {cohort_sql("copy.id - %(first_id)s + 1")}
"""


def _weighted_parameters(name: str, weights: dict, *, folded: bool = False) -> dict:
    values, bounds, total = bulk.weighted(weights)
    parameters = {f"{name}_values": values, f"{name}_bounds": bounds, f"{name}_total": total}
    if folded:
        parameters |= {
            f"{name}_folded_values": [fold(value) for value in values],
            f"{name}_folded_bounds": bounds,
            f"{name}_folded_total": total,
        }
    return parameters


def _name_parameters() -> dict:
    names = faker_names()

    def middle_weights(middle: tuple[str, ...]) -> dict[str, int]:
        return {name: MIDDLE_NAME_WEIGHTS.get(name, 1) for name in middle}

    parameters = {
        **_weighted_parameters(
            "family",
            {name: FAMILY_NAME_WEIGHTS.get(name, 5) for name in names.family},
            folded=True,
        ),
        **_weighted_parameters("female_middle", middle_weights(names.female_middle), folded=True),
        **_weighted_parameters("male_middle", middle_weights(names.male_middle), folded=True),
    }
    for sex in ("female", "male"):
        given = getattr(names, f"{sex}_given")
        parameters |= {
            f"{sex}_given": list(given),
            f"{sex}_given_folded": [fold(name) for name in given],
            f"{sex}_given_count": len(given),
        }
        middle = MONG_MIDDLE_NAMES[sex]
        parameters |= {
            f"mong_middle_{sex}": middle,
            f"mong_middle_folded_{sex}": [fold(name) for name in middle],
            f"mong_middle_{sex}_count": len(middle),
            f"mong_middle_folded_{sex}_count": len(middle),
        }
    # The groups' lists end to end, and where each starts (from 1) and how long it is.
    family, starts, counts = [], [], []
    for names_of_group in MINORITY_FAMILY_NAMES.values():
        starts.append(len(family) + 1)
        counts.append(len(names_of_group))
        family += names_of_group
    return parameters | {
        "minority_groups": [group.value for group in MINORITY_FAMILY_NAMES],
        "minority_family": family,
        "minority_family_folded": [fold(name) for name in family],
        "minority_starts": starts,
        "minority_counts": counts,
        "mong": EthnicGroup.MONG.value,
    }


def _commune_parameters() -> dict:
    """Return today's communes with their province, village word and ID province code.

    A commune of today carries the code of the commune of 2024 it continues, whose
    province gives the first three digits of its people's IDs; the few new codes
    take those of their province's first predecessor.
    """
    communes = list(
        AdminUnit.objects.filter(current_communes())
        .order_by("pk")
        .values_list("pk", "province_id", "code", "unit_type", "province__code")
    )
    if not communes:
        raise UnitNotFound("No commune of the edition in force is loaded.")
    today = edition_in_force_on(timezone.localdate())
    # (code, province of today) -> province code then; a later edition's wins.
    before = {
        (code, successor): province_code
        for code, successor, province_code in AdminUnit.objects.filter(level=UnitLevel.COMMUNE)
        .exclude(edition=today)
        .order_by("edition__in_force")
        .values_list("code", "province__successor_id", "province__code")
    }
    predecessors = dict(
        AdminUnit.objects.filter(level=UnitLevel.PROVINCE, successor__isnull=False)
        .order_by("-code")
        .values_list("successor_id", "code")
    )

    def id_province(province: int, code: str) -> str:
        old = before.get((code, province)) or predecessors.get(province)
        return f"0{old}" if old else min(PROVINCE_CODES)

    # Each group's communes (their positions, from 1) end to end, where each group's start
    # and how many; a group whose provinces have none lives anywhere.
    homes, starts, counts, groups = [], [], [], []
    for group, province_codes in ETHNIC_GROUP_HOMES.items():
        positions = [
            position
            for position, (*_, province_code) in enumerate(communes, 1)
            if province_code in province_codes
        ]
        if positions:
            groups.append(group.value)
            starts.append(len(homes) + 1)
            counts.append(len(positions))
            homes += positions
    return {
        "commune_ids": [pk for pk, *_ in communes],
        "commune_provinces": [province for _, province, *_ in communes],
        "commune_places": [
            "Tổ" if unit_type == UnitType.WARD else "Thôn" for _, _, _, unit_type, _ in communes
        ],
        "commune_id_provinces": [id_province(province, code) for _, province, code, *_ in communes],
        "commune_count": len(communes),
        "home_groups": groups,
        "home_communes": homes,
        "home_starts": starts,
        "home_counts": counts,
    }


def _age_weights() -> dict[int, int]:
    """Return the weight of each age, from AGE_BANDS (a band's weight spread over its years)."""
    weights: dict[int, int] = {}
    for (first, last), percent in AGE_BANDS.items():
        for age in range(first, last + 1):
            weights[age] = round(percent * 1000 / (last - first + 1))
    return weights


@dataclass(frozen=True)
class RecipientsLoaded:
    first_id: int
    count: int

    @property
    def last_id(self) -> int:
        return self.first_id + self.count - 1


def _reserve_ids(count: int) -> int:
    """Take ``count`` consecutive ids from the recipients' sequence; return the first.

    The table is locked meanwhile, so that no insert draws an id in between:
    the rows' ids are then ``first + i - 1``, and the items' loader finds row
    i's person without a search.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE beneficiaries_beneficiary IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence('beneficiaries_beneficiary', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT greatest(nextval(%s), (SELECT coalesce(max(id), 0) + 1"
            " FROM beneficiaries_beneficiary))",
            [sequence],
        )
        (first,) = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def recipients_load(
    count: int,
    *,
    recorded_by: list[datetime.date],
    seed: int = 0,
    missing_id_every: int = MISSING_ID_EVERY,
    duplicate_every: int | None = DUPLICATE_EVERY,
    progress: bulk.Progress | None = None,
) -> RecipientsLoaded:
    """Write ``count`` made-up recipients beside those already there; return their ids.

    Cohort k of ``recorded_by`` (one per plan, for the generator) is recorded
    in the half-year before its day.  One person in ``missing_id_every`` has
    no personal ID, one in ``duplicate_every`` is recorded twice.  Neither
    vacuums nor analyses: the caller does, once it has written everything.
    """
    from django.conf import settings

    if not 1 <= count <= MAX_RECIPIENTS:
        raise ValueError(f"Between 1 and {MAX_RECIPIENTS:,} recipients at once, not {count:,}.")
    parameters = {
        **_name_parameters(),
        **_commune_parameters(),
        **_weighted_parameters("ethnic", ETHNIC_GROUP_WEIGHTS),
        **_weighted_parameters("category", CATEGORY_WEIGHTS),
        **_weighted_parameters("consent", CONSENT_WEIGHTS),
        **_weighted_parameters("age", _age_weights()),
        **hash_keys(seed),
        "positive": bulk.POSITIVE,
        "row_cycle": ROW_CYCLE,
        "working_age_slots": list(WORKING_AGE_SLOTS),
        "working_min": WORKING_AGES[0],
        "working_span": WORKING_AGES[1] - WORKING_AGES[0] + 1,
        "id_provinces": sorted(PROVINCE_CODES),
        "id_province_count": len(PROVINCE_CODES),
        "born_elsewhere_percent": BORN_ELSEWHERE_PERCENT,
        "missing_id_every": missing_id_every,
        # Generated IDs never repeat one another, but may repeat someone's already here.
        "check_ids": Beneficiary.objects.filter(personal_id__isnull=False).exists(),
        "phone_percent": PHONE_PERCENT,
        "phone_prefixes": MOBILE_PREFIXES,
        "phone_prefix_count": len(MOBILE_PREFIXES),
        "recorded_by": recorded_by,
        "cohorts": len(recorded_by),
        "recorded_days": RECORDED_DAYS_BEFORE,
        "consent_days": CONSENT_DAYS_BEFORE,
        "notes": GENERATED_NOTE,
        "time_zone": settings.TIME_ZONE,
    }
    first_id = _reserve_ids(count)
    parameters["first_id"] = first_id
    written = bulk.execute_in_slices(RECIPIENTS_SQL, parameters, count, progress=progress)
    if written != count:
        raise RuntimeError(f"{written:,} recipients written of {count:,}.")
    if duplicate_every:
        bulk.execute(
            [DUPLICATES_SQL],
            {**parameters, "count": count, "every": duplicate_every},
        )
    return RecipientsLoaded(first_id, count)


# Each counts the recipients of a load that break a rule; all must be 0.  What the
# database's constraints already refuse is not repeated.
RECIPIENT_CHECKS = {
    "recipients not in a commune of today's units, or of another province": """
        u.id IS NULL OR u.level <> 3 OR NOT e.in_force @> %(today)s::date
        OR b.province_id IS DISTINCT FROM u.province_id
    """,
    "recipients whose personal ID disagrees with its province list, their sex or year": """
        b.personal_id IS NOT NULL AND (
            left(b.personal_id, 3) <> ALL(%(id_provinces)s::text[])
            OR substr(b.personal_id, 4, 1)::int %% 2 <> (b.sex = 'F')::int
            OR 1900 + substr(b.personal_id, 4, 1)::int / 2 * 100
               + substr(b.personal_id, 5, 2)::int <> b.birth_year)
    """,
    "recipients with a sex, ethnic group, category or consent outside the lists": """
        b.sex <> ALL(%(sexes)s::text[]) OR b.ethnic_group <> ALL(%(ethnic_groups)s::text[])
        OR b.category <> ALL(%(categories)s::text[])
        OR b.consent_method <> ALL(%(consent_methods)s::text[])
    """,
    "recipients born, or consenting, after they were recorded": """
        b.birth_year > extract(year FROM b.created_at AT TIME ZONE %(time_zone)s)
        OR b.birth_date > (b.created_at AT TIME ZONE %(time_zone)s)::date
        OR b.consent_on > (b.created_at AT TIME ZONE %(time_zone)s)::date
        OR b.updated_at < b.created_at
    """,
    "recipients with a phone number of another shape": r"""
        b.phone <> '' AND b.phone !~ '^0[0-9]{9,10}$'
    """,
}


def recipients_check(first_id: int, last_id: int, *, today: datetime.date) -> list[str]:
    """Return the rules (RECIPIENT_CHECKS) that recipients ``first_id`` to ``last_id`` break.

    One pass over the rows, whatever the number of rules.
    """
    from django.conf import settings

    counts = ",\n".join(f"count(*) FILTER (WHERE {rule})" for rule in RECIPIENT_CHECKS.values())
    sql = f"""
        SELECT {counts}
          FROM beneficiaries_beneficiary AS b
          LEFT JOIN reference_adminunit AS u ON u.id = b.commune_id
          LEFT JOIN reference_edition AS e ON e.id = u.edition_id
         WHERE b.id BETWEEN %(first_id)s AND %(last_id)s
    """
    parameters = {
        "first_id": first_id,
        "last_id": last_id,
        "today": today,
        "time_zone": settings.TIME_ZONE,
        "id_provinces": sorted(PROVINCE_CODES),
        "sexes": Beneficiary.Sex.values,
        "ethnic_groups": ["", *EthnicGroup.values],
        "categories": Beneficiary.Category.values,
        "consent_methods": ["", *Beneficiary.ConsentMethod.values],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        counts = cursor.fetchone()
    return [f"{rows:,} {rule}" for rule, rows in zip(RECIPIENT_CHECKS, counts, strict=True) if rows]


def generated_recipients_count() -> int:
    return Beneficiary.objects.filter(notes=GENERATED_NOTE).count()


def generated_recipients_delete() -> int:
    """Delete the generated recipients that no other record points at; return how many.

    Triggers off, as they were written (no audit event for either); the
    foreign keys are off too, so every table that points at a recipient is
    asked first: someone's import row or a card issued by hand keeps its person.
    """
    guards = [
        f"AND NOT EXISTS (SELECT 1 FROM {relation.related_model._meta.db_table} AS other"
        f" WHERE other.{relation.field.column} = b.id)"
        for relation in Beneficiary._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and getattr(relation.field, "db_constraint", False)
    ]
    sql = f"""
        DELETE FROM beneficiaries_beneficiary AS b
         WHERE b.notes = %(notes)s {" ".join(guards)}
    """
    (deleted,) = bulk.execute([sql], {"notes": GENERATED_NOTE})
    return deleted
