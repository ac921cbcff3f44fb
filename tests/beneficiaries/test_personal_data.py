"""Personal data of recipients: masked by default, revealed and exported on record, anonymised."""

import datetime
import io
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import AREA_STAFF, READ_REFERENCE, Role
from audit.models import BeneficiaryAccessEvent, BeneficiaryEvent
from beneficiaries.models import Beneficiary
from beneficiaries.services import beneficiary_anonymise, beneficiary_save
from distributions.models import Item
from distributions.services import BookDetails, CardDetails, item_deliver, item_issue
from tests.admin_forms import change_form_data
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

TRUC_ID = "010175000123"  # Lào Cai birth registration, a woman born in 1975
TRUC_MASKED = "********0123"
TRUC_SI = "1012345678"


@pytest.fixture
def world():
    """Ms. Trúc (Hợp Thành, Lao Cai) with a card and a book; a Hà Nội recipient with a card."""
    lao_cai, ha_noi = unit("2025", "15"), unit("2025", "01")
    users = {
        "national": make_user("tw", role=Role.NATIONAL_OFFICIAL),
        "lao_cai": make_user("laocai", lao_cai, role=Role.PROVINCIAL_STAFF),
        "other": make_user("hanoi", ha_noi, role=Role.PROVINCIAL_STAFF),
        # A role that does not need personal data: everything else of area staff.
        "clerk": make_user(
            "clerk", lao_cai, codes=[c for c in AREA_STAFF if not c.endswith("view_personal_data")]
        ),
        "viewer": make_user(
            "viewer",
            lao_cai,
            codes=[*READ_REFERENCE, "beneficiaries.view_beneficiary", "distributions.view_item"],
        ),
        # Reads recipients, personal data included, but changes nothing.
        "inspector": make_user(
            "inspector",
            lao_cai,
            codes=[
                *READ_REFERENCE,
                "beneficiaries.view_beneficiary",
                "beneficiaries.view_personal_data",
            ],
        ),
    }
    plan = make_plan(number="4033/KH-BHXH")
    agribank, bidv = make_sponsor("Agribank"), make_sponsor("BIDV")
    lao_cai_quota = make_quota(plan, unit("2024", "080"), 600, 50)
    ha_noi_quota = make_quota(plan, unit("2024", "01"), 100, 10)
    lao_cai_pledge = make_pledge(plan, agribank, unit=unit("2024", "080"))
    ha_noi_pledge = make_pledge(plan, bidv, unit=unit("2024", "01"))
    event = make_handover(plan)  # Hợp Thành, 16/01/2024
    truc, _duplicates = beneficiary_save(
        beneficiary=Beneficiary(
            full_name="Lương Thị Trúc",
            birth_date=datetime.date(1975, 3, 8),
            birth_year=1975,
            sex=Beneficiary.Sex.FEMALE,
            ethnic_group="08",  # Mông
            category=Beneficiary.Category.NEAR_POOR,
            personal_id=TRUC_ID,
            social_insurance_number=TRUC_SI,
            phone="0912345678",
            commune=unit("2025", "02680"),
            address_line="Thôn Cửa Ngòi",
            household_key="HK-02680-17",
            consent_on=datetime.date(2024, 1, 10),
            consent_method=Beneficiary.ConsentMethod.SIGNED,
            notes="Mẹ đơn thân, hai con nhỏ",
        ),
        actor=users["lao_cai"],
    )
    ha_noi_person = make_beneficiary(full_name="Nguyễn Văn Hà", commune=unit("2025", "00070"))
    card = item_issue(
        beneficiary=truc,
        quota=lao_cai_quota,
        pledge=lao_cai_pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        handover=event,
        number="GD4101012345678",
        actor=None,
    )
    item_deliver(item=card, delivered_on=JAN_2024, method="ceremony", actor=None)
    item_issue(
        beneficiary=truc,
        quota=lao_cai_quota,
        pledge=lao_cai_pledge,
        details=BookDetails(months_paid=12),
        issued_on=JAN_2024,
        actor=None,
    )
    item_issue(
        beneficiary=ha_noi_person,
        quota=ha_noi_quota,
        pledge=ha_noi_pledge,
        details=CardDetails(valid_from=JAN_2024),
        issued_on=JAN_2024,
        actor=None,
    )
    return {"users": users, "truc": truc, "ha_noi": ha_noi_person, "event": event}


def login(client, world, user: str):
    client.force_login(world["users"][user])
    return client


def change_url(person: Beneficiary) -> str:
    return reverse("admin:beneficiaries_beneficiary_change", args=[person.pk])


def reveal_url(person: Beneficiary) -> str:
    return reverse("admin:beneficiaries_beneficiary_personal_id", args=[person.pk])


def export_url(person: Beneficiary) -> str:
    return reverse("admin:beneficiaries_beneficiary_personal_data", args=[person.pk])


def accesses(person: Beneficiary):
    return BeneficiaryAccessEvent.objects.filter(pgh_obj_id=person.pk)


# -- masked by default ----------------------------------------------------------


def test_the_list_shows_the_id_masked(client, world):
    content = login(client, world, "lao_cai").get(
        reverse("admin:beneficiaries_beneficiary_changelist")
    )
    assert TRUC_MASKED in content.content.decode()
    assert TRUC_ID not in content.content.decode()


def test_the_change_form_shows_the_id_masked_with_a_link_to_reveal_it(client, world):
    response = login(client, world, "lao_cai").get(change_url(world["truc"]))
    content = response.content.decode()
    assert response.status_code == 200
    assert TRUC_MASKED in content
    assert TRUC_ID not in content
    assert response.context["adminform"].form["personal_id"].value() is None
    assert f'href="{reveal_url(world["truc"])}"' in content
    assert "js/reveal-personal-id.js" in content
    assert "onclick" not in content
    assert not accesses(world["truc"]).exists()  # showing the page reveals nothing


def test_a_read_only_page_shows_the_id_masked_with_the_link_too(client, world):
    login(client, world, "inspector")
    page = client.get(change_url(world["truc"]))
    content = page.content.decode()
    assert 'name="personal_id"' not in content
    assert TRUC_MASKED in content and TRUC_ID not in content
    assert f'href="{reveal_url(world["truc"])}"' in content
    assert client.get(reveal_url(world["truc"])).json() == {"personal_id": TRUC_ID}


@pytest.mark.parametrize("user", ["clerk", "viewer"])
def test_without_the_permission_both_ids_stay_masked_and_cannot_be_revealed(client, world, user):
    content = login(client, world, user).get(change_url(world["truc"])).content.decode()
    assert TRUC_MASKED in content and "******5678" in content
    assert TRUC_ID not in content and TRUC_SI not in content
    assert reveal_url(world["truc"]) not in content
    assert export_url(world["truc"]) not in content


def test_the_minutes_show_the_id_masked(client, world):
    login(client, world, "lao_cai")
    page = client.get(reverse("admin:distributions_handover_minutes", args=[world["event"].pk]))
    assert TRUC_MASKED in page.content.decode() and TRUC_ID not in page.content.decode()
    xlsx = client.get(
        reverse("admin:distributions_handover_minutes_xlsx", args=[world["event"].pk])
    )
    cells = [
        str(cell.value)
        for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    assert TRUC_MASKED in cells
    assert not any(TRUC_ID in value for value in cells)


# -- revealing the full number ----------------------------------------------------


def test_staff_in_scope_reveal_the_number_and_the_reveal_is_recorded(client, world):
    response = login(client, world, "lao_cai").get(reveal_url(world["truc"]))
    assert response.status_code == 200
    assert response.json() == {"personal_id": TRUC_ID}
    assert "no-cache" in response["Cache-Control"]
    [event] = accesses(world["truc"])
    assert event.pgh_label == "unmask"
    assert event.pgh_context["username"] == "laocai"
    assert event.pgh_context["url"] == reveal_url(world["truc"])


@pytest.mark.parametrize(("user", "status"), [("other", 404), ("clerk", 403), ("viewer", 403)])
def test_the_number_is_not_revealed_out_of_scope_or_without_the_permission(
    client, world, user, status
):
    response = login(client, world, user).get(reveal_url(world["truc"]))
    assert response.status_code == status
    assert TRUC_ID not in response.content.decode()
    assert not accesses(world["truc"]).exists()


# -- editing -------------------------------------------------------------------


def test_saving_with_the_id_left_empty_keeps_the_number(client, world):
    login(client, world, "lao_cai")
    url = change_url(world["truc"])
    data = change_form_data(client.get(url)) | {"address_line": "Tổ 5"}
    assert data["personal_id"] == ""
    response = client.post(url, data)
    assert response.status_code == 302
    truc = Beneficiary.objects.get(pk=world["truc"].pk)
    assert (truc.personal_id, truc.address_line) == (TRUC_ID, "Tổ 5")
    assert (truc.ethnic_group, truc.category) == ("08", Beneficiary.Category.NEAR_POOR)


def test_a_typed_id_replaces_the_number_and_is_checked_by_the_model(client, world):
    login(client, world, "lao_cai")
    url = change_url(world["truc"])
    data = change_form_data(client.get(url))
    refused = client.post(url, data | {"personal_id": "010275000123"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert "born in 2075, not 1975" in refused.content.decode()
    assert Beneficiary.objects.get(pk=world["truc"].pk).personal_id == TRUC_ID
    assert client.post(url, data | {"personal_id": "010175999999"}).status_code == 302
    assert Beneficiary.objects.get(pk=world["truc"].pk).personal_id == "010175999999"


def test_a_user_without_the_permission_edits_without_seeing_or_losing_sensitive_data(client, world):
    login(client, world, "clerk")
    url = change_url(world["truc"])
    form = client.get(url)
    content = form.content.decode()
    for field in ["ethnic_group", "category"]:
        assert f'name="{field}"' not in content
    assert form.context["adminform"].form["social_insurance_number"].value() is None
    response = client.post(url, change_form_data(form) | {"phone": "0987654321"})
    assert response.status_code == 302
    truc = Beneficiary.objects.get(pk=world["truc"].pk)
    assert truc.phone == "0987654321"
    assert (truc.personal_id, truc.social_insurance_number) == (TRUC_ID, TRUC_SI)
    assert (truc.ethnic_group, truc.category) == ("08", Beneficiary.Category.NEAR_POOR)


@pytest.mark.parametrize("user", ["clerk", "viewer"])
def test_a_user_without_the_permission_sees_no_ethnic_group_nor_category(client, world, user):
    login(client, world, user)
    changelist = client.get(
        reverse("admin:beneficiaries_beneficiary_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )
    cl = changelist.context["cl"]
    assert "category" not in cl.list_display
    assert all(getattr(spec, "field_path", None) != "category" for spec in cl.filter_specs)
    page = client.get(change_url(world["truc"]), HTTP_ACCEPT_LANGUAGE="en")
    for response in [changelist, page]:
        content = response.content.decode().lower()
        assert "near-poor" not in content and "mông" not in content
        assert "ethnic group" not in content and "hardship category" not in content


@pytest.mark.parametrize(
    "query", ["category=near_poor", "ethnic_group=08", "personal_id__startswith=010"]
)
def test_hidden_fields_cannot_be_filtered_from_the_address_bar(client, world, query):
    login(client, world, "clerk")
    url = reverse("admin:beneficiaries_beneficiary_changelist") + "?" + query
    assert client.get(url).status_code == 400
    login(client, world, "lao_cai")
    assert client.get(url).status_code == 200


def test_staff_with_the_permission_see_ethnic_group_and_category(client, world):
    page = login(client, world, "lao_cai").get(change_url(world["truc"]))
    content = page.content.decode()
    assert 'name="ethnic_group"' in content and 'name="category"' in content


def test_searching_by_id_number_needs_the_permission(client, world):
    changelist = reverse("admin:beneficiaries_beneficiary_changelist")
    found = login(client, world, "lao_cai").get(changelist, {"q": TRUC_ID})
    assert list(found.context["cl"].result_list) == [world["truc"]]
    not_found = login(client, world, "clerk").get(changelist, {"q": TRUC_ID})
    assert list(not_found.context["cl"].result_list) == []


# -- the export of everything held about one person --------------------------------


def test_the_export_holds_the_persons_data_in_full_with_cards_books_and_consent(client, world):
    login(client, world, "lao_cai")
    assert export_url(world["truc"]) in client.get(change_url(world["truc"])).content.decode()
    response = client.get(export_url(world["truc"]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Lương Thị Trúc".encode() in response.content  # UTF-8, not \u escapes
    data = json.loads(response.content)
    person = data["recipient"]
    assert person["full_name"] == "Lương Thị Trúc"
    assert person["personal_id"] == TRUC_ID
    assert person["social_insurance_number"] == TRUC_SI
    assert person["birth_date"] == "1975-03-08"
    assert person["phone"] == "0912345678"
    assert person["ethnic_group"] == {"code": "08", "label": "Mông"}
    assert person["category"]["code"] == "near_poor"
    assert person["commune"]["code"] == "02680"
    assert (person["address_line"], person["household_key"]) == ("Thôn Cửa Ngòi", "HK-02680-17")
    assert person["notes"] == "Mẹ đơn thân, hai con nhỏ"
    assert data["consent"] == {
        "consent_on": "2024-01-10",
        "consent_method": {"code": "signed", "label": "signed form"},
        "consent_recorded_by": "laocai",
    }
    card, book = data["cards_and_books"]
    assert (card["kind"]["code"], book["kind"]["code"]) == ("card", "book")
    assert card["plan"]["number"] == "4033/KH-BHXH"
    assert card["status"]["code"] == "delivered" and card["delivered_on"] == "2024-01-16"
    assert card["sponsor"] == "Agribank" and card["value_vnd"] > 0
    assert card["handover"]["held_on"] == "2024-01-16"
    assert card["card"]["valid_from"] == "2024-01-16"
    assert book["book"]["months_paid"] == 12 and book["handover"] is None
    [event] = accesses(world["truc"])
    assert event.pgh_context["url"] == export_url(world["truc"])


@pytest.mark.parametrize(("user", "status"), [("other", 404), ("clerk", 403), ("viewer", 403)])
def test_the_export_is_refused_out_of_scope_or_without_the_permission(client, world, user, status):
    response = login(client, world, user).get(export_url(world["truc"]))
    assert response.status_code == status
    assert TRUC_ID not in response.content.decode()
    assert not accesses(world["truc"]).exists()


# -- anonymisation ---------------------------------------------------------------------


def totals() -> dict:
    """Return counts and sums as reports compute them: items per plan, sponsor and province."""
    items = Item.objects.order_by()
    return {
        group: list(items.values(group).annotate(n=Count("pk"), value=Sum("value")).order_by(group))
        for group in ["plan", "pledge__sponsor", "province"]
    } | {
        "people": list(
            Beneficiary.objects.order_by()
            .values("province", "commune", "category", "birth_year", "sex")
            .annotate(n=Count("pk"))
            .order_by("province", "commune", "category", "birth_year", "sex")
        )
    }


def test_anonymisation_removes_every_personal_field_and_keeps_items_and_totals(world):
    before = totals()
    items_before = list(Item.objects.filter(beneficiary=world["truc"]).values().order_by("pk"))
    person = beneficiary_anonymise(beneficiary=world["truc"], actor=world["users"]["national"])
    person = Beneficiary.objects.get(pk=person.pk)
    assert person.full_name == f"Ẩn danh #{person.pk}"
    assert person.search_name == f"an danh {person.pk}"
    assert person.birth_date is None and person.birth_year == 1975
    assert person.personal_id is None and person.social_insurance_number is None
    assert (person.phone, person.address_line, person.household_key) == ("", "", "")
    assert (person.notes, person.ethnic_group) == ("", "")
    assert person.anonymised_at is not None
    # Kept: where, what kind of hardship, the legal proof of consent.
    assert person.commune == unit("2025", "02680")
    assert person.category == Beneficiary.Category.NEAR_POOR
    assert person.consent_on == datetime.date(2024, 1, 10)
    assert person.consent_recorded_by == world["users"]["lao_cai"]
    items_after = list(Item.objects.filter(beneficiary=person).values().order_by("pk"))
    assert items_after == items_before
    assert totals() == before


def test_an_anonymised_recipient_cannot_be_changed_back(world):
    person = beneficiary_anonymise(beneficiary=world["truc"], actor=None)
    person.full_name = "Lương Thị Trúc"
    person.anonymised_at = None
    with pytest.raises(ValidationError, match="anonymised"):
        beneficiary_save(beneficiary=person, actor=None)
    assert Beneficiary.objects.get(pk=person.pk).full_name == f"Ẩn danh #{person.pk}"
    # Anonymising again changes nothing.
    again = beneficiary_anonymise(beneficiary=person, actor=None)
    assert again.anonymised_at == Beneficiary.objects.get(pk=person.pk).anonymised_at


def test_the_admin_shows_an_anonymised_recipient_read_only_and_refuses_changes(client, world):
    person = beneficiary_anonymise(beneficiary=world["truc"], actor=None)
    login(client, world, "lao_cai")
    page = client.get(change_url(person))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    data = {"full_name": "Lương Thị Trúc", "birth_year": 1975, "sex": "F", "category": "poor"}
    assert client.post(change_url(person), data).status_code == 403
    assert Beneficiary.objects.get(pk=person.pk).full_name == f"Ẩn danh #{person.pk}"


def test_anonymised_recipients_are_no_duplicate_of_anyone(world):
    person = beneficiary_anonymise(beneficiary=world["truc"], actor=None)
    _namesake, duplicates = beneficiary_save(
        beneficiary=Beneficiary(
            full_name=person.full_name,
            birth_year=1975,
            sex=Beneficiary.Sex.FEMALE,
            category=Beneficiary.Category.POOR,
            commune=person.commune,
        ),
        actor=None,
    )
    assert duplicates == []


def test_the_national_official_anonymises_after_a_confirmation_page(client, world):
    login(client, world, "national")
    changelist = reverse("admin:beneficiaries_beneficiary_changelist")
    LogEntry.objects.log_actions(
        user_id=world["users"]["lao_cai"].pk,
        queryset=[world["truc"]],
        action_flag=CHANGE,
        change_message="",
        single_object=True,
    )
    selected = {"action": "anonymise_selected", "_selected_action": [world["truc"].pk]}
    confirmation = client.post(changelist, selected)
    assert confirmation.status_code == 200
    assert "Lương Thị Trúc" in confirmation.content.decode()
    assert Beneficiary.objects.get(pk=world["truc"].pk).anonymised_at is None
    done = client.post(changelist, selected | {"post": "yes"})
    assert done.status_code == 302
    person = Beneficiary.objects.get(pk=world["truc"].pk)
    assert person.anonymised_at is not None and person.personal_id is None
    # Neither the admin's history nor the new audit row names her any more.
    reprs = LogEntry.objects.filter(object_id=str(person.pk)).values_list("object_repr", flat=True)
    assert reprs and all("Trúc" not in text for text in reprs)
    last = BeneficiaryEvent.objects.filter(pgh_obj_id=person.pk).order_by("pgh_id").last()
    assert last.full_name == f"Ẩn danh #{person.pk}"
    assert last.pgh_context["username"] == "tw"


@pytest.mark.parametrize("user", ["lao_cai", "clerk"])
def test_only_those_with_the_dedicated_permission_may_anonymise(client, world, user):
    login(client, world, user)
    changelist = reverse("admin:beneficiaries_beneficiary_changelist")
    assert "anonymise_selected" not in client.get(changelist).content.decode()
    client.post(
        changelist,
        {"action": "anonymise_selected", "_selected_action": [world["truc"].pk], "post": "yes"},
    )
    assert Beneficiary.objects.get(pk=world["truc"].pk).anonymised_at is None


def test_anonymising_also_removes_the_person_from_the_audit_trail():
    from audit.models import BeneficiaryEvent
    from beneficiaries.services import beneficiary_anonymise
    from tests.factories import make_beneficiary

    person = make_beneficiary(
        full_name="Lương Thị Trúc", personal_id="010175000123", birth_year=1975
    )
    person.phone = "0912345678"
    person.save()
    assert BeneficiaryEvent.objects.filter(
        pgh_obj_id=person.pk, full_name="Lương Thị Trúc"
    ).exists()
    beneficiary_anonymise(beneficiary=person, actor=None)
    events = BeneficiaryEvent.objects.filter(pgh_obj_id=person.pk)
    assert events.count() >= 3
    assert not events.filter(full_name="Lương Thị Trúc").exists()
    assert not events.filter(personal_id__isnull=False).exists()
    assert not events.exclude(phone="").exists()
