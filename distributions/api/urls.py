from rest_framework.routers import SimpleRouter

from .views import (
    HandoverViewSet,
    ItemViewSet,
    PlanStatsViewSet,
    PlanViewSet,
    PledgeViewSet,
    QuotaViewSet,
    RecipientViewSet,
    SponsorStatsViewSet,
)

router = SimpleRouter()
# The recipients' endpoint is registered here, where what they received is known.
router.register("beneficiaries", RecipientViewSet, basename="beneficiary")
router.register("plans", PlanViewSet, basename="plan")
router.register("quotas", QuotaViewSet, basename="quota")
router.register("pledges", PledgeViewSet, basename="pledge")
router.register("handovers", HandoverViewSet, basename="handover")
router.register("items", ItemViewSet, basename="item")
router.register("stats/plans", PlanStatsViewSet, basename="plan-stats")
router.register("stats/sponsors", SponsorStatsViewSet, basename="sponsor-stats")
urlpatterns = router.urls
