"""The export of recipients from the admin list: the template's columns, scoped and recorded."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from accounts.roles import AREA_STAFF, Role
from audit.models import BeneficiaryAccessEvent
from beneficiaries.imports.columns import COLUMNS
from beneficiaries.imports.services import import_job_create, import_validate
from beneficiaries.models import Beneficiary, ImportJob
from beneficiaries.services import beneficiary_anonymise
from tests.factories import make_beneficiary, make_user, unit

pytestmark = pytest.mark.django_db

HEADERS = [column.vietnamese for column in COLUMNS]
EXPORT_URL = reverse("admin:beneficiaries_beneficiary_export")
CHANGELIST_URL = reverse("admin:beneficiaries_beneficiary_changelist")
XLSX, CSV = "0", "1"  # the export form's choices, in the admin's order
HA_NOI_ID = "001080012345"  # Hà Nội birth registration (001), a man born in 1980
HA_NOI_SI = "0112345678"


@pytest.fixture
def world():
    """Two Hà Nội recipients in commune 00070 (codes of 2025 start with 00), one in Lào Cai."""
    ha_noi, lao_cai = unit("2025", "01"), unit("2025", "15")
    commune = unit("2025", "00070")
    people = {
        "ha": make_beneficiary(
            full_name="Nguyễn Văn Hà",
            birth_date=datetime.date(1980, 5, 12),
            birth_year=1980,
            sex=Beneficiary.Sex.MALE,
            ethnic_group="01",
            personal_id=HA_NOI_ID,
            social_insurance_number=HA_NOI_SI,
            phone="0912345678",
            commune=commune,
            address_line="Tổ 5",
            category=Beneficiary.Category.NEAR_POOR,
            notes="=1+1 is no formula",
        ),
        "hoa": make_beneficiary(
            full_name="Trần Thị Hoa", birth_year=1955, commune=commune, notes="Sống một mình"
        ),
        "truc": make_beneficiary(
            full_name="Lương Thị Trúc", birth_year=1975, personal_id="010175000123"
        ),
    }
    users = {
        "national": make_user("tw", role=Role.NATIONAL_OFFICIAL),
        "lao_cai": make_user("laocai", lao_cai, role=Role.PROVINCIAL_STAFF),
        # Everything area staff may do, but not see personal data.
        "clerk": make_user(
            "clerk", ha_noi, codes=[c for c in AREA_STAFF if not c.endswith("view_personal_data")]
        ),
    }
    return {"people": people, "users": users, "ha_noi": ha_noi, "commune": commune}


def export(client, user, file_format: str = XLSX, **query):
    """Post the export form as the admin's export page does: the list's filters in the URL."""
    client.force_login(user)
    url = EXPORT_URL + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(url, {"format": file_format, "resource": "0"})


def xlsx_rows(response) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    return workbook.get_sheet_by_index(0).to_python()


def csv_rows(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


HA_ROW = [
    "Nguyễn Văn Hà",
    "12/05/1980",
    "Nam",
    "Kinh",
    HA_NOI_ID,
    HA_NOI_SI,
    "0912345678",
    "00070",
]


def test_the_xlsx_holds_the_filtered_rows_in_the_templates_columns(client, world):
    response = export(
        client, world["users"]["national"], province=world["ha_noi"].pk, q="nguyen%20van"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith('attachment; filename="danh-sach-nguoi-')
    header, *rows = xlsx_rows(response)
    assert header == HEADERS
    [row] = rows
    commune = world["commune"]
    assert row[0] == 1
    assert row[1:9] == HA_ROW
    assert row[9:] == [
        commune.name,
        commune.province.name,
        "Tổ 5",
        "hộ cận nghèo",
        "=1+1 is no formula",
    ]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["B2"].data_type == sheet["N2"].data_type == sheet["F2"].data_type == "s"
    assert sheet["F2"].number_format == "@"


def test_the_csv_holds_the_same_rows_with_leading_zeros(client, world):
    response = export(
        client, world["users"]["national"], CSV, province=world["ha_noi"].pk, q="nguyen%20van"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    header, *rows = csv_rows(response)
    assert header == HEADERS
    [row] = rows
    assert row[:9] == ["1", *HA_ROW]


def test_a_year_alone_and_empty_fields_stay_as_the_template_writes_them(client, world):
    rows = xlsx_rows(export(client, world["users"]["national"], province=world["ha_noi"].pk))[1:]
    assert [row[0] for row in rows] == [1, 2]  # running numbers, in the list's order
    hoa = next(row for row in rows if row[1] == "Trần Thị Hoa")
    assert hoa[2:8] == ["1955", "Nữ", "", "", "", ""]
    assert hoa[12:] == ["hộ nghèo", "Sống một mình"]


def test_the_exported_file_imports_again_unchanged(client, world):
    for file_format, name in [(XLSX, "danh-sach.xlsx"), (CSV, "danh-sach.csv")]:
        response = export(
            client, world["users"]["national"], file_format, province=world["ha_noi"].pk
        )
        job = import_validate(
            job=import_job_create(
                actor=None,
                file_name=name,
                content=response.content,
                province=world["ha_noi"],
                existing=ImportJob.Existing.UPDATE,
            )
        )
        assert (job.unchanged_count, job.new_count, job.rejected_count) == (2, 0, 0), name


def test_a_provincial_user_exports_only_their_province(client, world):
    rows = xlsx_rows(export(client, world["users"]["lao_cai"]))[1:]
    assert [row[1] for row in rows] == ["Lương Thị Trúc"]


def test_anonymised_recipients_are_left_out(client, world):
    beneficiary_anonymise(beneficiary=world["people"]["hoa"], actor=world["users"]["national"])
    rows = xlsx_rows(export(client, world["users"]["national"], province=world["ha_noi"].pk))[1:]
    assert [row[1] for row in rows] == ["Nguyễn Văn Hà"]


def test_without_the_personal_data_permission_there_is_no_export(client, world):
    clerk = world["users"]["clerk"]
    client.force_login(clerk)
    assert EXPORT_URL not in client.get(CHANGELIST_URL).content.decode()
    assert client.get(EXPORT_URL).status_code == 403
    assert export(client, clerk).status_code == 403
    assert not BeneficiaryAccessEvent.objects.exists()


def test_the_list_links_to_the_export_with_its_filters(client, world):
    client.force_login(world["users"]["national"])
    query = f"?province={world['ha_noi'].pk}"
    page = client.get(CHANGELIST_URL + query).content.decode()
    assert f'href="{EXPORT_URL}{query}"' in page
    form = client.get(EXPORT_URL + query, HTTP_ACCEPT_LANGUAGE="vi")
    assert form.status_code == 200
    assert "xlsx" in form.content.decode() and "csv" in form.content.decode()


def test_each_export_is_recorded_with_who_how_many_and_the_filters(client, world):
    ha_noi = world["ha_noi"].pk
    export(client, world["users"]["national"], CSV, province=ha_noi, q=HA_NOI_ID)
    [event] = BeneficiaryAccessEvent.objects.all()
    assert (event.pgh_obj_id, event.pgh_label) == (world["people"]["ha"].pk, "export")
    context = event.pgh_context
    assert (context["username"], context["exported"], context["format"]) == ("tw", 1, "csv")
    # A searched ID number is kept masked, like everywhere in the trail.
    assert context["filters"] == {"province": str(ha_noi), "q": "********2345"}
    assert context["url"] == EXPORT_URL and context["request_id"]


def test_an_export_of_several_people_records_each_under_one_context(client, world):
    export(client, world["users"]["national"], province=world["ha_noi"].pk)
    events = BeneficiaryAccessEvent.objects.filter(pgh_label="export")
    assert {event.pgh_obj_id for event in events} == {
        world["people"]["ha"].pk,
        world["people"]["hoa"].pk,
    }
    assert len({event.pgh_context_id for event in events}) == 1
    assert {event.pgh_context["exported"] for event in events} == {2}


def test_the_export_costs_the_same_queries_for_two_people_or_twenty(client, world):
    national = world["users"]["national"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert export(client, national).status_code == 200
        return len(captured)

    queries()  # the first request of a session also reads the user's permissions
    few = queries()
    for _n in range(18):
        make_beneficiary(commune=world["commune"])
    assert queries() == few
