"""The admin's login lockout and the webhook token's rotation."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from routing.models import WebhookRequest

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def supervisor():
    return get_user_model().objects.create_user(
        "asha", password=PASSWORD, is_staff=True
    )


def log_in(client, password):
    return client.post(
        reverse("admin:login"),
        {"username": "asha", "password": password, "next": "/admin/"},
    )


def test_repeated_failed_logins_lock_the_account_out(client, supervisor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the form again

    assert log_in(client, "wrong").status_code == 429
    response = log_in(client, PASSWORD)  # even the right password, now

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_works_below_the_limit(client, supervisor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        log_in(client, "wrong")

    response = log_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_lockout_is_per_address(supervisor, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(attacker, "wrong")

    response = log_in(Client(REMOTE_ADDR="198.51.100.7"), PASSWORD)

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("token", "status"),
    [("new-token-0123456789", 200), ("old-token-0123456789", 200), ("other", 404)],
    ids=["new-token-accepted", "previous-token-accepted", "other-token-404"],
)
def test_two_tokens_during_a_rotation(client, settings, token, status):
    settings.DIALWHOM_WEBHOOK_TOKENS = ["new-token-0123456789", "old-token-0123456789"]

    response = client.get(f"/exotel/{token}/dial-whom/", {"CallSid": "rotating"})

    assert response.status_code == status
    assert WebhookRequest.objects.count() == (1 if status == 200 else 0)
