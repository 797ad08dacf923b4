"""URL wiring: the admin and its supervisor pages, the Exotel webhooks, the health check."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "dialwhom"
admin.site.site_title = "dialwhom"
admin.site.index_title = "Rosters and calls"

urlpatterns = [
    # Before the admin's own URLs, which would otherwise take /admin/supervisor/.
    path("admin/supervisor/", include("routing.supervisor.urls")),
    path("admin/", admin.site.urls),
    path("", include("routing.urls")),
]
