"""Change lists of large tables: counted exactly when cheap, else estimated, and said so."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from beneficiaries.models import NAME_TERMS, Beneficiary
from beneficiaries.selectors import HasTerms, WordsInOrder, beneficiary_search, name_terms_query
from distributions.models import Item
from tests.factories import make_beneficiary
from vss_program import paginator as paginator_module
from vss_program.paginator import (
    EstimatedCountAdminMixin,
    EstimatedCountPaginator,
    count_within,
    estimated_rows,
    table_rows,
)

CHANGELIST = reverse("admin:beneficiaries_beneficiary_changelist")
# A condition that takes 0.3 s however few the rows: the count of a slow query.
SLOW = "(SELECT true FROM pg_sleep(0.3))"


@pytest.fixture
def people(db):
    return [make_beneficiary(full_name=f"Lương Thị {name}") for name in ["An", "Bình", "Chi"]]


@pytest.fixture
def large_table(monkeypatch):
    """Make every table "large" for the paginator, and a page two rows long."""
    monkeypatch.setattr(EstimatedCountPaginator, "exact_table_rows", 0)
    monkeypatch.setattr(admin.site.get_model_admin(Beneficiary), "list_per_page", 2)
    monkeypatch.setattr(paginator_module, "_table_rows", {})


def counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]


def test_the_large_lists_use_the_paginator():
    for model in (Beneficiary, Item):
        model_admin = admin.site.get_model_admin(model)
        assert isinstance(model_admin, EstimatedCountAdminMixin)
        assert model_admin.show_full_result_count is False


def test_the_checkbox_of_each_row_is_djangos_written_directly(people):
    model_admin = admin.site.get_model_admin(Beneficiary)
    person = people[0]
    person.full_name = "Lương <b>Thị</b> An"
    assert model_admin.action_checkbox(person) == admin.ModelAdmin.action_checkbox(
        model_admin, person
    )


def test_ties_are_broken_in_the_direction_of_the_sorted_column(admin_client, people):
    # Django would add "-pk" to both: an index of (name, id) gives neither order then.
    for order, expected in [("1", ("search_name", "pk")), ("-1", ("-search_name", "-pk"))]:
        cl = admin_client.get(CHANGELIST, {"o": order}).context["cl"]
        assert cl.queryset.query.order_by == expected


def test_a_list_that_fits_on_its_first_page_is_read_once_and_not_counted(admin_client, people):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST, {"q": "luong thi"})
    cl = response.context["cl"]
    assert cl.result_count == 3 and not cl.result_count_estimated
    assert counts(captured) == []
    recipients = [
        q for q in captured.captured_queries if 'FROM "beneficiaries_beneficiary"' in q["sql"]
    ]
    assert len(recipients) == 1


def test_an_estimate_leaves_out_what_only_narrows_a_search(people):
    # The planner would take the words' order and their pairs as independent.
    found = beneficiary_search(Beneficiary.objects.all(), "luong thi an", personal_data=True)
    assert any(isinstance(child, WordsInOrder) for child in _conditions(found.query.where))
    without_order = Beneficiary.objects.filter(
        HasTerms(NAME_TERMS, name_terms_query(["luong", "thi", "an"]))
    )
    assert estimated_rows(found) == estimated_rows(without_order)
    assert found.count() == 1  # the query itself keeps the condition


def _conditions(node):
    for child in node.children:
        yield child
        if hasattr(child, "children"):
            yield from _conditions(child)


def test_a_longer_filtered_list_is_counted_exactly(admin_client, people, large_table):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST, {"q": "luong thi"})
    cl = response.context["cl"]
    assert cl.result_count == 3 and not cl.result_count_estimated
    (count,) = counts(captured)
    assert count.startswith(
        "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL statement_timeout = 50; "
        "SELECT set_config('vss_program.count', (SELECT COUNT(*)"
    )
    assert "about" not in response.content.decode()


def test_a_large_table_is_estimated_never_counted(admin_client, people, large_table):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en")
    cl = response.context["cl"]
    assert cl.result_count_estimated
    assert cl.result_count == max(table_rows(Beneficiary, "default"), 3)
    assert counts(captured) == []
    assert len(cl.result_list) == 2
    content = response.content.decode()
    assert f"about {cl.result_count:,} recipients" in content
    assert f"about {cl.result_count:,} results" in content
    assert f"Select all (about {cl.result_count:,}) recipients" in content
    assert 'class="showall"' not in content
    assert response.context["selection_note_all"] == f"All of about {cl.result_count:,} selected"


def test_the_estimate_is_said_in_vietnamese(client, people, large_table, admin_user):
    client.force_login(admin_user)
    response = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="vi")
    count = f"{response.context['cl'].result_count:,}".replace(",", ".")
    assert f"khoảng {count} người được trao tặng" in response.content.decode()


def test_an_estimated_list_is_never_shown_whole_and_pages_past_it_answer(
    admin_client, people, large_table, monkeypatch
):
    # An estimate below one page must not load the whole table with "Show all".
    monkeypatch.setattr("vss_program.paginator.estimated_rows", lambda queryset: 1)
    cl = admin_client.get(CHANGELIST, {"all": ""}).context["cl"]
    assert cl.result_count == 1 and cl.multi_page and not cl.can_show_all
    assert len(cl.result_list) == 2
    # The rows past the estimated last page are there to be listed.
    cl = admin_client.get(CHANGELIST, {"p": 2}).context["cl"]
    assert [p.full_name for p in cl.result_list] == ["Lương Thị Chi"]
    assert admin_client.get(CHANGELIST, {"p": 50}).status_code == 200


def test_a_page_past_the_first_reads_its_keys_then_its_rows(admin_client, people, large_table):
    # The rows skipped are read from the ordering's index alone, not joined to their communes.
    with CaptureQueriesContext(connection) as captured:
        cl = admin_client.get(CHANGELIST, {"p": 2}).context["cl"]
    assert [p.full_name for p in cl.result_list] == ["Lương Thị Chi"]
    statements = [q["sql"] for q in captured.captured_queries]
    keys = [sql for sql in statements if '"beneficiaries_beneficiary"."id" AS "pk"' in sql]
    rows = [sql for sql in statements if '"beneficiaries_beneficiary"."id" IN (' in sql]
    # Read once, though the change list asks for its page twice.
    assert len(keys) == 1 and len(rows) == 1
    assert keys[0].endswith("LIMIT 2 OFFSET 2") and "JOIN" not in keys[0]
    assert "JOIN" in rows[0] and "OFFSET" not in rows[0]


def test_a_count_taking_too_long_is_cancelled_and_estimated(people):
    queryset = Beneficiary.objects.extra(where=[SLOW])
    paginator = EstimatedCountPaginator(queryset, 2)
    paginator.exact_table_rows = 0  # as if the table were large
    paginator.count_timeout_ms = 20
    assert paginator.count == estimated_rows(queryset) and paginator.estimated
    with connection.cursor() as cursor:  # the savepoint was rolled back, and the setting
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)
    assert Beneficiary.objects.count() == 3
    with pytest.raises(EmptyPage):
        paginator.page(0)
    with pytest.raises(PageNotAnInteger):
        paginator.page("two")
    assert list(paginator.page(9).object_list) == []


def test_a_first_page_slow_to_read_is_not_followed_by_a_count(people):
    # A search's first page is read from every row it finds, as a count would be.
    queryset = Beneficiary.objects.extra(where=[SLOW])
    paginator = EstimatedCountPaginator(queryset, 2, first_page=True)
    paginator.exact_table_rows = 0  # as if the table were large
    paginator.count_timeout_ms = 20
    with CaptureQueriesContext(connection) as captured:
        # The estimate, or more: the first page was full.
        assert paginator.count == max(estimated_rows(queryset), 3) and paginator.estimated
    assert counts(captured) == []
    assert len(paginator.page(1).object_list) == 2


def test_a_small_table_is_counted_exactly_however_slow(people):
    # A test's or a small deployment's lists: never an estimate, even on a busy machine.
    queryset = Beneficiary.objects.extra(where=[SLOW])
    paginator = EstimatedCountPaginator(queryset, 2, first_page=True)
    paginator.count_timeout_ms = 20
    assert paginator.count == 3 and not paginator.estimated


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_timeout_ends_with_the_count():
    def settings() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'),"
                " current_setting('max_parallel_workers_per_gather')"
            )
            return cursor.fetchone()

    assert connection.get_autocommit()
    before = settings()
    assert count_within(Permission.objects.all(), 50) == Permission.objects.count()
    assert settings() == before
    assert count_within(Permission.objects.extra(where=[SLOW]), 20) is None
    assert settings() == before and before[0] == "0"
