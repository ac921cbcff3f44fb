import pytest

from reference.models import AdminUnit

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reference/adminunit/"


def test_the_root_leads_to_the_admin_login_in_vietnamese(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert "Đăng nhập" in response.content.decode()
    assert response.headers["Content-Language"] == "vi"


def test_the_admin_speaks_english_when_asked(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "en"
    assert "Log in" in response.content.decode()


@pytest.mark.parametrize("term", ["hop thanh", "Xã Hợp Thành", "HỢP THÀNH", "02680"])
def test_searching_units_ignores_case_diacritics_and_type_word(admin_client, term):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    found = {(unit.edition.code, unit.code) for unit in response.context["cl"].result_list}
    assert {("2024", "02680"), ("2025", "02680")} <= found
    assert all("hop thanh" in unit.search_name for unit in response.context["cl"].result_list)


def test_units_filter_by_edition_and_province(admin_client):
    lao_cai_2024 = AdminUnit.objects.get(edition__code="2024", code="10")
    response = admin_client.get(
        CHANGELIST,
        {"edition__id__exact": lao_cai_2024.edition_id, "province": lao_cai_2024.pk, "level": 2},
    )
    districts = response.context["cl"].queryset
    assert districts.count() == AdminUnit.objects.filter(province=lao_cai_2024, level=2).count() > 0
    assert "Thành phố Lào Cai" in response.content.decode()
    # The province filter lists only the provinces of the chosen edition.
    choices = response.context["cl"].filter_specs[-1].lookup_choices
    assert len(choices) == 63


def test_units_are_read_only_in_the_admin(admin_client):
    hop_thanh = AdminUnit.objects.get(edition__code="2025", code="02680")
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    response = admin_client.post(f"{CHANGELIST}{hop_thanh.pk}/change/", {"name": "Xã Khác"})
    assert response.status_code == 403
    assert admin_client.post(f"{CHANGELIST}{hop_thanh.pk}/delete/").status_code == 403
    hop_thanh.refresh_from_db()
    assert hop_thanh.name == "Xã Hợp Thành"
    page = admin_client.get(f"{CHANGELIST}{hop_thanh.pk}/change/")
    assert page.status_code == 200
    assert "Xã Hợp Thành" in page.content.decode()


def test_staff_switch_the_admin_to_english_and_back(admin_client):
    switched = admin_client.post(
        "/i18n/setlang/", {"language": "en", "next": "/admin/"}, follow=True
    )
    assert switched.headers["Content-Language"] == "en"
    assert "Cards and books for people in difficult circumstances" in switched.content.decode()
    back = admin_client.post("/i18n/setlang/", {"language": "vi", "next": "/admin/"}, follow=True)
    assert "Trao tặng sổ BHXH, thẻ BHYT cho người có hoàn cảnh khó khăn" in back.content.decode()
    assert "Danh mục dùng chung" in back.content.decode()
