"""The real URLs plus one webhook-shaped view that fails (a 500)."""

from django.urls import path

from dialwhom_project.urls import handler400, handler404, handler500  # noqa: F401
from dialwhom_project.urls import urlpatterns as site_urlpatterns


def broken_view(request, token):
    raise RuntimeError(f"a bug while serving {request.path}")


urlpatterns = [path("exotel/<str:token>/broken/", broken_view), *site_urlpatterns]
