"""Production URLs plus the two reference views the benchmark compares against."""

from django.urls import path

from bench import views
from dialwhom_project.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/ceiling/", views.ceiling),
    path("bench/floor/", views.floor),
    *production_urlpatterns,
]
