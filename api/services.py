"""API clients and their keys: every write, from the admin and from commands."""

import datetime
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import UnitAssignment, User
from accounts.roles import Role
from reference.models import AdminUnit
from sponsors.models import Sponsor

from .authentication import forget_keys
from .models import ApiClient, ApiKey, IdempotentResponse


def _user_sync(client: ApiClient) -> None:
    """Give the client's user the client's role, province and sponsor (and nothing else)."""
    user = client.user
    user.sponsor = client.sponsor
    user.is_active = client.is_active
    user.save(update_fields=["sponsor", "is_active"])
    user.groups.set([Group.objects.get(name=client.role)])
    user.assignments.exclude(unit=client.province).delete()
    if client.province is not None:
        UnitAssignment.objects.get_or_create(user=user, unit=client.province)


@transaction.atomic
def api_client_save(*, client: ApiClient, actor: User | None) -> ApiClient:
    """Validate and save a client; its user is created the first time and kept in step."""
    if client.pk is None:
        client.created_by = actor
        user = User(username=f"api-client-{uuid.uuid4().hex[:12]}", is_staff=False)
        # Nobody signs in as a client: its keys are its only credentials.
        user.set_unusable_password()
        user.save()
        client.user = user
    client.full_clean(exclude=["user"])
    client.save()
    _user_sync(client)
    forget_keys(list(client.keys.values_list("prefix", flat=True)))
    return client


def api_client_create(
    *,
    name: str,
    organisation: str,
    role: Role | str,
    scopes: Iterable[str],
    province: AdminUnit | None = None,
    sponsor: Sponsor | None = None,
    allowed_networks: Iterable[str] = (),
    expires_on: datetime.date | None = None,
    actor: User | None,
) -> ApiClient:
    """Create a client (without a key: see ``api_key_issue``)."""
    client = ApiClient(
        name=name,
        organisation=organisation,
        role=Role(role).value,
        scopes=list(scopes),
        province=province,
        sponsor=sponsor,
        allowed_networks=list(allowed_networks),
        expires_on=expires_on,
    )
    return api_client_save(client=client, actor=actor)


@transaction.atomic
def api_key_issue(
    *,
    client: ApiClient,
    name: str = "",
    expires_at: datetime.datetime | None = None,
    actor: User | None,
) -> tuple[ApiKey, str]:
    """Return a new key of ``client`` and its secret, which is stored only hashed."""
    return ApiKey.objects.create_key(
        client=client,
        name=(name or f"{client.name} {timezone.localdate():%d/%m/%Y}")[:50],
        expiry_date=expires_at,
    )


@transaction.atomic
def api_key_rotate(
    *, key: ApiKey, overlap: datetime.timedelta = datetime.timedelta(0), actor: User | None
) -> tuple[ApiKey, str]:
    """Issue a replacement for ``key``; the old key stops working after ``overlap``.

    With an overlap, the partner can deploy the new key before the old one ends.
    """
    old = ApiKey.objects.select_for_update().get(pk=key.pk)
    ends_at = old.expiry_date  # the replacement ends when the old one was to end
    if overlap:
        ends = timezone.now() + overlap
        if old.expiry_date is None or old.expiry_date > ends:
            old.expiry_date = ends
    else:
        old.revoked = True
    old.save()
    forget_keys([old.prefix])
    return api_key_issue(client=old.client, name=old.name, expires_at=ends_at, actor=actor)


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User | None) -> ApiKey:
    """Refuse ``key`` from now on, for good."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    key.revoked = True
    key.save()
    forget_keys([key.prefix])
    return key


def idempotent_responses_prune() -> int:
    """Delete the stored responses no retry can get any more; return how many."""
    expired = IdempotentResponse.objects.filter(
        created_at__lt=timezone.now() - settings.IDEMPOTENCY_TTL
    )
    return expired.delete()[0]
