from django.contrib import admin
from django.urls import path

from vss_program.routers import reading_from_replica

from . import views

app_name = "dashboards"


def _page(view):
    # Signed-in staff only, with the second factor where required: the admin's own check;
    # then the figures are read from the replica, when there is one.
    return admin.site.admin_view(reading_from_replica(view.as_view()))


urlpatterns = [
    path("", _page(views.OverviewView), name="overview"),
    path("area/<int:unit_id>/", _page(views.AreaView), name="area"),
    path("commune/<int:unit_id>/", _page(views.CommuneView), name="commune"),
    path("sponsors/", _page(views.SponsorsView), name="sponsors"),
    path("timeline/", _page(views.TimelineView), name="timeline"),
    path("attention/", _page(views.AttentionView), name="attention"),
]
