"""A two-group roster, a supervisor confined to one group, and an Exotel client."""

import datetime as dt
import itertools
import zoneinfo

import pytest
from django.test import Client

from agents.models import Agent, AgentGroup, Membership

TOKEN = "supervisor-test-token"
IST = zoneinfo.ZoneInfo("Asia/Kolkata")


def at(hour=12, minute=0, day=2) -> dt.datetime:
    """Return an aware moment in IST (2026-11-02 is a Monday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=IST)


@pytest.fixture(autouse=True)
def _webhook_token(settings):
    settings.DIALWHOM_WEBHOOK_TOKENS = [TOKEN]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_group():
    def make(slug, **fields) -> AgentGroup:
        fields.setdefault("name", slug.title())
        return AgentGroup.objects.create(slug=slug, **fields)

    return make


@pytest.fixture
def make_agent():
    phones = itertools.count(1)

    def make(name, *groups, priority=1, **fields) -> Agent:
        fields.setdefault("phone", f"+9198{next(phones):08d}")
        agent = Agent.objects.create(name=name, **fields)
        for group in groups:
            Membership.objects.create(
                agent=agent,
                group=group,
                priority=priority,
                position=Membership.objects.filter(group=group).count(),
            )
        return agent

    return make


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


class ExotelClient:
    """Plays Exotel's side of a call: GETs with the provider's parameters."""

    def __init__(self):
        self.client = Client()

    def dial_whom(self, sid, group, **params) -> list[str]:
        response = self.client.get(
            f"/exotel/{TOKEN}/dial-whom/{group}/", {"CallSid": sid, **params}
        )
        assert response.status_code == 200, response.content
        body = response.content.decode()
        return body.split(",") if body else []

    def passthru(self, sid, **params):
        return self.client.get(f"/exotel/{TOKEN}/passthru/", {"CallSid": sid, **params})


@pytest.fixture
def exotel():
    return ExotelClient()
