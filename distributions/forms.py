"""Forms of the admin that write through the services."""

import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import scoped

from .models import Item, Quota
from .services import item_details, item_issue, quota_set


class QuotaForm(forms.ModelForm):
    """A quota line of a plan, saved by ``quota_set`` as soon as it is valid.

    The service runs inside the admin's transaction while the form is checked,
    so that a quota that does not fit shows up as an error on its line instead
    of failing later; ``save()`` then has nothing left to do.
    """

    class Meta:
        model = Quota
        fields = ["plan", "unit", "cards", "books"]

    def clean_unit(self):
        unit = self.cleaned_data["unit"]
        if self.instance.pk and unit != self.instance.unit:
            raise ValidationError(_("A quota keeps its unit: add a new line for another unit."))
        return unit

    def _post_clean(self):
        super()._post_clean()
        if self.errors or not self.has_changed():
            return
        try:
            with transaction.atomic():
                self.instance = quota_set(
                    plan=self.cleaned_data.get("plan") or self.instance.plan,
                    unit=self.cleaned_data.get("unit") or self.instance.unit,
                    cards=self.cleaned_data["cards"],
                    books=self.cleaned_data["books"],
                    actor=getattr(self, "actor", None),
                )
        except ValidationError as error:
            self.add_error(None, error)

    def save(self, commit=True):
        self.save_m2m = lambda: None  # a quota has no many-to-many fields
        return self.instance


def _autocomplete(field_name: str) -> AutocompleteSelect:
    return AutocompleteSelect(Item._meta.get_field(field_name), admin.site)


class IssueForm(forms.Form):
    """Issue one card or one book: the fields of ``item_issue``."""

    kind = forms.ChoiceField(label=_("kind"), choices=Item.Kind.choices)
    beneficiary = forms.ModelChoiceField(
        label=_("recipient"),
        queryset=Item._meta.get_field("beneficiary").related_model.objects.all(),
        widget=_autocomplete("beneficiary"),
    )
    quota = forms.ModelChoiceField(
        label=_("quota"),
        queryset=Quota.objects.select_related("plan", "unit"),
        widget=_autocomplete("quota"),
    )
    pledge = forms.ModelChoiceField(
        label=_("paid by pledge"),
        queryset=Item._meta.get_field("pledge").related_model.objects.select_related(
            "sponsor", "plan"
        ),
        widget=_autocomplete("pledge"),
    )
    handover = forms.ModelChoiceField(
        label=_("hand-over"),
        queryset=Item._meta.get_field("handover").related_model.objects.all(),
        required=False,
        widget=_autocomplete("handover"),
    )
    issued_on = forms.DateField(label=_("issued on"), widget=AdminDateWidget)
    number = forms.CharField(label=_("number"), max_length=20, required=False)
    reserved = forms.BooleanField(
        label=_("reserve only"),
        required=False,
        help_text=_("Hold the place for a card or book not printed yet."),
    )
    valid_from = forms.DateField(
        label=_("valid from"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Cards: the first day of cover; they last 12 months."),
    )
    benefit_level = forms.TypedChoiceField(
        label=_("benefit level"),
        choices=[(level, level) for level in range(1, 6)],
        coerce=int,
        initial=4,
    )
    participant_group = forms.CharField(label=_("participant group"), max_length=2, initial="GD")
    living_area = forms.ChoiceField(
        label=_("living area"), choices=[("", "—"), *Item.LivingArea.choices], required=False
    )
    primary_care_code = forms.RegexField(
        label=_("primary-care facility code"),
        regex=r"^[0-9]{5}$",
        required=False,
        error_messages={"invalid": _("Five digits: the province code and a serial.")},
    )
    primary_care_name = forms.CharField(
        label=_("primary-care facility"), max_length=255, required=False
    )
    months_paid = forms.IntegerField(
        label=_("months paid"), min_value=1, max_value=120, required=False, initial=12
    )
    income_base = forms.IntegerField(
        label=_("monthly income base (VND)"),
        min_value=0,
        required=False,
        help_text=_("Books: leave empty for the lowest income allowed on the day."),
    )

    SECTIONS = [
        (
            None,
            [
                "kind",
                "beneficiary",
                "quota",
                "pledge",
                "handover",
                "issued_on",
                "number",
                "reserved",
            ],
        ),
        (
            _("Health-insurance card"),
            [
                "valid_from",
                "benefit_level",
                "participant_group",
                "living_area",
                "primary_care_code",
                "primary_care_name",
            ],
        ),
        (_("Social-insurance book"), ["months_paid", "income_base"]),
    ]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.item: Item | None = None
        self.fields["issued_on"].initial = timezone.localdate()
        for name in ["beneficiary", "quota", "pledge", "handover"]:
            self.fields[name].queryset = scoped(self.fields[name].queryset, actor)

    def sections(self):
        """Return (title, bound fields) for each part of the form page."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            details = item_details(
                kind=cleaned["kind"],
                # Empty: the card starts on the day it is issued.
                valid_from=cleaned["valid_from"] or cleaned["issued_on"],
                **{
                    name: cleaned[name]
                    for name in (
                        "benefit_level",
                        "participant_group",
                        "living_area",
                        "primary_care_code",
                        "primary_care_name",
                        "months_paid",
                        "income_base",
                    )
                },
            )
        except ValidationError as error:
            self.add_error(None, error)
            return cleaned
        try:
            with transaction.atomic():
                self.item = item_issue(
                    beneficiary=cleaned["beneficiary"],
                    quota=cleaned["quota"],
                    pledge=cleaned["pledge"],
                    details=details,
                    issued_on=cleaned["issued_on"],
                    number=cleaned["number"],
                    handover=cleaned["handover"],
                    reserved=cleaned["reserved"],
                    actor=self.actor,
                )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class ConfirmForm(forms.Form):
    issued_on = forms.DateField(label=_("issued on"), widget=AdminDateWidget)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issued_on"].initial = timezone.localdate()


class DeliverForm(forms.Form):
    delivered_on = forms.DateField(label=_("delivered on"), widget=AdminDateWidget)
    method = forms.ChoiceField(label=_("delivered how"), choices=Item.DeliveryMethod.choices)
    delivered_by = forms.CharField(label=_("delivered by"), max_length=150, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = timezone.localdate()

    def clean_delivered_on(self) -> datetime.date:
        day = self.cleaned_data["delivered_on"]
        if day > timezone.localdate():
            raise ValidationError(_("The delivery date cannot be in the future."))
        return day


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))
    returned = forms.BooleanField(
        label=_("the person gave it back"),
        required=False,
        help_text=_("Tick for a delivered item that came back; leave empty to cancel."),
    )
