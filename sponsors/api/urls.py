from rest_framework.routers import SimpleRouter

from .views import SponsorViewSet

router = SimpleRouter()
router.register("sponsors", SponsorViewSet, basename="sponsor")
urlpatterns = router.urls
