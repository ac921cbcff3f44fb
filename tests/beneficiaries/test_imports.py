"""Importing recipients from spreadsheets: the preview, the commit and their rules."""

import datetime
import io
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from python_calamine import CalamineWorkbook

from accounts.roles import Role
from audit.models import AuditEvent
from beneficiaries.imports.columns import COLUMNS
from beneficiaries.imports.reader import FileError
from beneficiaries.imports.services import (
    ImportOutdated,
    import_commit,
    import_confirm,
    import_job_create,
    import_rejected_rows,
    import_validate,
)
from beneficiaries.imports.workbooks import rejects_workbook
from beneficiaries.models import Beneficiary, ImportJob, ImportRow
from tests.beneficiaries.import_files import HEADERS, csv_bytes, person, xlsx
from tests.factories import make_beneficiary, make_user, unit

pytestmark = pytest.mark.django_db

KEYS = [column.key for column in COLUMNS]
WOMAN_1970 = "010170123456"
MAN_1985 = "010085000123"


def check(content: bytes, name: str = "danh-sach.xlsx", *, actor=None, **options) -> ImportJob:
    """Create and check an import of Lào Cai (2025 code 15) unless told otherwise."""
    options.setdefault("province", unit("2025", "15"))
    job = import_job_create(actor=actor, file_name=name, content=content, **options)
    return import_validate(job=job)


def write(job: ImportJob, duplicates=ImportJob.Duplicates.LEAVE_OUT) -> ImportJob:
    return import_commit(job=import_confirm(job=job, actor=None, duplicates=duplicates))


def outcomes(job: ImportJob) -> dict[int, str]:
    return dict(job.rows.values_list("row_number", "outcome"))


def errors(job: ImportJob) -> dict[int, list]:
    return {
        number: [tuple(error) for error in row_errors]
        for number, row_errors in job.rows.values_list("row_number", "errors")
        if row_errors
    }


def test_every_accepted_form_is_read_and_stored_as_the_records_keep_it():
    nfd_name = unicodedata.normalize("NFD", "  NGUYỄN   VĂN  AN ")
    rows = [
        person(personal_id=WOMAN_1970, social_insurance_number=1012345678, phone=912345678),
        person(
            full_name=nfd_name,
            birth=datetime.datetime(1985, 7, 1),
            sex="nam",
            ethnic_group="H'Mông",
            personal_id=int(MAN_1985),  # a number cell: Excel dropped the leading zero
            commune_code=2680,
            category="poor",
        ),
        person(
            full_name="Giàng A Páo",
            birth=1990,
            sex="Male",
            ethnic_group="09",
            commune_code=None,
            commune="xa hop thanh",
            province="Lào Cai",
            category="Hộ cận nghèo",
        ),
        person(full_name="Vàng Thị Mai", birth="1992-05-04", sex="Female", ethnic_group=""),
    ]
    job = write(check(xlsx(rows, title_rows=[["DANH SÁCH"], ["Xã Hợp Thành"], []])))
    assert job.header_row == 4
    assert job.new_count == 4 and job.rejected_count == 0
    people = {p.full_name: p for p in Beneficiary.objects.filter(commune=unit("2025", "02680"))}
    an = people["Nguyễn Văn An"]
    assert unicodedata.is_normalized("NFC", an.full_name)
    assert (an.birth_date, an.sex, an.ethnic_group) == (datetime.date(1985, 7, 1), "M", "08")
    assert an.personal_id == MAN_1985 and an.category == "poor"
    truc = people["Lương Thị Trúc"]
    assert truc.social_insurance_number == "1012345678" and truc.phone == "0912345678"
    assert truc.province == unit("2025", "15") and truc.search_name == "luong thi truc"
    pao = people["Giàng A Páo"]
    assert (pao.birth_date, pao.birth_year, pao.sex) == (None, 1990, "M")
    assert (pao.ethnic_group, pao.category) == ("09", "near_poor")
    assert people["Vàng Thị Mai"].birth_date == datetime.date(1992, 5, 4)


def test_english_headers_in_another_order_and_csv_with_or_without_bom():
    content = (
        "\ufeffCategory;Full name;Sex;Date of birth;Commune code;Surplus\r\n"
        "hộ nghèo;Lò Văn Hùng;Nam;05/06/1960;02680;x\r\n"
    ).encode()
    job = check(content, "list.csv")
    assert (job.new_count, job.ignored_headers) == (1, ["Surplus"])
    plain = check(csv_bytes([person(full_name="Lò Thị Hoa")], bom=False), "list.csv")
    assert plain.new_count == 1


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"birth": "31/02/1970"}, "birth", "31/02/1970 does not exist"),
        ({"full_name": "  "}, "full_name", "full name"),
        ({"sex": "X"}, "sex", "“X”"),
        ({"personal_id": "12345678"}, "personal_id", "not 12"),
        ({"personal_id": 12345678}, "personal_id", "000"),  # padded, then no province has 000
        ({"personal_id": MAN_1985}, "personal_id", "is for a man"),  # and born in 1985
        ({"commune_code": "99999"}, "commune_code", "99999"),
        ({"commune_code": "00070"}, "commune_code", "not in"),  # Hà Nội, not Lào Cai
        ({"category": "giàu"}, "category", "giàu"),
        ({"ethnic_group": "Martian"}, "ethnic_group", "Martian"),
        ({"phone": "12345"}, "phone", "12345"),
    ],
)
def test_each_bad_cell_rejects_its_row_naming_row_column_and_value(cells, column, message):
    job = check(xlsx([person(full_name="Hàng Đúng"), person(**cells)]))
    assert outcomes(job) == {2: "new", 3: "rejected"}
    [(rejected_column, text), *_others] = errors(job)[3]
    assert rejected_column == column and message in text, text


def test_row_messages_are_in_the_uploaders_language():
    with translation.override("vi"):
        job = check(xlsx([person(birth="31/02/1970")]))
    [(_cells, error)] = list(import_rejected_rows(job))
    assert error.startswith("Ngày sinh: ") and "31/02/1970" in error


def test_a_file_without_header_or_required_column_is_refused_whole():
    def refusal(content: bytes, name: str = "danh-sach.xlsx") -> str:
        job = check(content, name)
        assert job.status == ImportJob.Status.FAILED and not job.rows.exists()
        return job.error

    assert "No header row" in refusal(xlsx([], headers=["a", "b"], title_rows=[["x"]] * 3))
    assert "Giới tính" in refusal(
        xlsx([], headers=["Họ và tên", "Ngày sinh", "Mã xã", "Diện đối tượng"])
    )
    assert "UTF-8" in refusal("Họ và tên,Giới tính".encode("cp1258", "replace") + b"\xff", "a.csv")
    assert "could not be read" in refusal(b"PK not really a workbook")
    # Refused before anything is stored.
    with pytest.raises(FileError, match="not a spreadsheet"):
        check(b"%PDF", "list.pdf")
    with pytest.raises(FileError, match="empty"):
        check(b"", "list.xlsx")


def test_a_person_repeated_in_the_file_is_imported_once():
    rows = [
        person(personal_id=WOMAN_1970),
        person(full_name="Lương Thị Trúc", personal_id=WOMAN_1970, village="Thôn khác"),
        person(full_name="Lò Văn Tư", birth="1950", sex="Nam"),
        person(full_name="LÒ VĂN TƯ", birth="1950", sex="Nam"),
    ]
    job = write(check(xlsx(rows), mode=ImportJob.Mode.VALID_ROWS))
    assert outcomes(job) == {2: "new", 3: "rejected", 4: "new", 5: "duplicate"}
    assert "row 2" in errors(job)[3][0][1]
    assert Beneficiary.objects.filter(personal_id=WOMAN_1970).count() == 1
    assert Beneficiary.objects.filter(search_name="lo van tu").count() == 1


def test_people_already_recorded_are_matched_by_id_and_updated_or_left_alone():
    recorded = make_beneficiary(
        full_name="Lương Thị Trúc",
        birth_year=1970,
        personal_id=WOMAN_1970,
        phone="0987654321",
        commune=unit("2025", "02680"),
    )
    rows = [person(personal_id=WOMAN_1970, village="Thôn Mới")]
    skipped = write(check(xlsx(rows)))
    assert (skipped.skipped_count, skipped.updated_count) == (1, 0)
    recorded.refresh_from_db()
    assert recorded.address_line == ""

    updated = write(check(xlsx(rows), existing=ImportJob.Existing.UPDATE))
    assert updated.updated_count == 1
    recorded.refresh_from_db()
    assert recorded.address_line == "Thôn Mới"
    assert recorded.birth_date == datetime.date(1970, 3, 12)
    assert recorded.phone == "0987654321"  # an empty cell keeps what is on record
    assert Beneficiary.objects.filter(personal_id=WOMAN_1970).count() == 1


def test_same_name_birth_and_commune_without_ids_is_a_possible_duplicate_to_decide():
    recorded = make_beneficiary(
        full_name="Lương Thị Trúc", birth_year=1970, commune=unit("2025", "02680")
    )
    job = check(xlsx([person(personal_id=WOMAN_1970)]))
    assert outcomes(job) == {2: "duplicate"}
    assert job.rows.get().similar == [{"pk": recorded.pk}]
    write(job, duplicates=ImportJob.Duplicates.IMPORT)
    assert Beneficiary.objects.filter(search_name="luong thi truc").count() == 2


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    rows = [person(personal_id=WOMAN_1970), person(full_name="Lò Văn Tư", sex="Nam")]
    content = xlsx(rows)
    first = write(check(content))
    assert first.new_count == 2
    before = list(Beneficiary.objects.order_by("pk").values())
    second = write(check(content, existing=ImportJob.Existing.UPDATE))
    assert (second.new_count, second.updated_count, second.unchanged_count) == (0, 0, 2)
    assert list(Beneficiary.objects.order_by("pk").values()) == before


def test_all_or_nothing_writes_nothing_when_a_row_is_rejected():
    content = xlsx([person(), person(full_name="Lò Văn Tư", birth="31/02/1970")])
    job = check(content)
    assert not job.can_commit
    with pytest.raises(ValidationError):
        write(job)
    assert not Beneficiary.objects.filter(search_name="luong thi truc").exists()

    valid_rows = write(check(content, mode=ImportJob.Mode.VALID_ROWS))
    assert (valid_rows.status, valid_rows.new_count, valid_rows.rejected_count) == (
        "committed",
        1,
        1,
    )
    assert Beneficiary.objects.filter(search_name="luong thi truc").count() == 1


def test_rejected_rows_come_back_in_the_template_and_import_once_corrected():
    content = xlsx([person(), person(full_name="Lò Văn Tư", sex="Nam", birth="31/02/1970")])
    job = write(check(content, mode=ImportJob.Mode.VALID_ROWS))
    rejects = rejects_workbook(import_rejected_rows(job))
    sheet = CalamineWorkbook.from_object(io.BytesIO(rejects)).get_sheet_by_index(0)
    rows = sheet.to_python()
    header = next(i for i, row in enumerate(rows) if row[: len(HEADERS)] == HEADERS)
    assert rows[header][len(HEADERS)] == "Lỗi / Error"
    [rejected] = rows[header + 1 :]
    assert rejected[1] == "Lò Văn Tư" and "31/02/1970" in rejected[len(HEADERS)]

    corrected = dict(zip(KEYS, rejected[: len(HEADERS)], strict=True)) | {"birth": "28/02/1970"}
    again = check(xlsx([corrected]))
    assert (again.new_count, again.rejected_count) == (1, 0)


def test_rows_outside_the_chosen_province_or_the_users_communes_are_refused_one_by_one():
    hop_thanh = unit("2025", "02680")
    commune_staff = make_user("xa", hop_thanh, role=Role.COMMUNE_STAFF)
    other_commune = unit("2025", "02647")  # Phường Lào Cai, same province
    rows = [person(), person(full_name="Lò Văn Tư", commune_code=other_commune.code)]
    job = check(xlsx(rows), actor=commune_staff, mode=ImportJob.Mode.VALID_ROWS)
    assert outcomes(job) == {2: "new", 3: "rejected"}
    assert "outside the areas you work for" in errors(job)[3][0][1]

    lao_cai_staff = make_user("tinh", unit("2025", "15"), role=Role.PROVINCIAL_STAFF)
    with pytest.raises(ValidationError, match="outside the areas"):
        check(xlsx(rows), actor=lao_cai_staff, province=unit("2025", "01"))
    with pytest.raises(ValidationError, match="province"):
        check(xlsx(rows), actor=lao_cai_staff, province=None)


def test_a_list_of_2024_names_communes_of_then_and_records_todays():
    rows = [person(commune_code=None, commune="Hợp Thành", province="Lào Cai")]
    job = write(check(xlsx(rows), edition=ImportJob.Edition.PREVIOUS))
    assert job.new_count == 1
    assert Beneficiary.objects.get(search_name="luong thi truc").commune == unit("2025", "02680")


def test_the_commit_refuses_what_changed_since_the_preview():
    job = check(xlsx([person(personal_id=WOMAN_1970)]))
    make_beneficiary(full_name="Người Khác", birth_year=1970, personal_id=WOMAN_1970)
    with pytest.raises(ImportOutdated):
        write(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "check the file again" in job.error
    assert Beneficiary.objects.filter(personal_id=WOMAN_1970).count() == 1


def test_a_written_job_is_not_written_twice():
    job = write(check(xlsx([person()])))
    assert import_commit(job=job).status == ImportJob.Status.COMMITTED
    assert Beneficiary.objects.filter(search_name="luong thi truc").count() == 1


def test_the_preview_queries_by_batch_not_by_row():
    def queries(count: int) -> int:
        rows = [
            person(full_name=f"Người Số {n}", personal_id=f"010170{n:06d}") for n in range(count)
        ]
        content = xlsx(rows)
        job = import_job_create(
            actor=None, file_name="x.xlsx", content=content, province=unit("2025", "15")
        )
        with CaptureQueriesContext(connection) as captured:
            import_validate(job=job)
        assert ImportRow.objects.filter(job=job, outcome="new").count() == count, errors(job)
        return len(captured)

    assert queries(5) == queries(300)


def test_the_commit_is_recorded_in_the_audit_trail_with_the_uploader_and_the_import():
    uploader = make_user("tinh", unit("2025", "15"), role=Role.PROVINCIAL_STAFF)
    job = write(check(xlsx([person()]), actor=uploader))
    recorded = Beneficiary.objects.get(search_name="luong thi truc")
    [event] = AuditEvent.objects.tracks(recorded)
    assert event.pgh_label == "insert"
    assert event.pgh_context["import_job"] == job.pk
    assert (event.user, event.pgh_context["username"]) == (uploader, "tinh")


def test_cells_with_line_breaks_tabs_backslashes_or_nul_are_written_as_typed():
    job = write(check(xlsx([person(note="Nhà\tsố 5\nngõ 3 \\ \\N cuối")])))
    assert job.new_count == 1, errors(job)
    # White space is collapsed like any text typed in; a backslash, even before N, stays.
    assert (
        Beneficiary.objects.get(search_name="luong thi truc").notes == "Nhà số 5 ngõ 3 \\ \\N cuối"
    )
    # A NUL (impossible in XLSX, possible in a CSV) is dropped: PostgreSQL text has none.
    rows = [person(full_name="Lò Văn Tư", village="Bản\x00 Mới"), person(birth="3\x001/02/1970")]
    job = write(check(csv_bytes(rows), "a.csv", mode=ImportJob.Mode.VALID_ROWS))
    assert (job.new_count, job.rejected_count) == (1, 1), errors(job)
    assert Beneficiary.objects.get(search_name="lo van tu").address_line == "Bản Mới"
