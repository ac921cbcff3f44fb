from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from accounts.scope import scoped
from api.conditional import ConditionalMixin, created_response
from api.models import ApiClient
from api.pagination import IdCursorPagination
from api.views import ApiViewMixin
from reference.models import AdminUnit

from ..access import PERSONAL_DATA
from ..models import Beneficiary
from ..services import beneficiaries_create
from .filters import BeneficiaryFilter
from .serializers import (
    BeneficiarySerializer,
    BeneficiarySummarySerializer,
    BulkCreateSerializer,
    BulkResponseSerializer,
)

_UNIT_COLUMNS_NOT_SHOWN = [
    f"{unit}__{field.name}"
    for unit in ("commune", "province")
    for field in AdminUnit._meta.concrete_fields
    if field.name not in {"id", "code", "name"}
]


class BeneficiaryViewSet(
    ApiViewMixin,
    ConditionalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Recipients in the caller's areas: read, record, change (with If-Match), bulk create."""

    filterset_class = BeneficiaryFilter
    pagination_class = IdCursorPagination
    write_scope = ApiClient.Scope.RECIPIENTS_WRITE
    # A recipient is written with their hardship category, a sensitive field (as in the admin).
    required_permissions = {
        action: [f"beneficiaries.{change}_beneficiary", PERSONAL_DATA]
        for action, change in (
            ("create", "add"),
            ("bulk_create", "add"),
            ("update", "change"),
            ("partial_update", "change"),
        )
    }

    def get_queryset(self):
        # Of the units, only what the serializer shows: a quicker query to build.
        people = Beneficiary.objects.select_related("commune", "province").defer(
            *_UNIT_COLUMNS_NOT_SHOWN
        )
        return scoped(people, self.request.user)

    def get_serializer_class(self):
        return BeneficiarySummarySerializer if self.action == "list" else BeneficiarySerializer

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset()).values(
            *BeneficiarySummarySerializer.VALUES
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = serializer.save()
        return created_response(request, person, serializer.data)

    @extend_schema(
        request=BulkCreateSerializer,
        responses=BulkResponseSerializer,
        summary=_("Record up to 1,000 recipients"),
        description=_(
            "Each item is checked as a single create. Its result says created (with the new "
            "id), existing (a recipient with the same ID or social-insurance number is already "
            "recorded: its id) or rejected (with the errors). A rejected item does not stop the "
            "others being recorded."
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk_create(self, request):
        envelope = BulkCreateSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        items = envelope.validated_data["items"]
        results: list[dict] = [{} for _item in items]
        people, positions = [], []
        for index, item in enumerate(items):
            serializer = self.get_serializer(data=item)
            if serializer.is_valid():
                people.append(Beneficiary(**serializer.validated_data))
                positions.append(index)
            else:
                results[index] = {"status": "rejected", "id": None, "errors": serializer.errors}
        outcomes = beneficiaries_create(people=people, actor=request.user)
        for index, outcome in zip(positions, outcomes, strict=True):
            results[index] = {
                "status": outcome.status,
                "id": outcome.beneficiary.pk if outcome.beneficiary else None,
            }
            if outcome.error is not None:
                results[index]["errors"] = as_serializer_error(outcome.error)
        for index, result in enumerate(results):
            result["index"] = index
        counts = {
            kind: sum(r["status"] == kind for r in results)
            for kind in ("created", "existing", "rejected")
        }
        return Response({**counts, "results": results})
