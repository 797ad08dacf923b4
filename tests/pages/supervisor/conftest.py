"""A two-group roster and a supervisor confined to one group."""

import pytest
from django.test import Client


@pytest.fixture
def supervisor(django_user_model):
    return django_user_model.objects.create_user(
        "sunita", password="a-long-test-password", is_staff=True
    )


@pytest.fixture
def roster(make_group, make_agent, supervisor):
    """`support` (supervised by sunita) and `sales` (not), two agents each."""
    support = make_group("support")
    sales = make_group("sales")
    support.supervisors.add(supervisor)
    return {
        "support": support,
        "sales": sales,
        "asha": make_agent("Asha", support),
        "bala": make_agent("Bala", support),
        "chitra": make_agent("Chitra", sales),
        "dev": make_agent("Dev", sales),
    }


@pytest.fixture
def supervisor_client(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client
