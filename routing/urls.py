from django.urls import re_path

from routing import connect_views, views

# The trailing slash is optional: a redirect would count as a failure to Exotel.
urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(
        r"^exotel/(?P<token>[^/]+)/dial-whom/?$", views.dial_whom, name="dial-whom"
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/dial-whom/(?P<group_slug>[-\w]+)/?$",
        views.dial_whom,
        name="dial-whom-group",
    ),
    re_path(r"^exotel/(?P<token>[^/]+)/passthru/?$", views.passthru, name="passthru"),
    # Programmable Connect (DESIGN section 9).
    re_path(
        r"^exotel/(?P<token>[^/]+)/connect/?$", connect_views.connect, name="connect"
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/connect/(?P<group_slug>[-\w]+)/?$",
        connect_views.connect,
        name="connect-group",
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/connect-events/?$",
        connect_views.connect_events,
        name="connect-events",
    ),
]
