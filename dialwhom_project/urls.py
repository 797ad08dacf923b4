"""URL wiring: the admin, supervisor and personal pages, Exotel webhooks, health check."""

from django.contrib import admin
from django.urls import include, path, re_path

from routing import keypad_views

admin.site.site_header = "dialwhom"
admin.site.site_title = "dialwhom"
admin.site.index_title = "Rosters and calls"

urlpatterns = [
    # Before the admin's own URLs, which would otherwise take /admin/supervisor/.
    path("admin/supervisor/", include("routing.supervisor.urls")),
    path("admin/", admin.site.urls),
    path("me/", include("routing.personal.urls")),
    # Beside the other webhooks (routing.urls): the slash is optional there too.
    re_path(
        r"^exotel/(?P<token>[^/]+)/agent-status/?$",
        keypad_views.agent_status,
        name="agent-status",
    ),
    path("", include("routing.urls")),
]
