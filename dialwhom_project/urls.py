"""URL wiring: the admin, supervisor and personal pages, Exotel webhooks, health
check, metrics; plain-text error answers on the Exotel paths."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views import defaults

from routing.http import keypad
from routing.http.answering import text_response
from routing.http.metrics import metrics_view

admin.site.site_header = "dialwhom"
admin.site.site_title = "dialwhom"
admin.site.index_title = "Rosters and calls"

urlpatterns = [
    # Before the admin's own URLs, which would otherwise take /admin/supervisor/.
    path("admin/supervisor/", include("pages.supervisor.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("me/", include("pages.personal.urls")),
    # Beside the other webhooks (routing.urls): the slash is optional there too.
    re_path(
        r"^exotel/(?P<token>[^/]+)/agent-status/?$",
        keypad.agent_status,
        name="agent-status",
    ),
    path("", include("routing.urls")),
]


def _plain_on_webhooks(status: int, reason: str, default):
    """Answer Exotel's paths with a one-line text/plain reason, others as Django does."""

    def handler(request, exception=None):
        if request.path.startswith("/exotel/"):
            return text_response(reason, status=status)
        if exception is None:
            return default(request)
        return default(request, exception)

    return handler


handler400 = _plain_on_webhooks(400, "bad request", defaults.bad_request)
handler404 = _plain_on_webhooks(404, "not found", defaults.page_not_found)
handler500 = _plain_on_webhooks(500, "server error", defaults.server_error)
