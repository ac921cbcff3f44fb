"""The search of recipients by name or number: one rule (beneficiary_search), on indexes."""

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse

from accounts.roles import Role
from beneficiaries.models import Beneficiary
from beneficiaries.selectors import WordsInOrder, beneficiary_search
from reference.text import fold
from tests.factories import make_beneficiary, make_user, unit

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:beneficiaries_beneficiary_changelist")


@pytest.fixture
def people():
    return {
        "truc": make_beneficiary(
            full_name="Lương Thị Trúc", personal_id="010175000123", birth_year=1975
        ),
        "truong": make_beneficiary(full_name="Trương Văn Thi", phone="0912345678"),
        "mai": make_beneficiary(full_name="Vàng Thị Mai"),
        "an": make_beneficiary(full_name="Nguyễn Văn An"),
        "anh": make_beneficiary(full_name="Nguyễn Văn Anh"),
    }


def found(term: str, *, personal_data: bool = True) -> set[str]:
    queryset = beneficiary_search(Beneficiary.objects.all(), term, personal_data=personal_data)
    return set(queryset.values_list("full_name", flat=True))


@pytest.mark.parametrize(
    "term",
    [
        "luong thi truc",
        "Lương Thị Trúc",
        "LƯƠNG THỊ TRÚC",
        "thi truc",
        "truc",
        "Trúc",
        "luong thi tr",
    ],
)
def test_a_name_is_found_by_its_words_whatever_the_case_and_diacritics(people, term):
    assert found(term) == {"Lương Thị Trúc"}


def test_the_last_word_is_matched_by_its_beginning_the_others_whole(people):
    assert found("nguyen van an") == {"Nguyễn Văn An", "Nguyễn Văn Anh"}
    assert found("nguyen van anh") == {"Nguyễn Văn Anh"}
    assert found("thi") == {"Lương Thị Trúc", "Vàng Thị Mai", "Trương Văn Thi"}
    assert found("nguy van") == set()  # a word before the last is whole


def test_words_must_come_in_their_order_next_to_each_other(people):
    assert found("truc thi") == set()
    assert found("luong truc") == set()


def test_part_of_a_word_inside_it_finds_nothing(people):
    # The search matches words from their start, as an index of words can.
    assert found("uong") == set()


def test_punctuation_and_spaces_alone_search_for_nothing(people):
    assert found("  -- ") == set(Beneficiary.objects.values_list("full_name", flat=True))


def test_a_term_that_looks_like_tsquery_syntax_is_only_words(people):
    assert found("truc' | 'mai") == set()
    assert found("truc & !mai") == set()
    assert found("(truc)") == {"Lương Thị Trúc"}


def test_a_very_long_word_finds_nothing_without_an_error(people):
    assert found("a" * 3000) == set()


def test_the_order_of_words_is_checked_in_sql_on_the_folded_name(people):
    in_order = Beneficiary.objects.filter(WordsInOrder(F("search_name"), "thi truc"))
    assert set(in_order.values_list("full_name", flat=True)) == {"Lương Thị Trúc"}
    at_start = Beneficiary.objects.filter(WordsInOrder(F("search_name"), "luong thi"))
    assert set(at_start.values_list("full_name", flat=True)) == {"Lương Thị Trúc"}
    # A word's end is not a word: "uong thi" is inside "luong thi".
    assert not Beneficiary.objects.filter(WordsInOrder(F("search_name"), "uong thi")).exists()


def test_numbers_match_exactly_and_ids_only_for_who_may_see_them(people):
    assert found("010175000123") == {"Lương Thị Trúc"}
    assert found("010175000123", personal_data=False) == set()
    assert found("0912345678", personal_data=False) == {"Trương Văn Thi"}
    assert found("0101750001") == set()  # part of an ID


def _plan(queryset, **settings) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("term", ["truc", "thi truc", "luong thi truc"])
def test_the_name_search_reads_the_terms_index(people, term):
    # A few rows would be read whole; without sequential scans, the plan shows the index
    # the condition can use: its expression is the index's, or it would find none.
    queryset = beneficiary_search(Beneficiary.objects.order_by(), term, personal_data=True)
    assert "beneficiary_name_terms_idx" in _plan(queryset, enable_seqscan="off")


# The index's expression as migration 0011 built it, as PostgreSQL gives it back.
NAME_TERMS_INDEX = (
    "USING gin (array_to_tsvector(array_remove((string_to_array((search_name)::text, ' '::text) "
    "|| string_to_array((' '::text || regexp_replace((search_name)::text, ' ([^ ]+)'::text, "
    "' \\1, \\1'::text, 'g'::text)), ','::text)), ''::text)))"
)


def test_the_terms_index_is_the_expression_the_searches_use(db):
    # A change of models.NameTerms needs a migration that builds the index again: a
    # database migrated before would keep the old index, which the searches could not use.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('beneficiary_name_terms_idx'::regclass)")
        (definition,) = cursor.fetchone()
    assert definition.endswith(NAME_TERMS_INDEX)


def test_a_name_with_an_empty_word_is_stored_and_found(people):
    # Names are folded to single spaces; one written otherwise must not be refused.
    person = people["mai"]
    Beneficiary.objects.filter(pk=person.pk).update(search_name="vang  thi mai ")
    assert found("thi mai") == {"Vàng Thị Mai"}


def test_two_words_are_found_by_their_pair_alone(people):
    # The pair's term says the words follow each other: nothing is read from the table
    # to check their order, and the planner's estimate is of the pair's rows.
    queryset = beneficiary_search(Beneficiary.objects.all(), "luong thi", personal_data=True)
    assert not any(isinstance(child, WordsInOrder) for child in queryset.query.where.children)
    assert found("luong thi") == {"Lương Thị Trúc"}
    assert found("van th") == {"Trương Văn Thi"}
    # One word, and "vang" begins with it.
    assert found("van") == {"Trương Văn Thi", "Nguyễn Văn An", "Nguyễn Văn Anh", "Vàng Thị Mai"}


def test_three_words_must_follow_each_other_not_only_pair_by_pair(people):
    # "Lò Văn Ba Văn Minh" holds the pairs "lo van" and "van minh", not "lo van minh".
    make_beneficiary(full_name="Lò Văn Ba Văn Minh")
    assert found("lo van minh") == set()
    make_beneficiary(full_name="Lò Văn Minh")
    assert found("lo van minh") == {"Lò Văn Minh"}


def test_the_number_search_reads_indexes(people):
    queryset = beneficiary_search(Beneficiary.objects.order_by(), "0912345678", personal_data=True)
    plan = _plan(queryset, enable_seqscan="off")
    assert "beneficiary_phone_idx" in plan and "beneficiary_personal_id_unique" in plan


def test_a_provinces_people_are_listed_by_name_from_one_index(people):
    province = unit("2025", "15")
    queryset = Beneficiary.objects.filter(province=province)[:50]
    plan = _plan(queryset, enable_seqscan="off", enable_bitmapscan="off", enable_sort="off")
    assert "beneficiary_province_name_idx" in plan and "Sort" not in plan


def test_the_admin_list_searches_by_the_same_rule(client, people):
    client.force_login(make_user("staff", unit("2025", "15"), role=Role.PROVINCIAL_STAFF))
    response = client.get(CHANGELIST, {"q": "thi truc"})
    assert [p.full_name for p in response.context["cl"].result_list] == ["Lương Thị Trúc"]
    response = client.get(CHANGELIST, {"q": "uong"})
    assert list(response.context["cl"].result_list) == []


def test_a_searchs_results_are_listed_newest_first_and_not_resorted(admin_client, people):
    newer = make_beneficiary(full_name="Nguyễn Văn An")
    cl = admin_client.get(CHANGELIST, {"q": "nguyen van an", "o": "1"}).context["cl"]
    assert [p.pk for p in cl.result_list] == [newer.pk, people["anh"].pk, people["an"].pk]
    assert cl.sortable_by == []
    content = admin_client.get(CHANGELIST, {"q": "nguyen van an"}).content.decode()
    assert "sortable" not in content and "?o=" not in content


def test_the_list_is_sorted_by_the_folded_name_and_only_by_it(admin_client, people):
    ascending = admin_client.get(CHANGELIST, {"o": "1"}).context["cl"]
    names = [p.full_name for p in ascending.result_list]
    assert names == sorted(names, key=fold)
    assert names[0] == "Lương Thị Trúc" and names[-1] == "Vàng Thị Mai"
    descending = admin_client.get(CHANGELIST, {"o": "-1"}).context["cl"]
    assert [p.full_name for p in descending.result_list] == names[::-1]
    # Other columns are not sortable: a million rows would be sorted on every page.
    assert admin_client.get(CHANGELIST).context["cl"].sortable_by == ["person_name"]
