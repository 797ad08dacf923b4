"""The candidate statement's index-ordered scans answer exactly as the full order.

`MemberQuery.verdicts` judges every member on every rule and sorts the whole group
by DESIGN section 5's order; `MemberQuery.candidates` reads only a few rows per
scan. For every strategy, moment and limit, the second is the head of the first.
"""

import datetime as dt
import random
import zoneinfo

import pytest

from agents.models import (
    NEVER,
    Agent,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    Strategy,
    TimeOff,
)
from agents.rules.queries import agent_zones
from routing.calls.selection import MemberQuery
from routing.models import Attempt, Call, Outcome
from tests.conftest import at

pytestmark = pytest.mark.django_db

TIMEZONES = ["Asia/Kolkata", "Europe/London", "America/New_York"]
# Weekdays at night, morning and late evening; a holiday; a Sunday (open 10-14).
MOMENTS = [
    *(at(h, m, day=d) for d in (2, 3, 4) for h, m in ((0, 30), (9, 0), (23, 45))),
    at(9, day=7),
    at(12, day=8),
    at(9, day=8),
]
CALLER = "+919901320691"
# The group's local days of the moments that fewest-calls counts are seeded on.
COUNTED_DAYS = [dt.date(2026, 11, d) for d in (2, 3, 8)]


@pytest.fixture
def roster(make_group, make_agent):
    """A seeded mix of hours, time off, statuses, engagements and history."""
    rng = random.Random(7)
    group = make_group("mixed", timezone="Asia/Kolkata")
    GroupHours.objects.create(
        group=group, weekday=6, starts=dt.time(10), ends=dt.time(14)
    )
    for weekday in range(6):
        GroupHours.objects.create(
            group=group, weekday=weekday, starts=dt.time(0), ends=dt.time(0)
        )
    Holiday.objects.create(group=group, date=dt.date(2026, 11, 7))
    history = Call.objects.create(sid="history", caller=CALLER, group=group)
    # Fewest calls' counts (their own generator: the rest of the roster stays as
    # it was): some members answered on the moments' days, some earlier, some never.
    counts = random.Random(11)
    answer_days = [None, dt.date(2026, 11, 1), *COUNTED_DAYS]
    for n in range(30):
        agent = make_agent(
            f"Agent {rng.choice('ABCDE')}{n:02d}",
            timezone=rng.choice(TIMEZONES),
            status=rng.choice([AgentStatus.AVAILABLE] * 4 + [AgentStatus.BREAK]),
            active=rng.random() > 0.1,
            last_answered_at=rng.choice([None, at(8), at(11, day=1)]),
            engaged_until=rng.choice([None, None, at(9, 0), at(23, 50, day=8)]),
        )
        answered_on = counts.choice(answer_days)
        Membership.objects.create(
            agent=agent,
            group=group,
            priority=rng.choice([1, 1, 2, 3]),
            position=rng.randrange(8),
            active=rng.random() > 0.1,
            idle_since=agent.last_answered_at or NEVER,
            answered_on=answered_on,
            answered_today=counts.randrange(1, 4) if answered_on else 0,
        )
        for _ in range(rng.randrange(3)):
            start = dt.time(rng.randrange(24), rng.choice([0, 30]))
            end = dt.time(rng.randrange(24), rng.choice([0, 30]))
            AgentHours.objects.create(
                agent=agent, weekday=rng.randrange(7), starts=start, ends=end
            )
        if rng.random() < 0.15:
            TimeOff.objects.create(
                agent=agent, starts_at=at(8, day=7), ends_at=at(10, day=8)
            )
        if rng.random() < 0.3:
            Attempt.objects.create(
                call=history,
                agent=agent,
                group=group,
                number=str(agent.phone),
                position=n + 1,
                outcome=Outcome.COMPLETED,
                outcome_at=rng.choice([at(7), at(7, day=7), at(1, day=8)]),
            )
    return group


def full_order(group, moment):
    """Every eligible member, from sorting the whole group (no scans, no limit)."""
    verdicts = MemberQuery(
        group, moment=moment, zones=agent_zones(), caller=CALLER
    ).verdicts()
    return [v.candidate.agent_id for v in verdicts if v.eligible]


def sql_answer(group, moment, limit=1000):
    candidates = MemberQuery(
        group, moment=moment, zones=agent_zones(), caller=CALLER
    ).candidates(limit=limit)
    return [candidate.agent_id for candidate in candidates]


@pytest.mark.parametrize(
    ("strategy", "sticky_days", "rotation"),
    [
        (Strategy.SEQUENTIAL, 0, {}),
        (Strategy.ROUND_ROBIN, 0, {"1": [3, "Agent C"], "2": [0, "Agent Z"]}),
        (Strategy.LONGEST_IDLE, 0, {}),
        (Strategy.FEWEST_CALLS, 0, {}),
        (Strategy.SEQUENTIAL, 30, {}),
    ],
    ids=["sequential", "round-robin", "longest-idle", "fewest-calls", "sticky"],
)
def test_scans_agree_with_the_full_order(roster, strategy, sticky_days, rotation):
    roster.strategy, roster.sticky_days, roster.rotation = (
        strategy,
        sticky_days,
        rotation,
    )
    roster.save()
    answers = [full_order(roster, moment) for moment in MOMENTS]
    for limit in (1, 2, 3, 5, 1000):
        assert [sql_answer(roster, moment, limit) for moment in MOMENTS] == [
            answer[:limit] for answer in answers
        ], limit
    assert any(answers), "the roster should leave someone eligible at some moment"
    assert not all(answers), "and no one at another (a holiday)"


NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# Just after midnight and late evening in New York (UTC's date is then the next
# day), and the next local day.
COUNTED_MOMENTS = [
    dt.datetime(2026, 11, 2, 0, 30, tzinfo=NEW_YORK),
    dt.datetime(2026, 11, 2, 23, 30, tzinfo=NEW_YORK),
    dt.datetime(2026, 11, 3, 0, 30, tzinfo=NEW_YORK),
]


@pytest.fixture
def counted(make_group, make_agent):
    """Fewest calls over members who are all eligible: most answered on November
    2nd (counts 1-4), some the day before, some never; ties in position, two tiers."""
    rng = random.Random(5)
    group = make_group(
        "counted", timezone="America/New_York", strategy=Strategy.FEWEST_CALLS
    )
    days = [None, dt.date(2026, 11, 1), *[dt.date(2026, 11, 2)] * 6]
    for n in range(40):
        agent = make_agent(f"Agent {rng.choice('ABC')}{n:02d}")
        answered_on = rng.choice(days)
        Membership.objects.create(
            agent=agent,
            group=group,
            priority=rng.choice([1, 2]),
            position=rng.randrange(6),
            answered_on=answered_on,
            answered_today=rng.randrange(1, 5) if answered_on else 0,
        )
    return group


def test_fewest_calls_scans_agree_with_the_full_order(counted):
    """Both scans answer, within a tier: the members who have not answered today
    (scan B), then those who have, fewest first (scan A)."""
    answers = [full_order(counted, moment) for moment in COUNTED_MOMENTS]
    for limit in (1, 2, 3, 5, 8, 13, 21, 1000):
        assert [sql_answer(counted, moment, limit) for moment in COUNTED_MOMENTS] == [
            answer[:limit] for answer in answers
        ], limit
    # Scan A holds more of a tier than the small limits take, scan B some of it.
    memberships = {m.agent_id: m for m in counted.memberships.all()}
    tier_one = [memberships[a] for a in answers[0] if memberships[a].priority == 1]
    answered = [m.answered_on == dt.date(2026, 11, 2) for m in tier_one]
    assert 0 < answered.count(False) and answered.count(True) > 5


def test_random_picks_from_the_same_set(roster):
    roster.strategy = Strategy.RANDOM
    roster.save()
    for moment in MOMENTS:
        assert sorted(sql_answer(roster, moment)) == sorted(full_order(roster, moment))


def test_excludes_agents_offered_for_the_call(roster):
    moment = MOMENTS[1]
    first, second, *_ = sql_answer(roster, moment)
    call = Call.objects.create(sid="live", group=roster)
    Attempt.objects.create(
        call=call,
        agent=None,
        number=str(Agent.objects.get(pk=first).phone),
        position=1,
    )
    candidates = MemberQuery(roster, moment=moment, zones=agent_zones()).candidates(
        limit=5, call_id=call.pk, exclude_agent_ids=[second]
    )
    assert {first, second}.isdisjoint(c.agent_id for c in candidates)
