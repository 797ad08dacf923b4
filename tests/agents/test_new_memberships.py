"""A new membership starts with its agent's answers (longest idle's and fewest
calls' keys), whether the admin or a roster import creates it; the memberships
there were when the counts came count today's answers."""

import datetime as dt
import importlib
from unittest import mock

import pytest
from django.apps import apps

from agents.importers import parse_agents_csv
from agents.models import NEVER, Agent, Membership
from agents.roster_files import import_agents
from routing.models import Attempt, Call, Outcome
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


def test_existing_memberships_count_todays_answers(make_group, make_agent):
    """The migration that adds the counts fills them from today's attempts."""
    migration = importlib.import_module("routing.migrations.0005_count_answers_today")
    kolkata = make_group(slug="kolkata", timezone="Asia/Kolkata")
    new_york = make_group(slug="new-york", timezone="America/New_York")
    agent = make_agent(groups=[kolkata, new_york])
    idle = make_agent(groups=[kolkata])
    now = at(12)  # 01:30 in New York, the same day
    for n, (outcome, ago) in enumerate(
        [
            (Outcome.COMPLETED, dt.timedelta(minutes=1)),
            (Outcome.COMPLETED, dt.timedelta(minutes=2)),
            (Outcome.NO_ANSWER, dt.timedelta(minutes=3)),
            # 08:30 in Kolkata, 22:00 the day before in New York.
            (Outcome.COMPLETED, dt.timedelta(hours=3, minutes=30)),
            (Outcome.COMPLETED, dt.timedelta(days=3)),
        ]
    ):
        call = Call.objects.create(sid=f"c{n}", group=kolkata)
        Attempt.objects.create(
            call=call,
            agent=agent,
            number=str(agent.phone),
            position=1,
            outcome=outcome,
            outcome_at=now - ago,
        )
    with mock.patch("django.utils.timezone.now", return_value=now):
        migration.count_todays_answers(apps, None)
    assert keys(agent, "kolkata")[1:] == (TODAY, 3)
    assert keys(agent, "new-york")[1:] == (TODAY, 2)
    assert keys(idle, "kolkata")[1:] == (None, 0)
