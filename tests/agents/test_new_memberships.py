"""A new membership starts with its agent's answers (longest idle's and fewest
calls' keys), whether the admin or a roster import creates it."""

import datetime as dt

import pytest

from agents.importers import parse_agents_csv
from agents.models import NEVER, Agent, Membership
from agents.services import import_agents
from tests.conftest import at

pytestmark = pytest.mark.django_db

ANSWERED = at(11)
TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def answered(make_group, make_agent):
    """An agent who answered three calls today, a member of Sales (Kolkata)."""
    sales = make_group(slug="sales", timezone="Asia/Kolkata")
    agent = make_agent(
        name="Asha", groups=[sales], phone="+919900000001", last_answered_at=ANSWERED
    )
    agent.memberships.update(answered_on=TODAY, answered_today=3)
    return agent


def keys(agent, slug):
    membership = agent.memberships.get(group__slug=slug)
    return membership.idle_since, membership.answered_on, membership.answered_today


def test_a_membership_added_in_the_admin_starts_like_the_agent(answered, make_group):
    Membership.objects.create(
        agent=answered, group=make_group(slug="billing", timezone="Asia/Kolkata")
    )
    Membership.objects.create(
        agent=answered, group=make_group(slug="london", timezone="Europe/London")
    )
    assert keys(answered, "billing") == (ANSWERED, TODAY, 3)
    # Another zone's day is not Kolkata's: the count starts at 0.
    assert keys(answered, "london") == (ANSWERED, None, 0)


def test_an_imported_membership_starts_like_the_agent(answered, make_group):
    make_group(slug="billing", timezone="Asia/Kolkata")
    make_group(slug="london", timezone="Europe/London")
    parsed = parse_agents_csv(
        "name,phone,groups,status,active,timezone,hours\n"
        "Asha,+919900000001,sales;billing;london,available,yes,Asia/Kolkata,\n"
        "Bala,+919900000002,billing,available,yes,Asia/Kolkata,\n"
    )
    import_agents(parsed=parsed)
    assert keys(answered, "sales") == (ANSWERED, TODAY, 3)
    assert keys(answered, "billing") == (ANSWERED, TODAY, 3)
    assert keys(answered, "london") == (ANSWERED, None, 0)
    bala = Agent.objects.get(phone="+919900000002")
    assert keys(bala, "billing") == (NEVER, None, 0)
