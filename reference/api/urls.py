from rest_framework.routers import SimpleRouter

from .views import AdminUnitViewSet

router = SimpleRouter()
router.register("admin-units", AdminUnitViewSet, basename="admin-unit")
urlpatterns = router.urls
