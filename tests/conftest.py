"""Fixtures shared by the whole suite: roster factories and an Exotel client."""

import datetime as dt
import itertools
import os
import zoneinfo

import hypothesis
import pytest
from django.test import Client
from hypothesis import HealthCheck

from agents import rules
from agents.models import NEVER, Agent, AgentGroup, Membership

# Property-based tests: a quick profile by default (CI), HYPOTHESIS_PROFILE=thorough
# for a long run. Fixtures hold a roster that every example shares on purpose.
_SHARED = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
}
hypothesis.settings.register_profile("ci", max_examples=300, **_SHARED)
hypothesis.settings.register_profile("thorough", max_examples=10_000, **_SHARED)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic`; tests render admin pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


IST = zoneinfo.ZoneInfo("Asia/Kolkata")
# Reading the agents' time zones costs a query, except on PostgreSQL, which reads
# each agent's clock in SQL.
ZONE_QUERIES = 0 if os.environ.get("DATABASE_URL", "").startswith("postgres") else 1
TOKEN = "test-token-0123456789"
_phones = itertools.count(1)


@pytest.fixture(autouse=True)
def _webhook_token(settings):
    settings.DIALWHOM_WEBHOOK_TOKENS = [TOKEN]


@pytest.fixture
def make_group():
    def make(slug="support", **fields):
        fields.setdefault("name", slug.title())
        return AgentGroup.objects.create(slug=slug, **fields)

    return make


@pytest.fixture
def make_agent():
    def make(name, *groups, phone=None, priority=1, **fields):
        agent = Agent.objects.create(
            name=name, phone=phone or f"+9199{next(_phones):08d}", **fields
        )
        for group in groups:
            position = Membership.objects.filter(group=group).count()
            Membership.objects.create(
                agent=agent,
                group=group,
                priority=priority,
                position=position,
                idle_since=agent.last_answered_at or NEVER,
            )
        return agent

    return make


class ExotelClient:
    """Plays Exotel's side: GETs with the provider's parameters."""

    def __init__(self):
        self.client = Client()

    def dial_whom(self, sid, group=None, **params):
        path = f"/exotel/{TOKEN}/dial-whom/" + (f"{group}/" if group else "")
        return self.client.get(path, {"CallSid": sid, **params})

    def numbers(self, sid, group=None, **params) -> list[str]:
        """Return the numbers answered, asserting a 200."""
        response = self.dial_whom(sid, group, **params)
        assert response.status_code == 200, response.content
        body = response.content.decode()
        return body.split(",") if body else []

    def passthru(self, sid, **params):
        return self.client.get(f"/exotel/{TOKEN}/passthru/", {"CallSid": sid, **params})


@pytest.fixture
def exotel():
    return ExotelClient()


def at(hour=12, minute=0, day=2) -> dt.datetime:
    """Return an aware moment in IST (2026-11-02 is a Monday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=IST)


def agents_on_duty(moment: dt.datetime):
    """Return the agents the rules put on duty at `moment` (active, hours, time off)."""
    return Agent.objects.filter(
        rules.orm_condition(rules.ON_DUTY, moment=moment, aliases=rules.ORM_AGENT)
    )


def agents_not_engaged(moment: dt.datetime):
    """Return the agents no call holds at `moment`, as the rules say."""
    return Agent.objects.filter(
        rules.orm_condition(
            [rules.NOT_ENGAGED], moment=moment, aliases=rules.ORM_AGENT, zones=()
        )
    )
