from django.urls import path

from routing import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("exotel/<str:token>/dial-whom/", views.dial_whom, name="dial-whom"),
    path(
        "exotel/<str:token>/dial-whom/<slug:group_slug>/",
        views.dial_whom,
        name="dial-whom-group",
    ),
    path("exotel/<str:token>/passthru/", views.passthru, name="passthru"),
]
