import datetime

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Edition(models.Model):
    """One official list of administrative units, in force over a period.

    A record keeps pointing at the units of its own edition: a hand-over held in
    January 2024 stays in "Thành phố Lào Cai, Tỉnh Lào Cai" after the 2025 reform.
    """

    code = models.CharField(_("code"), max_length=10, unique=True)
    in_force = DateRangeField(
        _("in force"), help_text=_("From the first day it applies to the day it was replaced.")
    )
    source = models.CharField(_("source"), max_length=200)

    class Meta:
        verbose_name = _("edition of administrative units")
        verbose_name_plural = _("editions of administrative units")
        ordering = ["in_force"]
        constraints = [
            ExclusionConstraint(
                name="edition_periods_do_not_overlap",
                expressions=[("in_force", RangeOperators.OVERLAPS)],
            ),
        ]

    def __str__(self) -> str:
        return _("%(code)s edition") % {"code": self.code}


class AdminUnitQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date) -> "AdminUnitQuerySet":
        """Return the units of the edition in force on ``day``."""
        return self.filter(edition__in_force__contains=day)

    def provinces(self) -> "AdminUnitQuerySet":
        return self.filter(level=UnitLevel.PROVINCE)

    def within(self, unit: "AdminUnit") -> "AdminUnitQuerySet":
        """Return the units below ``unit`` (a province or a district)."""
        if unit.level == UnitLevel.PROVINCE:
            return self.filter(province=unit).exclude(pk=unit.pk)
        return self.filter(parent=unit)


class UnitLevel(models.IntegerChoices):
    PROVINCE = 1, _("province level")
    DISTRICT = 2, _("district level")
    COMMUNE = 3, _("commune level")


class UnitType(models.TextChoices):
    PROVINCE = "tinh", _("province")
    CENTRAL_CITY = "thanh_pho_tw", _("centrally governed city")
    PROVINCIAL_CITY = "thanh_pho", _("provincial city")
    URBAN_DISTRICT = "quan", _("urban district")
    RURAL_DISTRICT = "huyen", _("rural district")
    TOWN = "thi_xa", _("town")
    COMMUNE = "xa", _("commune")
    WARD = "phuong", _("ward")
    TOWNSHIP = "thi_tran", _("township")
    SPECIAL_ZONE = "dac_khu", _("special zone")


# The word each type puts before the name in official lists.
NAME_PREFIXES = {
    UnitType.PROVINCE: "Tỉnh",
    UnitType.CENTRAL_CITY: "Thành phố",
    UnitType.PROVINCIAL_CITY: "Thành phố",
    UnitType.URBAN_DISTRICT: "Quận",
    UnitType.RURAL_DISTRICT: "Huyện",
    UnitType.TOWN: "Thị xã",
    UnitType.COMMUNE: "Xã",
    UnitType.WARD: "Phường",
    UnitType.TOWNSHIP: "Thị trấn",
    UnitType.SPECIAL_ZONE: "Đặc khu",
}
LEVEL_TYPES = {
    UnitLevel.PROVINCE: [UnitType.PROVINCE, UnitType.CENTRAL_CITY],
    UnitLevel.DISTRICT: [
        UnitType.PROVINCIAL_CITY,
        UnitType.URBAN_DISTRICT,
        UnitType.RURAL_DISTRICT,
        UnitType.TOWN,
    ],
    UnitLevel.COMMUNE: [UnitType.COMMUNE, UnitType.WARD, UnitType.TOWNSHIP, UnitType.SPECIAL_ZONE],
}
CODE_LENGTHS = {UnitLevel.PROVINCE: 2, UnitLevel.DISTRICT: 3, UnitLevel.COMMUNE: 5}


class AdminUnit(models.Model):
    """A province, district or commune of one edition, with its official code."""

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="units", verbose_name=_("edition")
    )
    code = models.CharField(_("code"), max_length=5)
    level = models.PositiveSmallIntegerField(_("level"), choices=UnitLevel.choices)
    unit_type = models.CharField(_("type"), max_length=12, choices=UnitType.choices)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=100)
    # short_name folded by reference.text.fold: what name look-ups compare.
    search_name = models.CharField(_("name for searching"), max_length=100, editable=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    # The province a unit lies in (itself for a province), so that "everything
    # in Lào Cai" is one indexed equality at any depth.
    province = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )

    # For a province of an older edition: the province of the next edition that
    # took it over (Tỉnh Lào Cai 10 and Tỉnh Yên Bái 15 became Tỉnh Lào Cai 15).
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("became part of"),
        editable=False,
    )

    objects = AdminUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["edition", "code"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="unit_code_unique_in_edition"),
            models.CheckConstraint(
                name="unit_code_matches_level",
                condition=Q(level=1, code__regex=r"^[0-9]{2}$")
                | Q(level=2, code__regex=r"^[0-9]{3}$")
                | Q(level=3, code__regex=r"^[0-9]{5}$"),
            ),
            models.CheckConstraint(
                name="unit_type_matches_level",
                condition=Q(level=1, unit_type__in=LEVEL_TYPES[UnitLevel.PROVINCE])
                | Q(level=2, unit_type__in=LEVEL_TYPES[UnitLevel.DISTRICT])
                | Q(level=3, unit_type__in=LEVEL_TYPES[UnitLevel.COMMUNE]),
            ),
            models.CheckConstraint(
                name="unit_has_parent_unless_province",
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["edition", "search_name"], name="unit_search_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def current_province_id(self) -> int:
        """Return the id of the province this unit lies in today, across reforms (no query)."""
        return self.province.successor_id or self.province_id

    @property
    def full_path(self) -> str:
        """Return "Xã Hợp Thành, Thành phố Lào Cai, Tỉnh Lào Cai" (one query per level)."""
        names = []
        unit: AdminUnit | None = self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return ", ".join(names)


class Rate(models.Model):
    """A dated figure of the law that the value of a card or a book depends on.

    The figure in force on a day is the one with the latest ``valid_from`` not
    after it; an administrator adds a row when a decree changes a figure.
    """

    class Kind(models.TextChoices):
        BASE_SALARY = "base_salary", _("base salary (VND a month)")
        HEALTH_INSURANCE_HOUSEHOLD = (
            "hi_household",
            _("household health insurance, first member (share of base salary)"),
        )
        VOLUNTARY_SOCIAL_INSURANCE = (
            "vsi_contribution",
            _("voluntary social insurance (share of the chosen income)"),
        )
        VSI_MINIMUM_INCOME = (
            "vsi_minimum_income",
            _("lowest income for voluntary social insurance (VND a month)"),
        )
        VSI_SUPPORT_POOR = "vsi_support_poor", _("state support, poor household (share)")
        VSI_SUPPORT_NEAR_POOR = (
            "vsi_support_near_poor",
            _("state support, near-poor household (share)"),
        )
        VSI_SUPPORT_ETHNIC_MINORITY = (
            "vsi_support_ethnic_minority",
            _("state support, ethnic minority (share)"),
        )
        VSI_SUPPORT_OTHER = "vsi_support_other", _("state support, others (share)")

    kind = models.CharField(_("figure"), max_length=32, choices=Kind.choices)
    valid_from = models.DateField(_("in force from"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "valid_from"], name="rate_once_per_day"),
            models.CheckConstraint(name="rate_not_negative", condition=Q(value__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value} ({self.valid_from:%d/%m/%Y})"
