"""The personal pages, under /me/ (DESIGN section 8.3)."""

from django.urls import path

from routing.personal import views

urlpatterns = [
    path("<str:token>/", views.personal_page, name="personal-page"),
]
