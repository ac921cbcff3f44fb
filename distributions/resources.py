"""Export of cards and books (django-import-export): a report, in the user's language."""

from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.fields import Field
from import_export.widgets import DateWidget

from .models import Item

_DAY = DateWidget(format="%d/%m/%Y")


class ItemExportResource(resources.ModelResource):
    """One row per card or book: who, where, what, paid by whom, handed over when.

    ID numbers are masked, as in the lists.  Everything comes in the one query
    that reads the items (joins), in chunks.
    """

    recipient = Field(attribute="beneficiary__full_name", column_name=_("Recipient"))
    personal_id = Field(attribute="beneficiary__masked_personal_id", column_name=_("Personal ID"))
    commune = Field(attribute="beneficiary__commune__name", column_name=_("Commune"))
    kind = Field(attribute="get_kind_display", column_name=_("Kind"))
    number = Field(attribute="number", column_name=_("Card or book number"))
    quota_area = Field(attribute="quota__unit__name", column_name=_("Quota area"))
    plan = Field(attribute="plan__number", column_name=_("Plan"))
    pledge = Field(attribute="pledge", column_name=_("Pledge"))
    sponsor = Field(column_name=_("Sponsor"))
    handover_date = Field(
        attribute="handover__held_on", column_name=_("Hand-over date"), widget=_DAY
    )
    handover_place = Field(attribute="handover__place__full_path", column_name=_("Hand-over place"))
    status = Field(attribute="get_status_display", column_name=_("Status"))
    value = Field(column_name=_("Value (VND)"))
    issued_on = Field(attribute="issued_on", column_name=_("Issued on"), widget=_DAY)
    delivered_on = Field(attribute="delivered_on", column_name=_("Delivered on"), widget=_DAY)

    class Meta:
        model = Item
        fields = (
            "recipient",
            "personal_id",
            "commune",
            "kind",
            "number",
            "quota_area",
            "plan",
            "pledge",
            "sponsor",
            "handover_date",
            "handover_place",
            "status",
            "value",
            "issued_on",
            "delivered_on",
        )
        export_order = fields
        chunk_size = 2000

    def before_export(self, queryset, **kwargs):
        self._english = (get_language() or "").startswith("en")

    def filter_export(self, queryset, **kwargs):
        # The place's parents too, so that its full path costs nothing.
        return queryset.select_related(
            "beneficiary__commune",
            "quota__unit",
            "plan",
            "pledge__plan",
            "pledge__sponsor",
            "handover__place__parent__parent",
        )

    def after_export(self, queryset, dataset, **kwargs):
        dataset.title = capfirst(Item._meta.verbose_name_plural)

    def dehydrate_sponsor(self, item: Item) -> str:
        sponsor = item.pledge.sponsor
        return sponsor.name_en if self._english and sponsor.name_en else sponsor.name_vi

    def dehydrate_value(self, item: Item) -> int:
        return item.value
