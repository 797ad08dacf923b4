from django.urls import re_path

from routing import views

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
]
