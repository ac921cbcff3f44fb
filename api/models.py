"""Who may call the REST API, with which key, and what it already answered.

An API client is a partner system (a sponsor, a province office, VSS head
office).  It acts through a user of its own, never signed in by a person,
whose role (group), assigned province and sponsor are kept in step with the
client by ``api.services``: the API then asks the same questions as the admin
(``user.has_perm`` and ``accounts.scope``), so a client can never see more
than a staff member of the same role and area.
"""

import ipaddress

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from accounts.models import User
from accounts.roles import Role
from reference.models import AdminUnit, UnitLevel
from sponsors.models import Sponsor


def validate_network(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as error:
        raise ValidationError(
            _("“%(value)s” is not an IP address or range such as 203.0.113.0/24."),
            params={"value": value},
            code="invalid_network",
        ) from error


class ApiClient(models.Model):
    """A partner system allowed to call the API, with its role, area and scopes."""

    class Organisation(models.TextChoices):
        HEAD_OFFICE = "head_office", _("VSS head office")
        PROVINCE_OFFICE = "province_office", _("Province social-security office")
        SPONSOR = "sponsor", _("Sponsor")

    class Scope(models.TextChoices):
        READ = "read", _("Read what the role may see")
        RECIPIENTS_WRITE = "recipients:write", _("Record and change recipients")
        ITEMS_WRITE = (
            "items:write",
            _("Issue, deliver and cancel cards and books; record hand-overs"),
        )

    # The roles a client of each organisation may have.
    ROLES = {
        Organisation.HEAD_OFFICE: {Role.NATIONAL_OFFICIAL},
        Organisation.PROVINCE_OFFICE: {Role.PROVINCIAL_STAFF},
        Organisation.SPONSOR: {Role.SPONSOR_VIEWER},
    }

    name = models.CharField(_("name"), max_length=150, unique=True)
    organisation = models.CharField(_("organisation"), max_length=20, choices=Organisation.choices)
    role = models.CharField(
        _("role"),
        max_length=50,
        choices=[
            (role.value, role.label)
            for role in (Role.NATIONAL_OFFICIAL, Role.PROVINCIAL_STAFF, Role.SPONSOR_VIEWER)
        ],
    )
    province = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("For a province office: the province (of today) it works for."),
    )
    sponsor = models.ForeignKey(
        Sponsor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("sponsor"),
    )
    scopes = ArrayField(
        models.CharField(max_length=30, choices=Scope.choices),
        verbose_name=_("scopes"),
        default=list,
        help_text=_("What the client may do, within what its role allows."),
    )
    allowed_networks = ArrayField(
        models.CharField(max_length=50, validators=[validate_network]),
        verbose_name=_("allowed IP addresses"),
        default=list,
        blank=True,
        help_text=_(
            "Addresses or ranges (such as 203.0.113.0/24) the client may call from, "
            "separated by commas. Empty: any address."
        ),
    )
    expires_on = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("After this day none of the client's keys is accepted. Empty: no end."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to refuse every key of this client at once.")
    )
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="api_client_organisation_fields",
                condition=(
                    Q(organisation="sponsor", sponsor__isnull=False, province__isnull=True)
                    | Q(
                        organisation="province_office", sponsor__isnull=True, province__isnull=False
                    )
                    | Q(organisation="head_office", sponsor__isnull=True, province__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        organisation = self.Organisation(self.organisation) if self.organisation else None
        if organisation and self.role and self.role not in self.ROLES[organisation]:
            errors["role"] = _("A client of this organisation cannot have this role.")
        if organisation == self.Organisation.SPONSOR and not self.sponsor_id:
            errors["sponsor"] = _("Choose the sponsor.")
        if organisation == self.Organisation.PROVINCE_OFFICE and not (
            self.province_id
            and self.province.level == UnitLevel.PROVINCE
            and timezone.localdate() in self.province.edition.in_force
        ):
            # Areas are today's, as for staff (accounts.UnitAssignment).
            errors["province"] = _("Choose a province of today's administrative units.")
        if organisation != self.Organisation.SPONSOR:
            self.sponsor = None
        if organisation != self.Organisation.PROVINCE_OFFICE:
            self.province = None
        if errors:
            raise ValidationError(errors)

    def allows_address(self, address: str | None) -> bool:
        """Return whether a request from ``address`` may use this client's keys."""
        if not self.allowed_networks:
            return True
        if not address:
            return False
        ip = ipaddress.ip_address(address)
        return any(
            ip in ipaddress.ip_network(network, strict=False) for network in self.allowed_networks
        )

    @property
    def has_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


class ApiKey(AbstractAPIKey):
    """A secret of a client: stored hashed (SHA-512), shown once, revocable, rotatable."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="keys", verbose_name=_("API client")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(
        _("last used from (IP address)"), null=True, blank=True, editable=False
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")


class IdempotentResponse(models.Model):
    """What a POST with an ``Idempotency-Key`` answered, replayed to the same key for a day."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_response_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
