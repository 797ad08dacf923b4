from django.urls import re_path

from routing.http import callback_events, connect, dial_whom, popup

# The trailing slash is optional: a redirect would count as a failure to Exotel.
urlpatterns = [
    re_path(r"^healthz/?$", dial_whom.healthz, name="healthz"),
    re_path(
        r"^exotel/(?P<token>[^/]+)/dial-whom/?$", dial_whom.dial_whom, name="dial-whom"
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/dial-whom/(?P<group_slug>[-\w]+)/?$",
        dial_whom.dial_whom,
        name="dial-whom-group",
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/passthru/?$", dial_whom.passthru, name="passthru"
    ),
    # Programmable Connect (DESIGN section 9).
    re_path(r"^exotel/(?P<token>[^/]+)/connect/?$", connect.connect, name="connect"),
    re_path(
        r"^exotel/(?P<token>[^/]+)/connect/(?P<group_slug>[-\w]+)/?$",
        connect.connect,
        name="connect-group",
    ),
    re_path(
        r"^exotel/(?P<token>[^/]+)/connect-events/?$",
        connect.connect_events,
        name="connect-events",
    ),
    # The Connect applet's popup URL (DESIGN section 11).
    re_path(r"^exotel/(?P<token>[^/]+)/popup/?$", popup.popup, name="popup"),
    re_path(
        r"^exotel/(?P<token>[^/]+)/callback-events/?$",
        callback_events.callback_events,
        name="callback-events",
    ),
]
