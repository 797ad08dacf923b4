"""URL wiring: the admin, the Exotel webhooks and the health check."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "dialwhom"
admin.site.site_title = "dialwhom"
admin.site.index_title = "Rosters and calls"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("routing.urls")),
]
