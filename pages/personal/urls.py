"""The personal pages, under /me/ (DESIGN section 8.3)."""

from django.urls import path

from pages.personal import views

urlpatterns = [
    path("<str:token>/", views.personal_page, name="personal-page"),
    # Anything else under /me/ may carry a token too: answered as quietly.
    path("<path:rest>", views.not_a_personal_page),
]
