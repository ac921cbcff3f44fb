from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.fields import BoundedDateField, ModelSerializer, ScopedPrimaryKeyRelatedField
from beneficiaries.models import Beneficiary
from reference.models import AdminUnit
from sponsors.models import Sponsor

from ..models import Handover, Item, Plan, Pledge, Quota
from ..services import handover_save, item_details, item_issue


class PlanSerializer(ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "number",
            "title",
            "issuing_body",
            "signed_on",
            "signed_by",
            "starts_on",
            "ends_on",
            "target_cards",
            "target_books",
            "cards_allocated",
            "books_allocated",
            "status",
        ]


class QuotaSerializer(ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    cards_available = serializers.IntegerField(read_only=True)
    books_available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Quota
        fields = [
            "id",
            "plan",
            "unit",
            "unit_code",
            "unit_name",
            "parent",
            "cards",
            "books",
            "cards_split",
            "books_split",
            "cards_used",
            "books_used",
            "cards_delivered",
            "books_delivered",
            "cards_available",
            "books_available",
        ]


class PledgeSerializer(ModelSerializer):
    class Meta:
        model = Pledge
        fields = [
            "id",
            "sponsor",
            "plan",
            "unit",
            "cards",
            "books",
            "amount_pledged",
            "amount_received",
            "pledged_on",
            "received_on",
            "cards_funded",
            "books_funded",
            "value_funded",
        ]


class HandoverSerializer(ModelSerializer):
    place = ScopedPrimaryKeyRelatedField(queryset=AdminUnit.objects.all())
    sponsors_present = serializers.PrimaryKeyRelatedField(
        queryset=Sponsor.objects.all(), many=True, required=False
    )

    class Meta:
        model = Handover
        fields = [
            "id",
            "plan",
            "held_on",
            "place",
            "title",
            "officials_present",
            "sponsors_present",
            "status",
            "notes",
        ]

    def create(self, validated_data):
        sponsors = validated_data.pop("sponsors_present", [])
        return handover_save(
            handover=Handover(**validated_data),
            sponsors=sponsors,
            actor=self.context["request"].user,
        )


class ItemSerializer(ModelSerializer):
    sponsor = serializers.IntegerField(source="pledge.sponsor_id", read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "kind",
            "status",
            "plan",
            "beneficiary",
            "quota",
            "pledge",
            "sponsor",
            "handover",
            "number",
            "issued_on",
            "value",
            "benefit_level",
            "participant_group",
            "living_area",
            "primary_care_code",
            "primary_care_name",
            "valid_from",
            "valid_until",
            "months_paid",
            "income_base",
            "delivered_on",
            "delivery_method",
            "delivered_by",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        # DRF drops allow_blank from read-only fields: the schema then refused the "" of a
        # card with no living area or of an item not delivered yet.
        for name in ("living_area", "delivery_method"):
            fields[name].allow_blank = True
        return fields


class ItemIssueSerializer(serializers.Serializer):
    """Issue a card (``valid_from`` required) or a book (``months_paid`` required)."""

    kind = serializers.ChoiceField(choices=Item.Kind.choices)
    beneficiary = ScopedPrimaryKeyRelatedField(queryset=Beneficiary.objects.all())
    quota = ScopedPrimaryKeyRelatedField(queryset=Quota.objects.all())
    pledge = ScopedPrimaryKeyRelatedField(queryset=Pledge.objects.all())
    handover = ScopedPrimaryKeyRelatedField(
        queryset=Handover.objects.all(), required=False, allow_null=True
    )
    issued_on = BoundedDateField()
    number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    reserved = serializers.BooleanField(
        default=False, help_text=_("Hold the place for a card or book not printed yet.")
    )
    valid_from = BoundedDateField(required=False)
    months = serializers.IntegerField(required=False, min_value=1, max_value=60, default=12)
    benefit_level = serializers.IntegerField(required=False, min_value=1, max_value=5, default=4)
    participant_group = serializers.CharField(required=False, max_length=2, default="GD")
    living_area = serializers.ChoiceField(
        choices=Item.LivingArea.choices, required=False, allow_blank=True, default=""
    )
    primary_care_code = serializers.CharField(
        required=False, allow_blank=True, max_length=5, default=""
    )
    primary_care_name = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default=""
    )
    months_paid = serializers.IntegerField(required=False, min_value=1, max_value=120)
    income_base = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10**12
    )

    def create(self, validated_data):
        details = item_details(
            kind=validated_data["kind"],
            **{
                name: validated_data[name]
                for name in (
                    "valid_from",
                    "months",
                    "benefit_level",
                    "participant_group",
                    "living_area",
                    "primary_care_code",
                    "primary_care_name",
                    "months_paid",
                    "income_base",
                )
                if name in validated_data
            },
        )
        return item_issue(
            beneficiary=validated_data["beneficiary"],
            quota=validated_data["quota"],
            pledge=validated_data["pledge"],
            details=details,
            issued_on=validated_data["issued_on"],
            number=validated_data.get("number", ""),
            handover=validated_data.get("handover"),
            reserved=validated_data["reserved"],
            actor=self.context["request"].user,
        )


class ItemDeliverSerializer(serializers.Serializer):
    delivered_on = BoundedDateField()
    method = serializers.ChoiceField(choices=Item.DeliveryMethod.choices)
    delivered_by = serializers.CharField(required=False, allow_blank=True, max_length=150)
    handover = ScopedPrimaryKeyRelatedField(
        queryset=Handover.objects.all(), required=False, allow_null=True
    )


class ItemCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    returned = serializers.BooleanField(
        default=False, help_text=_("The person gave back a delivered card or book.")
    )


class ItemConfirmSerializer(serializers.Serializer):
    issued_on = BoundedDateField()
    number = serializers.CharField(required=False, allow_blank=True, max_length=20)
