import pytest
from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from beneficiaries.models import Beneficiary
from distributions.models import Item, Quota
from distributions.services import CardDetails, item_issue
from reference.models import Rate
from tests.admin_forms import add_inline_row, change_form_data
from tests.factories import (
    JAN_2024,
    make_beneficiary,
    make_handover,
    make_plan,
    make_pledge,
    make_quota,
    make_sponsor,
    make_user,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return make_plan()


@pytest.fixture
def city_quota(plan):
    return make_quota(plan, unit("2024", "080"), 600, 50)


@pytest.fixture
def pledge(plan):
    return make_pledge(plan, make_sponsor("Agribank"), cards=100, books=10)


def issue(quota, pledge, person=None, **kwargs):
    return item_issue(
        beneficiary=person or make_beneficiary(),
        quota=quota,
        pledge=pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
        **kwargs,
    )


def issue_form(person, quota, pledge, **fields) -> dict:
    """Return what staff type into the issuance form for a card."""
    return {
        "kind": "card",
        "beneficiary": person.pk,
        "quota": quota.pk,
        "pledge": pledge.pk,
        "issued_on": "16/01/2024",
        "benefit_level": 4,
        "participant_group": "GD",
    } | fields


def changelist(model: str) -> str:
    return reverse(f"admin:{model.replace('.', '_')}_changelist")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_program_page_renders_in_vietnamese_and_english(
    admin_client, language, plan, city_quota, pledge
):
    event = make_handover(plan)
    item = issue(city_quota, pledge, handover=event)
    pages = [
        changelist("distributions.plan"),
        reverse("admin:distributions_plan_change", args=[plan.pk]),
        reverse("admin:distributions_plan_add"),
        changelist("distributions.quota"),
        changelist("distributions.pledge"),
        changelist("sponsors.sponsor"),
        reverse("admin:sponsors_sponsor_change", args=[pledge.sponsor_id]),
        changelist("beneficiaries.beneficiary"),
        reverse("admin:beneficiaries_beneficiary_change", args=[item.beneficiary_id]),
        reverse("admin:beneficiaries_beneficiary_add"),
        changelist("distributions.handover"),
        reverse("admin:distributions_handover_change", args=[event.pk]),
        changelist("distributions.item"),
        reverse("admin:distributions_item_change", args=[item.pk]),
        reverse("admin:distributions_item_add"),
        changelist("reference.rate"),
    ]
    for page in pages:
        response = admin_client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page
        assert response.headers["Content-Language"] == language


def test_the_plan_page_shows_allocated_issued_and_delivered(admin_client, plan, city_quota, pledge):
    issue(city_quota, pledge)
    response = admin_client.get(changelist("distributions.plan"))
    assert "600 / 1 / 0" in response.content.decode()


def test_staff_split_a_quota_on_the_plan_page(admin_client, plan, city_quota):
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = add_inline_row(
        change_form_data(admin_client.get(page)),
        "quotas",
        unit=unit("2024", "02680"),
        cards=45,
        books=10,
        plan=plan,
    )
    response = admin_client.post(page, data)
    assert response.status_code == 302, response.context["errors"]
    city_quota.refresh_from_db()
    assert (city_quota.cards_split, city_quota.books_split) == (45, 10)
    assert Quota.objects.get(plan=plan, unit__code="02680").parent == city_quota


def test_a_split_beyond_the_parent_shows_an_error_and_saves_nothing(admin_client, plan, city_quota):
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = add_inline_row(
        change_form_data(admin_client.get(page)),
        "quotas",
        unit=unit("2024", "02680"),
        cards=601,
        books=0,
        plan=plan,
    )
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "600 cards and 50 books left to split" in response.content.decode()
    assert not Quota.objects.filter(plan=plan, unit__code="02680").exists()


def test_staff_issue_a_card_from_the_admin(admin_client, city_quota, pledge):
    person = make_beneficiary()
    response = admin_client.post(
        reverse("admin:distributions_item_add"),
        issue_form(
            person,
            city_quota,
            pledge,
            valid_from="16/01/2024",
            participant_group="gd",
            primary_care_code="10001",
        ),
    )
    assert response.status_code == 302
    card = Item.objects.get(beneficiary=person)
    assert (card.value, card.participant_group, card.primary_care_code) == (972_000, "GD", "10001")


def test_an_issue_over_the_quota_is_refused_with_a_message(admin_client, plan, pledge):
    quota = make_quota(plan, unit("2024", "15"), 1, 0)
    issue(quota, pledge)
    person = make_beneficiary()
    response = admin_client.post(
        reverse("admin:distributions_item_add"),
        issue_form(person, quota, pledge),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "has no health-insurance card left" in response.content.decode()
    assert not Item.objects.filter(beneficiary=person).exists()


def test_staff_mark_items_delivered_in_bulk(admin_client, city_quota, pledge):
    items = [issue(city_quota, pledge) for _ in range(3)]
    ids = [str(item.pk) for item in items]
    url = changelist("distributions.item")
    ask = admin_client.post(url, {"action": "deliver", "_selected_action": ids})
    assert ask.status_code == 200 and "delivered_on" in ask.content.decode()
    done = admin_client.post(
        url,
        {
            "action": "deliver",
            "_selected_action": ids,
            "apply": "1",
            "delivered_on": "01/02/2024",
            "method": "provincial_office",
            "delivered_by": "BHXH tỉnh Lào Cai",
        },
    )
    assert done.status_code == 302
    delivered = Item.objects.filter(
        pk__in=ids, status="delivered", delivery_method="provincial_office"
    )
    assert delivered.count() == 3
    city_quota.refresh_from_db()
    assert city_quota.cards_delivered == 3


def test_staff_cancel_items_with_a_reason(admin_client, city_quota, pledge):
    item = issue(city_quota, pledge)
    url = changelist("distributions.item")
    missing_reason = admin_client.post(
        url, {"action": "cancel", "_selected_action": [item.pk], "apply": "1", "reason": ""}
    )
    assert missing_reason.status_code == 200
    admin_client.post(
        url,
        {"action": "cancel", "_selected_action": [item.pk], "apply": "1", "reason": "Sai tên"},
    )
    item.refresh_from_db()
    assert (item.status, item.cancel_reason) == ("cancelled", "Sai tên")


def test_items_cannot_be_deleted_and_recipients_with_items_are_protected(
    admin_client, city_quota, pledge
):
    item = issue(city_quota, pledge)
    assert (
        admin_client.post(reverse("admin:distributions_item_delete", args=[item.pk])).status_code
        == 403
    )
    response = admin_client.post(
        reverse("admin:beneficiaries_beneficiary_delete", args=[item.beneficiary_id]),
        {"post": "yes"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert Beneficiary.objects.filter(pk=item.beneficiary_id).exists()


def test_recipients_are_found_without_diacritics_and_filtered(admin_client, city_quota, pledge):
    truc = make_beneficiary(full_name="Lương Thị Trúc", category="near_poor")
    make_beneficiary(full_name="Giàng A Sử", commune=unit("2025", "00070"))
    issue(city_quota, pledge, truc)
    url = changelist("beneficiaries.beneficiary")

    def names(**params):
        return {b.full_name for b in admin_client.get(url, params).context["cl"].result_list}

    assert names(q="luong thi truc") == {"Lương Thị Trúc"}
    assert names(q="LƯƠNG THỊ TRÚC") == {"Lương Thị Trúc"}
    lao_cai = unit("2025", "15")
    assert "Giàng A Sử" not in names(province=lao_cai.pk)
    assert "Lương Thị Trúc" in names(province=lao_cai.pk, commune=unit("2025", "02680").pk)
    assert names(category="near_poor") == {"Lương Thị Trúc"}
    assert names(has_card="yes") == {"Lương Thị Trúc"}
    assert "Lương Thị Trúc" not in names(has_card="no")
    assert names(plan=city_quota.plan_id) == {"Lương Thị Trúc"}


def test_a_possible_duplicate_is_shown_as_a_warning_when_saving(admin_client):
    make_beneficiary(full_name="Lương Thị Trúc", birth_year=1970)
    page = reverse("admin:beneficiaries_beneficiary_add")
    data = change_form_data(admin_client.get(page)) | {
        "full_name": "luong thi TRUC",
        "birth_year": 1970,
        "sex": "F",
        "category": "poor",
        "commune": unit("2025", "02680").pk,
    }
    response = admin_client.post(page, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Possible duplicate" in response.content.decode()
    assert Beneficiary.objects.filter(search_name="luong thi truc").count() == 2


def test_unit_autocomplete_offers_only_todays_communes_for_an_address(admin_client):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "beneficiaries",
            "model_name": "beneficiary",
            "field_name": "commune",
            "term": "hop thanh",
        },
    )
    results = response.json()["results"]
    units = [
        unit_
        for unit_ in Quota._meta.get_field("unit").related_model.objects.filter(
            pk__in=[int(result["id"]) for result in results]
        )
    ]
    assert units and all(u.edition.code == "2025" and u.level == 3 for u in units)
    assert "02680" in {u.code for u in units}


def test_a_pledge_that_paid_for_items_cannot_be_deleted_from_its_sponsor(
    admin_client, city_quota, pledge
):
    issue(city_quota, pledge)
    page = reverse("admin:sponsors_sponsor_change", args=[pledge.sponsor_id])
    data = change_form_data(admin_client.get(page)) | {"pledges-0-DELETE": "on"}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert pledge.__class__.objects.filter(pk=pledge.pk).exists()


def test_staff_add_a_pledge_on_the_sponsor_page_and_see_what_it_funded(
    admin_client, plan, city_quota, pledge
):
    issue(city_quota, pledge)
    page = reverse("admin:sponsors_sponsor_change", args=[pledge.sponsor_id])
    response = admin_client.get(page, HTTP_ACCEPT_LANGUAGE="vi")
    assert "972.000 ₫" in response.content.decode()
    data = add_inline_row(
        change_form_data(response),
        "pledges",
        plan=make_plan(),
        cards=50,
        books=0,
        amount_pledged=48_600_000,
        amount_received=0,
        pledged_on="10/01/2024",
    )
    assert admin_client.post(page, data).status_code == 302
    assert pledge.sponsor.pledges.count() == 2


def test_a_used_quota_line_cannot_be_deleted_from_the_plan(admin_client, plan, city_quota, pledge):
    issue(city_quota, pledge)
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = change_form_data(admin_client.get(page)) | {"quotas-0-DELETE": "on"}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert Quota.objects.filter(pk=city_quota.pk).exists()


@pytest.mark.parametrize(
    ("language", "date", "money"),
    [("vi", "16/01/2024", "972.000 ₫"), ("en", "16/01/2024", "972,000 VND")],
)
def test_dates_and_amounts_are_written_the_way_each_language_reads_them(
    admin_client, city_quota, pledge, language, date, money
):
    issue(city_quota, pledge)
    page = admin_client.get(changelist("distributions.item"), HTTP_ACCEPT_LANGUAGE=language)
    content = page.content.decode()
    assert date in content
    assert money in content


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", ["Chọn người được trao tặng để thay đổi", "Diện đối tượng", "đã có thẻ BHYT"]),
        ("en", ["Select recipient to change", "Hardship category", "has a health-insurance card"]),
    ],
)
def test_the_recipient_list_speaks_the_users_language(admin_client, language, expected):
    make_beneficiary(full_name="Lương Thị Trúc")
    content = admin_client.get(
        changelist("beneficiaries.beneficiary"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    for text in expected:
        assert text in content


# Refusals of the services on saving are errors on the page, not server errors.


def test_a_plan_status_going_backwards_is_shown_on_the_form(admin_client, plan):
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = change_form_data(admin_client.get(page)) | {"status": "draft", "title": "Đổi tên"}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The status cannot go from “active” to “draft”." in response.content.decode()
    # What the user typed is still there.
    assert response.context["adminform"].form["title"].value() == "Đổi tên"
    plan.refresh_from_db()
    assert (plan.status, plan.title) == ("active", "Kế hoạch trao tặng sổ BHXH, thẻ BHYT")


def test_a_plan_target_below_what_is_allocated_is_shown_on_the_form(admin_client, plan, city_quota):
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = change_form_data(admin_client.get(page)) | {"target_cards": 100}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The quotas already give more cards than this target." in response.content.decode()
    plan.refresh_from_db()
    assert plan.target_cards is None


def test_a_handover_status_going_backwards_is_shown_on_the_form(admin_client, plan):
    event = make_handover(plan, status="closed")
    page = reverse("admin:distributions_handover_change", args=[event.pk])
    data = change_form_data(admin_client.get(page)) | {"status": "held"}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The status cannot go from “closed” to “held”." in response.content.decode()
    event.refresh_from_db()
    assert event.status == "closed"


def test_a_pledge_below_what_it_funded_is_shown_on_the_sponsor_page(
    admin_client, city_quota, pledge
):
    issue(city_quota, pledge)
    page = reverse("admin:sponsors_sponsor_change", args=[pledge.sponsor_id])
    data = change_form_data(admin_client.get(page)) | {"pledges-0-cards": 0}
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "cannot promise fewer cards than it has already funded" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.cards == 100


def test_a_recipient_refused_on_saving_is_shown_on_the_form(admin_client, monkeypatch):
    def refuse(*, beneficiary, actor):
        raise ValidationError({"full_name": "Refused by the service."})

    monkeypatch.setattr("beneficiaries.admin.beneficiary_save", refuse)
    page = reverse("admin:beneficiaries_beneficiary_add")
    data = change_form_data(admin_client.get(page)) | {
        "full_name": "Lương Thị Trúc",
        "birth_year": 1970,
        "sex": "F",
        "category": "poor",
        "commune": unit("2025", "02680").pk,
    }
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"full_name": ["Refused by the service."]}
    assert not Beneficiary.objects.filter(search_name="luong thi truc").exists()


@pytest.mark.parametrize("personal_id", ["123", "abcdefghijkl"])
def test_a_malformed_personal_id_is_a_form_error(admin_client, personal_id):
    page = reverse("admin:beneficiaries_beneficiary_add")
    data = change_form_data(admin_client.get(page)) | {
        "full_name": "Lương Thị Trúc",
        "birth_year": 1970,
        "sex": "F",
        "category": "poor",
        "commune": unit("2025", "02680").pk,
        "personal_id": personal_id,
    }
    response = admin_client.post(page, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f"exactly 12 digits; “{personal_id}” does not" in response.content.decode()


def test_a_quota_line_is_not_saved_when_the_plan_is_invalid(admin_client, plan, city_quota):
    page = reverse("admin:distributions_plan_change", args=[plan.pk])
    data = add_inline_row(
        change_form_data(admin_client.get(page)),
        "quotas",
        unit=unit("2024", "02680"),
        cards=45,
        books=10,
        plan=plan,
    ) | {"title": ""}
    response = admin_client.post(page, data)
    assert response.status_code == 200
    assert "title" in response.context["adminform"].form.errors
    assert not Quota.objects.filter(plan=plan, unit__code="02680").exists()
    city_quota.refresh_from_db()
    assert (city_quota.cards_split, city_quota.books_split) == (0, 0)


def test_a_quota_change_is_not_saved_when_its_page_is_invalid(admin_client, plan, city_quota):
    page = reverse("admin:distributions_quota_change", args=[city_quota.pk])
    data = change_form_data(admin_client.get(page)) | {"cards": 500, "books": -1}
    response = admin_client.post(page, data)
    assert response.status_code == 200
    city_quota.refresh_from_db()
    assert (city_quota.cards, city_quota.books) == (600, 50)


def test_an_item_page_is_read_only_and_refuses_a_post(admin_client, city_quota, pledge):
    item = issue(city_quota, pledge)
    page = reverse("admin:distributions_item_change", args=[item.pk])
    response = admin_client.get(page)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert admin_client.post(page, {"number": "X"}).status_code == 403
    item.refresh_from_db()
    assert item.number == ""


@pytest.mark.parametrize("query", ["?handover=abc", "?quota=1x&beneficiary=-2", "?handover="])
def test_the_issue_page_ignores_ids_that_are_not_numbers(admin_client, query):
    response = admin_client.get(reverse("admin:distributions_item_add") + query)
    assert response.status_code == 200
    assert response.context["form"].initial == {}


def test_the_issue_page_prefills_a_handover_id(admin_client, plan):
    event = make_handover(plan)
    response = admin_client.get(reverse("admin:distributions_item_add") + f"?handover={event.pk}")
    assert response.context["form"].initial == {"handover": str(event.pk)}


def test_an_issue_on_a_day_without_rates_is_refused_with_a_message(
    admin_client, city_quota, pledge
):
    Rate.objects.all().delete()
    person = make_beneficiary()
    response = admin_client.post(
        reverse("admin:distributions_item_add"),
        issue_form(person, city_quota, pledge),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "add it under Rates" in response.content.decode()
    assert not Item.objects.filter(beneficiary=person).exists()
    city_quota.refresh_from_db()
    assert city_quota.cards_used == 0


def test_the_items_list_is_newest_first_and_filters_without_reading_every_item(
    admin_client, city_quota, pledge
):
    older = issue(city_quota, pledge)
    newer = issue(city_quota, pledge)
    make_pledge(city_quota.plan, make_sponsor("Bưu điện"), cards=1, books=0)
    make_sponsor("VietinBank")  # no pledge: not offered
    elsewhere = make_pledge(
        city_quota.plan, make_sponsor("Bảo Việt"), unit=unit("2024", "01"), cards=1, books=0
    )
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(changelist("distributions.item"))
    cl = response.context["cl"]
    assert [item.pk for item in cl.result_list] == [newer.pk, older.pk]
    # No DISTINCT of the items' sponsors or dates, nor their first and last dates.
    items = [q["sql"] for q in captured.captured_queries if 'FROM "distributions_item"' in q["sql"]]
    assert items and not [sql for sql in items if "DISTINCT" in sql or "MIN(" in sql]
    assert cl.sortable_by == ["issued_on"] and not cl.date_hierarchy
    sponsor_filter = next(f for f in cl.filter_specs if f.field_path == "pledge__sponsor")
    offered = {label for _pk, label in sponsor_filter.lookup_choices}
    assert offered == {"Agribank", "Bảo Việt", "Bưu điện"}
    # A province's staff are offered the sponsors of their province's and national pledges.
    staff = make_user("laocai", unit("2025", "15"), role=Role.PROVINCIAL_STAFF)
    admin_client.force_login(staff)
    cl = admin_client.get(changelist("distributions.item")).context["cl"]
    sponsor_filter = next(f for f in cl.filter_specs if f.field_path == "pledge__sponsor")
    offered = {label for _pk, label in sponsor_filter.lookup_choices}
    assert offered == {"Agribank", "Bưu điện"} and elsewhere.sponsor.short_name == "Bảo Việt"
    assert isinstance(
        next(f for f in cl.filter_specs if f.field_path == "issued_on"), DateFieldListFilter
    )
    plan = _plan(Item.objects.order_by("-issued_on", "-pk")[:50])
    assert "item_issued_idx" in plan and "Sort" not in plan


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_items_are_found_by_number_or_recipient_each_through_an_index(
    admin_client, city_quota, pledge
):
    truc = make_beneficiary(full_name="Lương Thị Trúc", phone="0912345678")
    card = issue(city_quota, pledge, truc, number="GD4101012345678")
    other = issue(city_quota, pledge, number="0101234567")  # a book's number: digits only
    url = changelist("distributions.item")

    def found(term: str) -> list[int]:
        return [item.pk for item in admin_client.get(url, {"q": term}).context["cl"].result_list]

    assert found("GD4101012345678") == found("gd4101012345678") == [card.pk]
    assert found("0101234567") == [other.pk]
    assert found("0912345678") == [card.pk]  # the recipient's phone
    assert found("luong thi") == found("Lương Thị Trúc") == [card.pk]
    assert found("GD41") == []  # a code is matched whole

    model_admin = admin.site.get_model_admin(Item)
    request = RequestFactory().get(url)
    request.user = User.objects.get(username="admin")
    # A number is looked up in the numbers' index, not by reading every item.
    for term in ["GD4101012345678", "0912345678"]:
        queryset, _distinct = model_admin.get_search_results(request, Item.objects.all(), term)
        assert "item_number_unique" in _plan(queryset.order_by("-issued_on", "-pk")[:50]), term
