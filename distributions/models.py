import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from beneficiaries.models import Beneficiary
from reference.models import AdminUnit
from reference.selectors import edition_in_force_on
from sponsors.models import Sponsor


def scope_province(null: bool = False) -> models.ForeignKey:
    """Return the field for the province of today that a record's area lies in.

    Indexed: access is scoped by it (accounts.scope), even for records whose
    units belong to an older edition.
    """
    return models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", editable=False, null=null
    )


class Plan(models.Model):
    """A plan that organises the programme, such as 4033/KH-BHXH of 29 Nov 2023."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        CLOSED = "closed", _("closed")

    number = models.CharField(_("number"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=500)
    issuing_body = models.CharField(
        _("issued by"), max_length=255, default="Bảo hiểm xã hội Việt Nam"
    )
    signed_on = models.DateField(_("signed on"))
    signed_by = models.CharField(_("signed by"), max_length=150, blank=True)
    starts_on = models.DateField(_("runs from"))
    ends_on = models.DateField(_("runs until"))
    target_cards = models.PositiveIntegerField(
        _("target: health-insurance cards"), null=True, blank=True
    )
    target_books = models.PositiveIntegerField(
        _("target: social-insurance books"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    notes = models.TextField(_("notes"), blank=True)
    scan = models.FileField(_("scanned document"), upload_to="plans/", blank=True)
    # Sums of the top-level quotas, kept by the quota services in the same
    # transaction, so that the targets hold in the database itself.
    cards_allocated = models.PositiveIntegerField(_("cards allocated"), default=0, editable=False)
    books_allocated = models.PositiveIntegerField(_("books allocated"), default=0, editable=False)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-signed_on", "number"]
        permissions = [("view_dashboards", _("Can see the dashboards"))]
        constraints = [
            models.CheckConstraint(
                name="plan_period_in_order",
                condition=Q(ends_on__gte=F("starts_on")),
                violation_error_message=_("The plan cannot end before it starts."),
            ),
            models.CheckConstraint(
                name="plan_cards_within_target",
                condition=Q(target_cards__isnull=True) | Q(cards_allocated__lte=F("target_cards")),
                violation_error_message=_("The quotas already give more cards than this target."),
            ),
            models.CheckConstraint(
                name="plan_books_within_target",
                condition=Q(target_books__isnull=True) | Q(books_allocated__lte=F("target_books")),
                violation_error_message=_("The quotas already give more books than this target."),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Quota(models.Model):
    """The cards and books a unit may give under a plan; part may be split to its sub-units."""

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="quotas", verbose_name=_("plan")
    )
    unit = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    province = scope_province()
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("split from"),
        editable=False,
    )
    cards = models.PositiveIntegerField(_("health-insurance cards"), default=0)
    books = models.PositiveIntegerField(_("social-insurance books"), default=0)
    # Kept by the services in the same transaction as the rows they count.
    cards_split = models.PositiveIntegerField(
        _("cards split to sub-units"), default=0, editable=False
    )
    books_split = models.PositiveIntegerField(
        _("books split to sub-units"), default=0, editable=False
    )
    cards_used = models.PositiveIntegerField(_("cards issued"), default=0, editable=False)
    books_used = models.PositiveIntegerField(_("books issued"), default=0, editable=False)
    cards_delivered = models.PositiveIntegerField(_("cards delivered"), default=0, editable=False)
    books_delivered = models.PositiveIntegerField(_("books delivered"), default=0, editable=False)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["plan", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "unit"],
                name="quota_once_per_unit",
                violation_error_message=_("This unit already has a quota under this plan."),
            ),
            models.CheckConstraint(
                name="quota_cards_not_overspent",
                condition=Q(cards__gte=F("cards_split") + F("cards_used")),
                violation_error_message=_(
                    "The quota cannot be lower than the cards already split or issued."
                ),
            ),
            models.CheckConstraint(
                name="quota_books_not_overspent",
                condition=Q(books__gte=F("books_split") + F("books_used")),
                violation_error_message=_(
                    "The quota cannot be lower than the books already split or issued."
                ),
            ),
            models.CheckConstraint(
                name="quota_delivered_within_issued",
                condition=Q(cards_delivered__lte=F("cards_used"))
                & Q(books_delivered__lte=F("books_used")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} – {self.unit}"

    @property
    def cards_available(self) -> int:
        return self.cards - self.cards_split - self.cards_used

    @property
    def books_available(self) -> int:
        return self.books - self.books_split - self.books_used


class Pledge(models.Model):
    """What a sponsor promised to pay for under a plan, and what it has paid."""

    sponsor = models.ForeignKey(
        Sponsor, on_delete=models.PROTECT, related_name="pledges", verbose_name=_("sponsor")
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="pledges", verbose_name=_("plan")
    )
    unit = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for the area"),
        help_text=_("Leave empty when the pledge may fund cards and books anywhere."),
    )
    province = scope_province(null=True)  # empty: a pledge for anywhere
    cards = models.PositiveIntegerField(_("health-insurance cards"), default=0)
    books = models.PositiveIntegerField(_("social-insurance books"), default=0)
    amount_pledged = models.PositiveBigIntegerField(_("amount pledged (VND)"), default=0)
    amount_received = models.PositiveBigIntegerField(_("amount received (VND)"), default=0)
    pledged_on = models.DateField(_("pledged on"))
    received_on = models.DateField(_("received on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Kept by the item services in the same transaction as the items.
    cards_funded = models.PositiveIntegerField(_("cards funded"), default=0, editable=False)
    books_funded = models.PositiveIntegerField(_("books funded"), default=0, editable=False)
    value_funded = models.PositiveBigIntegerField(
        _("value funded (VND)"), default=0, editable=False
    )

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["plan", "sponsor__short_name", "pk"]
        constraints = [
            models.CheckConstraint(
                name="pledge_cards_not_overspent",
                condition=Q(cards__gte=F("cards_funded")),
                violation_error_message=_(
                    "The pledge cannot promise fewer cards than it has already funded."
                ),
            ),
            models.CheckConstraint(
                name="pledge_books_not_overspent",
                condition=Q(books__gte=F("books_funded")),
                violation_error_message=_(
                    "The pledge cannot promise fewer books than it has already funded."
                ),
            ),
            models.CheckConstraint(
                name="pledge_received_with_date",
                condition=Q(amount_received=0) | Q(received_on__isnull=False),
                violation_error_message=_("Give the date the money was received."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor} – {self.plan}"

    def clean(self) -> None:
        if self.unit_id and self.plan_id:
            edition = edition_in_force_on(self.plan.signed_on)
            if self.unit.edition_id != edition.pk:
                raise ValidationError(
                    {
                        "unit": _(
                            "Choose a unit of the %(edition)s, in force when the plan was signed."
                        )
                        % {"edition": edition}
                    }
                )


class Handover(models.Model):
    """A hand-over ceremony (issuance batch), such as Hợp Thành on 16 Jan 2024."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CLOSED = "closed", _("closed")

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("plan")
    )
    held_on = models.DateField(_("date"))
    place = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("place"),
        help_text=_("The unit as it was on that date."),
    )
    province = scope_province()
    title = models.CharField(_("title"), max_length=500)
    officials_present = models.TextField(_("officials present"), blank=True)
    sponsors_present = models.ManyToManyField(
        Sponsor, blank=True, related_name="handovers", verbose_name=_("sponsors present")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-held_on", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on:%d/%m/%Y})"

    def clean(self) -> None:
        # The place is named as it was on the day: Hợp Thành of Thành phố Lào Cai in 2024.
        if self.place_id and self.held_on:
            edition = edition_in_force_on(self.held_on)
            if self.place.edition_id != edition.pk:
                raise ValidationError(
                    {
                        "place": _("On %(day)s the units in force were those of the %(edition)s.")
                        % {"day": self.held_on.strftime("%d/%m/%Y"), "edition": edition}
                    }
                )


# The key of ItemTally's rows, and the expressions that compute it from an item.
TALLY_KEY = {
    "plan_id": "plan_id",
    "province_id": "province_id",
    "quota_id": "quota_id",
    "pledge_id": "pledge_id",
    "kind": "kind",
    "status": "status",
    "issued_week": "date_trunc('week', issued_on)::date",
    "delivered_week": "date_trunc('week', delivered_on)::date",
}


def tally_rows_sql(items: str, sign: int = 1) -> str:
    """Return the SELECT of the tally's key, items and value for each row of ``items``."""
    key = ", ".join(f"{expression} AS {name}" for name, expression in TALLY_KEY.items())
    return f"SELECT {key}, {sign} AS items, {sign} * value AS value FROM {items}"


def _tally_sql(*changes: tuple[str, int]) -> str:
    """Return the SQL that adds each of ``changes`` (a transition table, +1 or -1) to the tally.

    Rows are summed in key order, so that concurrent statements lock the tally's
    rows in the same order; keys that net to nothing are not written.
    """
    keys = ", ".join(TALLY_KEY)
    rows = " UNION ALL ".join(tally_rows_sql(table, sign) for table, sign in changes)
    return f"""
        INSERT INTO distributions_itemtally ({keys}, items, value)
        SELECT {keys}, sum(items), sum(value) FROM ({rows}) AS changes
         GROUP BY {keys}
        HAVING sum(items) <> 0 OR sum(value) <> 0
         ORDER BY {keys}
        ON CONFLICT ({keys}) DO UPDATE
           SET items = distributions_itemtally.items + EXCLUDED.items,
               value = distributions_itemtally.value + EXCLUDED.value;
        RETURN NULL;
    """


class Item(models.Model):
    """One health-insurance card or one social-insurance book given to one person."""

    class Kind(models.TextChoices):
        CARD = "card", _("health-insurance card")
        BOOK = "book", _("social-insurance book")

    class Status(models.TextChoices):
        RESERVED = "reserved", _("reserved")
        ISSUED = "issued", _("issued")
        DELIVERED = "delivered", _("delivered")
        RETURNED = "returned", _("returned")
        CANCELLED = "cancelled", _("cancelled")

    class DeliveryMethod(models.TextChoices):
        CEREMONY = "ceremony", _("at the ceremony")
        PROVINCIAL_OFFICE = "provincial_office", _("by the provincial office")
        COMMUNE = "commune", _("by the commune")
        POST = "post", _("by post")

    class LivingArea(models.TextChoices):
        K1 = "K1", "K1"
        K2 = "K2", "K2"
        K3 = "K3", "K3"

    # The statuses that hold a place in a quota and a pledge.
    COUNTED = (Status.RESERVED, Status.ISSUED, Status.DELIVERED)
    # Counted but not yet in the person's hands.
    PENDING = (Status.RESERVED, Status.ISSUED)
    # Given back or withdrawn: they no longer hold a place.
    WITHDRAWN = (Status.RETURNED, Status.CANCELLED)

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="items", verbose_name=_("plan")
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="items", verbose_name=_("recipient")
    )
    quota = models.ForeignKey(
        Quota,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("quota"),
        db_index=False,  # item_quota_idx starts with it
    )
    pledge = models.ForeignKey(
        Pledge, on_delete=models.PROTECT, related_name="items", verbose_name=_("paid by pledge")
    )
    handover = models.ForeignKey(
        Handover,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("hand-over"),
        help_text=_("Empty when the item is delivered later."),
    )
    province = scope_province()
    # Where the recipient lives today, kept in step with the recipient by triggers
    # (below and on Beneficiary): the dashboards and the access rules read "the items
    # of a commune's people" from the items alone, without joining a million people.
    commune = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("commune of the recipient"),
    )
    number = models.CharField(
        _("number"), max_length=20, blank=True, help_text=_("Card code or book number.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    issued_on = models.DateField(_("issued on"))
    value = models.PositiveBigIntegerField(_("value (VND)"), default=0)
    # Health-insurance card
    benefit_level = models.PositiveSmallIntegerField(_("benefit level"), null=True, blank=True)
    participant_group = models.CharField(
        _("participant group"), max_length=2, blank=True, help_text=_("E.g. GD, HN, CN.")
    )
    living_area = models.CharField(
        _("living area"), max_length=2, choices=LivingArea.choices, blank=True
    )
    primary_care_code = models.CharField(_("primary-care facility code"), max_length=5, blank=True)
    primary_care_name = models.CharField(_("primary-care facility"), max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # Social-insurance book
    months_paid = models.PositiveSmallIntegerField(_("months paid"), null=True, blank=True)
    income_base = models.PositiveBigIntegerField(
        _("monthly income base (VND)"), null=True, blank=True
    )
    # Delivery, return or cancellation
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivered how"), max_length=20, choices=DeliveryMethod.choices, blank=True
    )
    delivered_by = models.CharField(_("delivered by"), max_length=150, blank=True)
    cancel_reason = models.TextField(_("reason for return or cancellation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("card or book")
        verbose_name_plural = _("cards and books")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "beneficiary", "kind"],
                condition=Q(status__in=["reserved", "issued", "delivered"]),
                name="item_one_of_a_kind_per_person_and_plan",
                violation_error_message=_(
                    "This person already has a card (or a book) of this kind under this plan."
                ),
            ),
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=~Q(number=""),
                name="item_number_unique",
                violation_error_message=_("Another card or book already has this number."),
            ),
            models.CheckConstraint(
                name="item_card_fields",
                condition=~Q(kind="card")
                | Q(
                    benefit_level__gte=1,
                    benefit_level__lte=5,
                    valid_from__isnull=False,
                    valid_until__gt=F("valid_from"),
                    months_paid__isnull=True,
                    income_base__isnull=True,
                ),
            ),
            models.CheckConstraint(
                name="item_book_fields",
                condition=~Q(kind="book")
                | Q(
                    months_paid__gte=1,
                    months_paid__lte=120,
                    income_base__gt=0,
                    benefit_level__isnull=True,
                    valid_from__isnull=True,
                ),
            ),
            models.CheckConstraint(
                name="item_delivery_recorded",
                condition=~Q(status="delivered")
                | (Q(delivered_on__isnull=False) & ~Q(delivery_method="")),
            ),
            models.CheckConstraint(
                name="item_cancellation_explained",
                condition=~Q(status__in=["returned", "cancelled"]) | ~Q(cancel_reason=""),
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "status", "kind"], name="item_plan_status_idx"),
            # The admin's list, newest first (Meta.ordering), a page at a time: the whole
            # country's, and a province's (the list of its staff, or filtered by province).
            models.Index(fields=["issued_on", "id"], name="item_issued_idx"),
            models.Index(fields=["province", "issued_on", "id"], name="item_province_issued_idx"),
            # An area's items by quota, read from the index alone (figures by commune).
            models.Index(
                fields=["quota"],
                include=["plan", "commune", "kind", "status", "value", "province", "pledge"],
                name="item_quota_idx",
            ),
            # The dashboards' late deliveries and expiring cards, read from the index alone.
            models.Index(
                fields=["plan", "issued_on"],
                include=["quota", "kind", "province", "pledge"],
                condition=Q(status__in=["reserved", "issued"]),
                name="item_pending_idx",
            ),
            models.Index(
                fields=["plan", "valid_until"],
                include=["quota", "province", "pledge"],
                condition=Q(kind="card", status__in=["reserved", "issued", "delivered"]),
                name="item_card_expiry_idx",
            ),
        ]
        triggers = [
            # Item.commune, copied from the recipient when an item is created or changes hands.
            pgtrigger.Trigger(
                name="commune_of_recipient",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("beneficiary_id"),
                # FOR SHARE: a move of the recipient not yet committed is waited for;
                # read before it, the move's own trigger could not see this new item.
                func=(
                    "NEW.commune_id := (SELECT commune_id FROM beneficiaries_beneficiary"
                    " WHERE id = NEW.beneficiary_id FOR SHARE); RETURN NEW;"
                ),
            ),
            # ItemTally, kept in step with every statement that writes items.
            pgtrigger.Trigger(
                name="tally_inserted",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_items"),
                func=_tally_sql(("new_items", 1)),
            ),
            pgtrigger.Trigger(
                name="tally_updated",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                referencing=pgtrigger.Referencing(old="old_items", new="new_items"),
                func=_tally_sql(("old_items", -1), ("new_items", 1)),
            ),
            pgtrigger.Trigger(
                name="tally_deleted",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Delete,
                referencing=pgtrigger.Referencing(old="old_items"),
                func=_tally_sql(("old_items", -1)),
            ),
            pgtrigger.Trigger(
                name="tally_emptied",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Truncate,
                # DELETE, not TRUNCATE: a TRUNCATE of both tables at once (a test flush)
                # would find the tally in use.
                func="DELETE FROM distributions_itemtally; RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.beneficiary.full_name}"

    @property
    def counted(self) -> bool:
        return self.status in self.COUNTED


class ItemTally(models.Model):
    """The cards and books counted by plan, area, quota, pledge, kind, status and weeks.

    Kept by statement-level triggers on the items, in the same transaction as
    the rows they count, whatever writes them (services, bulk loads, SQL), so
    that the dashboards sum a few thousand rows instead of a million items.
    A row is never deleted: a count that falls to 0 stays as 0.  Paths that
    write items with the triggers off (a bulk load in ``replica`` mode) call
    ``item_tally_rebuild`` after.
    """

    plan = models.ForeignKey(
        Plan, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    province = models.ForeignKey(
        AdminUnit,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    quota = models.ForeignKey(
        Quota, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    pledge = models.ForeignKey(
        Pledge, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=Item.Kind.choices)
    status = models.CharField(max_length=10, choices=Item.Status.choices)
    issued_week = models.DateField()  # its Monday
    delivered_week = models.DateField(null=True)
    # Plain integers: a statement may subtract before it adds.
    items = models.BigIntegerField()
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            # Also the index every dashboard reads the tally by (plan first).
            models.UniqueConstraint(
                fields=list(TALLY_KEY), name="item_tally_key", nulls_distinct=False
            ),
        ]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.quota_id}/{self.kind}/{self.status}: {self.items}"


# A recipient who moves takes their cards and books along (Item.commune).  Registered
# here, with the items it writes, rather than in the recipients' app.  One UPDATE per
# statement, whatever the number of people it moved (an import moves thousands).
pgtrigger.register(
    pgtrigger.Trigger(
        name="items_follow_commune",
        level=pgtrigger.Statement,
        when=pgtrigger.After,
        operation=pgtrigger.Update,
        referencing=pgtrigger.Referencing(old="old_people", new="new_people"),
        func="""
            UPDATE distributions_item AS item
               SET commune_id = moved.commune_id
              FROM new_people AS moved
              JOIN old_people AS before ON before.id = moved.id
             WHERE item.beneficiary_id = moved.id
               AND moved.commune_id IS DISTINCT FROM before.commune_id;
            RETURN NULL;
        """,
    )
)(Beneficiary)
