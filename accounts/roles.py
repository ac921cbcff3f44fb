"""The roles of the programme, as Django groups with permissions.

An administrator may add permissions to a group in the admin; ``roles_sync``
(run after every migrate) only adds the ones listed here, never removes any.
What a role may do comes from here; where, from the user's assigned areas.
"""

from django.contrib.auth.models import Group, Permission
from django.db import models

READ_REFERENCE = [
    "reference.view_adminunit",
    "reference.view_edition",
    "reference.view_rate",
    "distributions.view_plan",
    "sponsors.view_sponsor",
]
AREA_STAFF = [
    *READ_REFERENCE,
    "distributions.view_dashboards",
    "distributions.view_quota",
    "distributions.add_quota",
    "distributions.change_quota",
    "distributions.view_pledge",
    "beneficiaries.view_beneficiary",
    "beneficiaries.add_beneficiary",
    "beneficiaries.change_beneficiary",
    "beneficiaries.view_personal_data",
    "beneficiaries.view_importjob",
    "beneficiaries.add_importjob",
    "distributions.view_handover",
    "distributions.add_handover",
    "distributions.change_handover",
    "distributions.view_item",
    "distributions.add_item",
    "distributions.change_item",
]


class Role(models.TextChoices):
    ADMINISTRATOR = "Quản trị hệ thống"
    NATIONAL_OFFICIAL = "Cán bộ BHXH Việt Nam"
    PROVINCIAL_STAFF = "Cán bộ BHXH tỉnh"
    COMMUNE_STAFF = "Cán bộ xã"
    SPONSOR_VIEWER = "Nhà tài trợ"


ROLE_PERMISSIONS: dict[Role, list[str] | None] = {
    Role.ADMINISTRATOR: None,  # every permission there is
    Role.NATIONAL_OFFICIAL: [
        *AREA_STAFF,
        "accounts.view_all_areas",
        "distributions.add_plan",
        "distributions.change_plan",
        "distributions.delete_quota",
        "sponsors.add_sponsor",
        "sponsors.change_sponsor",
        "distributions.add_pledge",
        "distributions.change_pledge",
        "beneficiaries.anonymise_beneficiary",
    ],
    Role.PROVINCIAL_STAFF: AREA_STAFF,
    Role.COMMUNE_STAFF: AREA_STAFF,
    Role.SPONSOR_VIEWER: [
        "distributions.view_plan",
        "distributions.view_dashboards",
        "sponsors.view_sponsor",
        "distributions.view_pledge",
    ],
}


def roles_sync() -> None:
    """Create the role groups and give them at least their listed permissions."""
    for role, codes in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        if codes is None:
            group.permissions.add(*Permission.objects.all())
            continue
        wanted = set()
        for code in codes:
            app_label, codename = code.split(".")
            wanted.add((app_label, codename))
        permissions = [
            permission
            for permission in Permission.objects.select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in permissions}
        if missing:
            raise LookupError(f"role {role.name} names unknown permissions: {sorted(missing)}")
        group.permissions.add(*permissions)
