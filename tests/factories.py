"""Builders of program records for tests, going through the services like a user would."""

import datetime
import itertools

from django.contrib.auth.models import Group, Permission

from accounts.models import UnitAssignment, User
from accounts.roles import Role
from beneficiaries.models import Beneficiary
from beneficiaries.services import beneficiary_save
from distributions.models import Handover, Plan, Pledge, Quota
from distributions.services import handover_save, plan_save, pledge_save, quota_set
from reference.models import AdminUnit
from sponsors.models import Sponsor

_serial = itertools.count(1)

JAN_2024 = datetime.date(2024, 1, 16)


def unit(edition: str, code: str) -> AdminUnit:
    return AdminUnit.objects.get(edition__code=edition, code=code)


def make_plan(**fields) -> Plan:
    values = {
        "number": f"{next(_serial)}/KH-BHXH",
        "title": "Kế hoạch trao tặng sổ BHXH, thẻ BHYT",
        "signed_on": datetime.date(2023, 11, 29),
        "starts_on": datetime.date(2023, 11, 29),
        "ends_on": datetime.date(2024, 12, 31),
        "status": Plan.Status.ACTIVE,
    } | fields
    return plan_save(plan=Plan(**values), actor=None)


def make_quota(plan: Plan, unit_: AdminUnit, cards: int, books: int) -> Quota:
    return quota_set(plan=plan, unit=unit_, cards=cards, books=books, actor=None)


def make_sponsor(short_name: str = "", **fields) -> Sponsor:
    short_name = short_name or f"Sponsor {next(_serial)}"
    values = {"name_vi": short_name, "kind": Sponsor.Kind.BANK} | fields
    return Sponsor.objects.create(short_name=short_name, **values)


def make_pledge(plan: Plan, sponsor: Sponsor | None = None, **fields) -> Pledge:
    values = {"cards": 100, "books": 10, "pledged_on": datetime.date(2024, 1, 10)} | fields
    return pledge_save(
        pledge=Pledge(plan=plan, sponsor=sponsor or make_sponsor(), **values), actor=None
    )


def make_beneficiary(**fields) -> Beneficiary:
    values = {
        "full_name": f"Người Thử {next(_serial)}",
        "birth_year": 1970,
        "sex": Beneficiary.Sex.FEMALE,
        "category": Beneficiary.Category.POOR,
        "commune": unit("2025", "02680"),
    } | fields
    beneficiary, _duplicates = beneficiary_save(beneficiary=Beneficiary(**values), actor=None)
    return beneficiary


def make_handover(plan: Plan, place: AdminUnit | None = None, **fields) -> Handover:
    values = {
        "held_on": JAN_2024,
        "title": "Trao tặng sổ BHXH, thẻ BHYT",
        "status": Handover.Status.HELD,
    } | fields
    return handover_save(
        handover=Handover(plan=plan, place=place or unit("2024", "02680"), **values), actor=None
    )


def make_user(
    username: str, *areas: AdminUnit, role: Role | None = None, codes=(), sponsor=None
) -> User:
    """Return a staff user with a role (a group of accounts/roles.py) and/or permission ``codes``,
    working for ``areas``."""
    user = User.objects.create_user(
        username, password="pw-" + username, is_staff=True, sponsor=sponsor
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    for code in codes:
        app_label, codename = code.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for area in areas:
        UnitAssignment.objects.create(user=user, unit=area)
    return user
