"""Shared worlds of records for tests of who may see and do what (admin and API)."""

from accounts.roles import Role
from distributions.services import CardDetails, item_deliver, item_issue
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


def two_provinces() -> dict:
    """Lao Cai (the article) and Hà Nội, with a recipient, card, pledge and hand-over each."""
    plan = make_plan(number="4033/KH-BHXH")
    agribank, bidv = make_sponsor("Agribank"), make_sponsor("BIDV")
    lao_cai_quota = make_quota(plan, unit("2024", "080"), 600, 50)
    ha_noi_quota = make_quota(plan, unit("2024", "01"), 100, 10)
    lao_cai_pledge = make_pledge(plan, agribank, unit=unit("2024", "080"))
    ha_noi_pledge = make_pledge(plan, bidv, unit=unit("2024", "01"))
    event = make_handover(plan)  # Hợp Thành, 16/01/2024
    truc = make_beneficiary(full_name="Lương Thị Trúc", personal_id="010175000123", birth_year=1975)
    city = make_beneficiary(full_name="Vàng Thị Mai", commune=unit("2025", "02647"))
    ha_noi = make_beneficiary(full_name="Nguyễn Văn Hà", commune=unit("2025", "00070"))

    def card(person, quota, pledge, handover=None):
        return item_issue(
            beneficiary=person,
            quota=quota,
            pledge=pledge,
            details=CardDetails(valid_from=JAN_2024),
            issued_on=JAN_2024,
            handover=handover,
            actor=None,
        )

    truc_card = card(truc, lao_cai_quota, lao_cai_pledge, event)
    item_deliver(item=truc_card, delivered_on=JAN_2024, method="ceremony", actor=None)
    city_card = card(city, lao_cai_quota, lao_cai_pledge)
    ha_noi_card = card(ha_noi, ha_noi_quota, ha_noi_pledge)
    users = {
        "national": make_user("tw", role=Role.NATIONAL_OFFICIAL),
        "lao_cai": make_user("laocai", unit("2025", "15"), role=Role.PROVINCIAL_STAFF),
        "other": make_user("hanoi", unit("2025", "01"), role=Role.PROVINCIAL_STAFF),
        "commune": make_user("hopthanh", unit("2025", "02680"), role=Role.COMMUNE_STAFF),
        "sponsor": make_user("agribank", role=Role.SPONSOR_VIEWER, sponsor=agribank),
    }
    return {
        "users": users,
        "plan": plan,
        "truc": truc,
        "city": city,
        "ha_noi": ha_noi,
        "truc_card": truc_card,
        "city_card": city_card,
        "ha_noi_card": ha_noi_card,
        "event": event,
        "lao_cai_quota": lao_cai_quota,
        "ha_noi_quota": ha_noi_quota,
        "lao_cai_pledge": lao_cai_pledge,
        "ha_noi_pledge": ha_noi_pledge,
    }
