import pytest
from django.core.exceptions import ValidationError

from accounts.scope import Scope
from beneficiaries.imports.communes import CommuneError, CommuneResolver
from reference.models import Edition
from tests.factories import unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition_2025():
    return Edition.objects.get(code="2025")


@pytest.fixture
def edition_2024():
    return Edition.objects.get(code="2024")


@pytest.fixture
def resolver(edition_2025):
    return CommuneResolver(edition_2025)


def error_of(resolver, **cells) -> CommuneError:
    with pytest.raises(CommuneError) as error:
        resolver.resolve(**({"code": None, "name": "", "province": ""} | cells))
    return error.value


def test_it_loads_an_edition_in_two_queries_and_scope_checks_cost_none(
    edition_2025, django_assert_num_queries
):
    with django_assert_num_queries(2):
        resolver = CommuneResolver(edition_2025)
    lao_cai, ha_noi = unit("2025", "15"), unit("2025", "01")
    with django_assert_num_queries(0):
        commune = resolver.resolve(code="02680", name="", province="")
        assert Scope(provinces=frozenset({lao_cai.pk})).allows_unit(commune)
        assert not Scope(provinces=frozenset({ha_noi.pk})).allows_unit(commune)


def test_a_code_finds_its_commune_of_the_edition(resolver):
    commune = resolver.resolve(code="02680", name="", province="")
    assert commune == unit("2025", "02680")
    assert commune.name == "Xã Hợp Thành"


@pytest.mark.parametrize(
    ("name", "province"),
    [
        ("Hợp Thành", ""),
        ("Xã Hợp Thành", "Tỉnh Lào Cai"),
        ("HOP THANH", "lao cai"),
        (" hợp  thành ", "15"),
    ],
)
def test_a_code_with_a_name_and_province_that_agree_is_accepted(resolver, name, province):
    assert resolver.resolve(code="02680", name=name, province=province).code == "02680"


def test_an_unknown_code_is_an_error_on_the_code(resolver):
    error = error_of(resolver, code="99999", name="Hợp Thành")
    assert isinstance(error, ValidationError)
    assert error.column == "commune_code"
    assert error.messages == ["no commune has the code 99999 in the 2025 list"]


def test_a_code_and_a_name_of_two_communes_is_an_error_on_the_name(resolver):
    error = error_of(resolver, code="02680", name="Bát Xát")
    assert error.column == "commune"
    assert error.messages == ["the commune with code 02680 is Xã Hợp Thành, not “Bát Xát”"]


def test_a_code_in_another_province_than_the_province_cell_is_an_error_on_the_province(
    resolver,
):
    error = error_of(resolver, code="02680", province="Hà Nội")
    assert error.column == "province"
    assert error.messages == ["Xã Hợp Thành, code 02680, is in Tỉnh Lào Cai, not “Hà Nội”"]


@pytest.mark.parametrize(
    "province", ["Tỉnh Lào Cai", "Lào Cai", "LÀO CAI", "lao cai", "tinh lao cai", "15"]
)
def test_a_name_is_found_within_the_province_cell(resolver, province):
    assert resolver.resolve(code=None, name="Hợp Thành", province=province).code == "02680"


@pytest.mark.parametrize("province", ["Thành phố Hà Nội", "TP Hà Nội", "ha noi", "01", "1"])
def test_a_city_is_read_with_or_without_its_type_word_and_from_its_code(resolver, province):
    commune = resolver.resolve(code=None, name="Phường Ba Đình", province=province)
    assert commune.code == "00004"


@pytest.mark.parametrize("name", ["Hợp Thành", "Xã Hợp Thành", "xa hop thanh", "HỢP THÀNH"])
def test_a_name_is_found_within_the_resolvers_province_when_the_cell_is_blank(edition_2025, name):
    resolver = CommuneResolver(edition_2025, province=unit("2025", "15"))
    assert resolver.resolve(code=None, name=name, province="").code == "02680"


def test_the_province_cell_wins_over_the_resolvers_province(edition_2025):
    resolver = CommuneResolver(edition_2025, province=unit("2025", "15"))
    assert resolver.resolve(code=None, name="Ba Đình", province="Hà Nội").code == "00004"


def test_a_name_whose_first_word_is_a_type_word_is_matched_whole(resolver):
    # "Xa Dung" is the commune's name, not a "xã" called "Dung".
    commune = resolver.resolve(code=None, name="Xa Dung", province="Điện Biên")
    assert commune.name == "Xã Xa Dung"


def test_a_name_without_any_province_is_an_error_on_the_province(resolver):
    error = error_of(resolver, name="Hợp Thành")
    assert error.column == "province"
    assert error.messages == ["give the province of “Hợp Thành”, or the commune code"]


def test_neither_code_nor_name_is_an_error_on_the_commune(resolver):
    error = error_of(resolver, province="Lào Cai")
    assert error.column == "commune"
    assert error.messages == ["give the commune code or the commune's name"]


def test_an_unknown_name_is_an_error_on_the_commune(resolver):
    error = error_of(resolver, name="Ba Đình", province="Lào Cai")
    assert error.column == "commune"
    assert error.messages == ["no commune is called “Ba Đình” in Tỉnh Lào Cai"]


@pytest.mark.parametrize("province", ["Yên Bái", "Tỉnh Atlantis", "10", "99"])
def test_a_province_not_in_the_edition_is_an_error_on_the_province(resolver, province):
    error = error_of(resolver, name="Hợp Thành", province=province)
    assert error.column == "province"
    assert error.messages == [f"“{province}” is not a province in the 2025 list"]


def test_a_name_two_communes_of_the_province_share_asks_for_the_code(resolver):
    error = error_of(resolver, name="Van Lang", province="Thái Nguyên")
    assert error.column == "commune"
    assert error.messages == [
        "“Van Lang” may be Xã Văn Lang (02143); Xã Văn Lăng (05665) in Tỉnh Thái Nguyên: "
        "give the commune code"
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # The diacritics typed tell apart names that fold alike.
        ("Văn Lang", "02143"),
        ("Văn Lăng", "05665"),
        ("xã văn lăng", "05665"),
    ],
)
def test_diacritics_tell_apart_names_that_fold_alike(resolver, name, code):
    assert resolver.resolve(code=None, name=name, province="Thái Nguyên").code == code


def test_the_type_word_tells_apart_a_ward_and_a_commune_that_fold_alike(resolver):
    assert resolver.resolve(code=None, name="phuong my tho", province="82").code == "28261"
    assert resolver.resolve(code=None, name="Mỹ Thọ", province="82").code == "30076"
    assert error_of(resolver, name="my tho", province="82").column == "commune"


def test_the_2024_edition_gives_communes_of_2024(edition_2024):
    resolver = CommuneResolver(edition_2024)
    commune = resolver.resolve(code="02680", name="Hợp Thành", province="Lào Cai")
    assert commune == unit("2024", "02680")
    assert commune.province.code == "10"
    # Old Lào Cai (10) became part of new Lào Cai (15): scopes of today still see it.
    assert commune.current_province_id == unit("2025", "15").pk
    assert resolver.province_of("Yên Bái").code == "15"


def test_two_communes_of_the_same_name_in_2024_need_their_code(edition_2024):
    resolver = CommuneResolver(edition_2024)
    error = error_of(resolver, name="Thanh Bình", province="Lào Cai")
    assert error.messages == [
        "“Thanh Bình” may be Xã Thanh Bình (02779); Xã Thanh Bình (03022) in Tỉnh Lào Cai: "
        "give the commune code"
    ]
    assert resolver.resolve(code="03022", name="Thanh Bình", province="Lào Cai").code == "03022"


def test_each_distinct_question_is_answered_once(resolver):
    first = resolver.resolve(code=None, name="Hợp Thành", province="Lào Cai")
    resolver._communes_by_name.clear()  # a second look-up would now fail
    assert resolver.resolve(code=None, name="Hợp Thành", province="Lào Cai") is first
    errors = [error_of(resolver, code="99999") for _ in range(2)]
    assert errors[0] is not errors[1]
    assert errors[0].messages == errors[1].messages


def test_province_of_reads_the_province_cell(resolver):
    assert resolver.province_of("Tỉnh Lào Cai").code == "15"
    assert resolver.province_of(" 1 ").name == "Thành phố Hà Nội"
    with pytest.raises(CommuneError) as error:
        resolver.province_of("")
    assert error.value.column == "province"
    assert error.value.messages == ["give the province"]
