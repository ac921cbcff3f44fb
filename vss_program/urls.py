from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from vss_program import health

admin.site.site_header = _("Cards and books for people in difficult circumstances")
admin.site.site_title = _("VSS program")
admin.site.index_title = _("Program administration")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("account/", include("accounts.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "api/v1/",
        include(
            [
                path("", include("reference.api.urls")),
                path("", include("sponsors.api.urls")),
                path("", include("distributions.api.urls")),
            ]
        ),
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # Answered by health.ProbeMiddleware before the session is read; listed for reverse().
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

# A 404 under /api/ in the API's JSON error shape (not Django's HTML page).
handler404 = "api.views.not_found"
# 503 with Retry-After while the database cannot be reached (the API's shape under /api/).
handler500 = "vss_program.outage.server_error"

# Uploaded scans in development; in production the web server or shared storage serves them.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
