from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from api.fields import ModelSerializer
from reference.models import AdminUnit

from ..access import SENSITIVE_FIELDS, sees_personal_data
from ..models import Beneficiary, current_communes, masked_personal_id
from ..services import beneficiary_save

# Shown only to a caller allowed to see personal data (as in the admin).
_PERSONAL_FIELDS = ["personal_id_masked", "social_insurance_number_masked", *SENSITIVE_FIELDS]


class CurrentCommuneField(serializers.SlugRelatedField):
    """A commune by its code among today's: the date is read per request, not at start-up."""

    def get_queryset(self):
        return super().get_queryset().filter(current_communes())


class PersonalDataMixin:
    """Leave out what a caller without the personal-data permission may not see (as the admin)."""

    def to_representation(self, person):
        data = super().to_representation(person)
        request = self.context.get("request")
        if request is not None and not sees_personal_data(request.user):
            for name in _PERSONAL_FIELDS:
                data.pop(name, None)
        return data


# Read from the row in get_attribute: DRF answers null for a None value without asking
# to_representation, and these answer "" and false.
class MaskedIdField(serializers.CharField):
    def get_attribute(self, instance):
        return masked_personal_id(super().get_attribute(instance))


class IsSetField(serializers.BooleanField):
    def get_attribute(self, instance):
        return super().get_attribute(instance) is not None


class BeneficiarySummarySerializer(PersonalDataMixin, serializers.Serializer):
    """A recipient in a list: enough to recognise them; the detail has the rest.

    Read from ``VALUES`` rows (no model instances): a page of 50 costs a few
    milliseconds, for partners walking millions of recipients.
    """

    VALUES = [
        "id",
        "full_name",
        "birth_year",
        "sex",
        "personal_id",
        "commune__code",
        "province__code",
        "category",
        "anonymised_at",
        "updated_at",
    ]

    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    birth_year = serializers.IntegerField(read_only=True)
    sex = serializers.ChoiceField(choices=Beneficiary.Sex.choices, read_only=True)
    personal_id_masked = MaskedIdField(source="personal_id", read_only=True)
    commune = serializers.CharField(source="commune__code", read_only=True)
    province = serializers.CharField(source="province__code", read_only=True)
    category = serializers.ChoiceField(choices=Beneficiary.Category.choices, read_only=True)
    anonymised = IsSetField(source="anonymised_at", read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class BeneficiarySerializer(PersonalDataMixin, ModelSerializer):
    """A recipient: full ID and SI numbers are written, never read back (masked instead)."""

    commune = CurrentCommuneField(
        slug_field="code",
        queryset=AdminUnit.objects.all(),
        help_text=_("The 5-digit code of the commune of today's units."),
    )
    commune_name = serializers.CharField(source="commune.name", read_only=True)
    province = serializers.CharField(source="province.code", read_only=True)
    personal_id_masked = serializers.CharField(source="masked_personal_id", read_only=True)
    social_insurance_number_masked = serializers.CharField(
        source="masked_social_insurance_number", read_only=True
    )
    anonymised = serializers.BooleanField(source="is_anonymised", read_only=True)
    possible_duplicates = serializers.SerializerMethodField(
        help_text=_("After a write: other recipients with the same name, birth and commune.")
    )

    class Meta:
        model = Beneficiary
        fields = [
            "id",
            "full_name",
            "birth_date",
            "birth_year",
            "sex",
            "ethnic_group",
            "personal_id",
            "personal_id_masked",
            "social_insurance_number",
            "social_insurance_number_masked",
            "phone",
            "commune",
            "commune_name",
            "province",
            "address_line",
            "category",
            "household_key",
            "consent_on",
            "consent_method",
            "notes",
            "anonymised",
            "created_at",
            "updated_at",
            "possible_duplicates",
        ]
        extra_kwargs = {
            "personal_id": {"write_only": True},
            "social_insurance_number": {"write_only": True},
            "birth_year": {"required": False},
        }
        # The model's rules (uniqueness included) run once, in the service.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        for name in ("personal_id", "social_insurance_number"):
            # Unique: checked by the service's full_clean, with the same message.
            fields[name].validators = [
                v for v in fields[name].validators if not isinstance(v, UniqueValidator)
            ]
        return fields

    def get_possible_duplicates(self, person: Beneficiary) -> list[int]:
        return [other.pk for other in getattr(person, "possible_duplicates", [])]

    def create(self, validated_data):
        return self._save(Beneficiary(**validated_data))

    def update(self, person, validated_data):
        for name, value in validated_data.items():
            setattr(person, name, value)
        return self._save(person)

    def _save(self, person: Beneficiary) -> Beneficiary:
        person, duplicates = beneficiary_save(
            beneficiary=person, actor=self.context["request"].user
        )
        person.possible_duplicates = duplicates
        return person


class BulkCreateSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=1000,
        help_text=_("Up to 1,000 recipients, each in the same form as when creating one."),
    )


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The item's position in the request, from 0."))
    status = serializers.ChoiceField(choices=["created", "existing", "rejected"])
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(required=False)


class BulkResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BulkResultSerializer(many=True)
