import django_filters
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.scope import scoped
from api.conditional import (
    ConditionalRetrieveMixin,
    created_response,
    etag_of,
    if_match_check,
)
from api.filters import FilterSet
from api.models import ApiClient
from api.pagination import IdCursorPagination
from api.views import ApiViewMixin
from beneficiaries.api.filters import BeneficiaryFilter
from beneficiaries.api.views import BeneficiaryViewSet
from reference.models import UnitLevel
from reference.selectors import unit_id_today
from sponsors.models import Sponsor

from ..models import Handover, Item, Plan, Pledge, Quota
from ..selectors import holding, plan_stats, sponsor_stats
from ..services import item_cancel, item_confirm, item_deliver
from .serializers import (
    HandoverSerializer,
    ItemCancelSerializer,
    ItemConfirmSerializer,
    ItemDeliverSerializer,
    ItemIssueSerializer,
    ItemSerializer,
    PlanSerializer,
    PledgeSerializer,
    QuotaSerializer,
)


class RecipientFilter(BeneficiaryFilter):
    """The recipients' filters, with what they received (known here, above beneficiaries)."""

    plan = django_filters.NumberFilter(
        method="filter_plan", help_text=_("Recipients holding a card or book of this plan.")
    )
    has_card = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_card",
        help_text=_("Recipients holding (true) or not holding (false) a health-insurance card."),
    )

    def filter_plan(self, queryset, name, value):
        return queryset.filter(holding(plan_id=value))

    def filter_has_card(self, queryset, name, value):
        card = holding(kind=Item.Kind.CARD)
        return queryset.filter(card if value == "true" else ~card)


class RecipientViewSet(BeneficiaryViewSet):
    filterset_class = RecipientFilter


class PlanViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """National plans (the same for everyone)."""

    serializer_class = PlanSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return Plan.objects.order_by("-signed_on", "pk")


class QuotaViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Quotas of cards and books per unit and plan, within the caller's areas."""

    serializer_class = QuotaSerializer
    filterset_fields = ["plan", "unit", "parent"]

    def get_queryset(self):
        return scoped(Quota.objects.select_related("unit"), self.request.user).order_by(
            "plan_id", "unit__code", "pk"
        )


class PledgeViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Sponsors' pledges (a sponsor sees its own)."""

    serializer_class = PledgeSerializer
    filterset_fields = ["plan", "sponsor"]

    def get_queryset(self):
        return scoped(Pledge.objects.all(), self.request.user).order_by("plan_id", "pk")


class HandoverViewSet(
    ApiViewMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Hand-over ceremonies in the caller's areas."""

    serializer_class = HandoverSerializer
    filterset_fields = ["plan", "status", "held_on"]
    write_scope = ApiClient.Scope.ITEMS_WRITE

    def get_queryset(self):
        return scoped(
            Handover.objects.prefetch_related("sponsors_present"), self.request.user
        ).order_by("-held_on", "pk")


class ItemFilter(FilterSet):
    province = django_filters.CharFilter(
        method="in_province", help_text=_("Code of a province of today (2 digits).")
    )

    class Meta:
        model = Item
        fields = ["plan", "kind", "status", "beneficiary", "quota", "pledge", "handover"]

    def in_province(self, queryset, name, value):
        province = unit_id_today(code=value, level=UnitLevel.PROVINCE)
        return queryset.filter(province_id=province) if province else queryset.none()


_ITEM_ACTION = {
    "request": None,
    "responses": ItemSerializer,
    "parameters": [
        OpenApiParameter(
            "If-Match",
            str,
            OpenApiParameter.HEADER,
            description="Optional: the item's ETag; 412 if it has changed since.",
        )
    ],
}


class ItemViewSet(
    ApiViewMixin,
    ConditionalRetrieveMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cards and books: issue (create), confirm, deliver, cancel; each through the services.

    Issuing against a quota or pledge with no place left is a 409 (``quota_exhausted``).
    """

    filterset_class = ItemFilter
    pagination_class = IdCursorPagination
    write_scope = ApiClient.Scope.ITEMS_WRITE
    required_permissions = {
        name: ["distributions.change_item"] for name in ("deliver", "cancel", "confirm")
    }

    def get_queryset(self):
        return scoped(Item.objects.select_related("pledge"), self.request.user)

    def get_serializer_class(self):
        return {
            "create": ItemIssueSerializer,
            "deliver": ItemDeliverSerializer,
            "cancel": ItemCancelSerializer,
            "confirm": ItemConfirmSerializer,
        }.get(self.action, ItemSerializer)

    @extend_schema(request=ItemIssueSerializer, responses={201: ItemSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = serializer.save()
        return created_response(request, item, ItemSerializer(item).data)

    def _act(self, request, service, arguments) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            item = Item.objects.select_for_update().get(pk=self.get_object().pk)
            if_match_check(request, item, required=False)
            item = service(item=item, **arguments(serializer.validated_data), actor=request.user)
        return Response(ItemSerializer(item).data, headers={"ETag": etag_of(item)})

    @extend_schema(**{**_ITEM_ACTION, "request": ItemDeliverSerializer})
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self._act(
            request,
            item_deliver,
            lambda data: {
                "delivered_on": data["delivered_on"],
                "method": data["method"],
                "delivered_by": data.get("delivered_by", ""),
                "handover": data.get("handover"),
            },
        )

    @extend_schema(**{**_ITEM_ACTION, "request": ItemCancelSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(
            request,
            item_cancel,
            lambda data: {"reason": data["reason"], "returned": data["returned"]},
        )

    @extend_schema(**{**_ITEM_ACTION, "request": ItemConfirmSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._act(
            request,
            item_confirm,
            lambda data: {"issued_on": data["issued_on"], "number": data.get("number", "")},
        )


_FIGURES = inline_serializer(
    "KindFigures",
    {
        "target": serializers.IntegerField(allow_null=True),
        "allocated": serializers.IntegerField(),
        "issued": serializers.IntegerField(),
        "delivered": serializers.IntegerField(),
        "value": serializers.IntegerField(),
    },
)
_UNIT_FIGURES = inline_serializer(
    "UnitKindFigures",
    {
        name: serializers.IntegerField()
        for name in ("quota", "split", "issued", "delivered", "value", "delivered_value")
    },
)
_REF = inline_serializer(
    "UnitRef",
    {
        "id": serializers.IntegerField(),
        "code": serializers.CharField(),
        "name": serializers.CharField(),
    },
)


class PlanStatsViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A plan's figures in the caller's areas: totals and one row per quota."""

    required_permissions = {"retrieve": ["distributions.view_plan", "distributions.view_quota"]}
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Plan.objects.all()

    @extend_schema(
        responses=inline_serializer(
            "PlanStats",
            {
                "plan": inline_serializer(
                    "PlanRef", {"id": serializers.IntegerField(), "number": serializers.CharField()}
                ),
                "totals": inline_serializer("PlanTotals", {"cards": _FIGURES, "books": _FIGURES}),
                "units": inline_serializer(
                    "PlanUnitRow",
                    {
                        "unit": _REF,
                        "parent_unit": serializers.CharField(allow_null=True),
                        "cards": _UNIT_FIGURES,
                        "books": _UNIT_FIGURES,
                    },
                    many=True,
                ),
            },
        )
    )
    def retrieve(self, request, pk=None):
        plan = self.get_object()
        return Response(plan_stats(plan, scoped(Quota.objects.all(), request.user)))


class SponsorStatsViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """What a sponsor's pledges promised and paid for, by province (a sponsor: its own)."""

    required_permissions = {"retrieve": ["sponsors.view_sponsor", "distributions.view_pledge"]}
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return scoped(Sponsor.objects.all(), self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("plan", int, description="Only this plan's pledges.")],
        responses=inline_serializer(
            "SponsorStats",
            {
                "sponsor": inline_serializer(
                    "SponsorRef",
                    {
                        "id": serializers.IntegerField(),
                        "short_name": serializers.CharField(),
                        "name": serializers.CharField(),
                    },
                ),
                "totals": serializers.DictField(child=serializers.IntegerField()),
                "pledges": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def retrieve(self, request, pk=None):
        sponsor = self.get_object()
        pledges = scoped(Pledge.objects.all(), request.user)
        plan = request.query_params.get("plan")
        if plan is not None:
            plan_field = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
            try:
                pledges = pledges.filter(plan_id=plan_field.to_internal_value(plan))
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"plan": error.detail}) from error
        items = scoped(Item.objects.all(), request.user)
        return Response(sponsor_stats(sponsor, pledges, items))
