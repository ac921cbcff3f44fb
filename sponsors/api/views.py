from rest_framework import serializers, viewsets

from accounts.scope import scoped
from api.views import ApiViewMixin

from ..models import Sponsor


class SponsorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sponsor
        fields = ["id", "short_name", "name_vi", "name_en", "kind", "tax_code", "address"]


class SponsorViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Banks, insurers, the post and others who pay for cards and books (a sponsor: itself)."""

    serializer_class = SponsorSerializer
    filterset_fields = ["kind"]

    def get_queryset(self):
        return scoped(Sponsor.objects.order_by("short_name", "pk"), self.request.user)
