"""Roster factories and an Exotel client for the routing tests."""

import datetime as dt
import itertools

import pytest
from django.test import Client

from agents.models import Agent, AgentGroup, Membership

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
                agent=agent, group=group, priority=priority, position=position
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

    def numbers(self, sid, group=None, **params):
        response = self.dial_whom(sid, group, **params)
        assert response.status_code == 200, response.content
        body = response.content.decode()
        return body.split(",") if body else []

    def passthru(self, sid, **params):
        return self.client.get(f"/exotel/{TOKEN}/passthru/", {"CallSid": sid, **params})


@pytest.fixture
def exotel():
    return ExotelClient()


def at(hour=12, minute=0, day=2):
    """Return an aware moment in IST (2026-11-02 is a Monday)."""
    import zoneinfo

    return dt.datetime(
        2026, 11, day, hour, minute, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata")
    )
