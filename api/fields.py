from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.scope import scoped


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id to a record the caller may see; others are "not found"."""

    def get_queryset(self):
        return scoped(super().get_queryset(), self.context["request"].user)


class BoundedDateField(serializers.DateField):
    """A date between 1900 and 2100: arithmetic on year 9999 (a card's last day) cannot fail."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not 1900 <= day.year <= 2100:
            raise serializers.ValidationError(_("Give a date between 1900 and 2100."))
        return day


class ModelSerializer(serializers.ModelSerializer):
    """The API's model serializers: their dates are bounded."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }
