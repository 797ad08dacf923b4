from django.urls import path

from routing import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
