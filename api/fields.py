import copy

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


_BUILT_FIELDS: dict[type, dict] = {}


class ModelSerializer(serializers.ModelSerializer):
    """The API's model serializers: their dates are bounded, their fields built once.

    DRF builds a model serializer's fields from the model for every instance (a
    third of a detail request's time); they depend only on the class, so each
    instance gets new fields made with the first one's arguments (as DRF's own
    copy does, without deep-copying validators and querysets, which no field changes).
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
    }

    def get_fields(self):
        built = _BUILT_FIELDS.get(type(self))
        if built is None:
            built = _BUILT_FIELDS[type(self)] = super().get_fields()
        return {name: _renewed(field) for name, field in built.items()}


def _renewed(field: serializers.Field) -> serializers.Field:
    # A field holding another (a list of related records) binds it: that one is copied.
    if any(isinstance(value, serializers.Field) for value in field._kwargs.values()):
        return copy.deepcopy(field)
    return type(field)(*field._args, **field._kwargs)
