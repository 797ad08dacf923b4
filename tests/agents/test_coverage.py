"""Coverage gaps: a table for the pure computation, the roster reader, the command."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import CommandError, call_command

from agents import rules
from agents.coverage import (
    Gap,
    Schedule,
    Weekly,
    coverage_gaps,
    describe_gap,
    find_gaps,
    is_on,
)
from agents.models import (
    Agent,
    AgentHours,
    GroupHours,
    Holiday,
    TimeOff,
)

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
MONDAY = dt.datetime(2026, 11, 2, tzinfo=IST)


def t(hour, minute=0, day=0):
    """A moment `day` days after Monday 2026-11-02 00:00 IST."""
    return MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)


def weekly(spec):
    """`"0 09:00-18:00"` -> Weekly(0, 09:00, 18:00)."""
    day, span = spec.split()
    starts, ends = span.split("-")
    return Weekly(int(day), dt.time.fromisoformat(starts), dt.time.fromisoformat(ends))


def schedule(*hours, tz="Asia/Kolkata", time_off=(), holidays=()):
    return Schedule(
        name="x",
        timezone=tz,
        hours=tuple(weekly(h) for h in hours),
        time_off=tuple(time_off),
        holidays=frozenset(holidays),
    )


DAY = (t(0), t(0, day=1))  # all of Monday


@pytest.mark.parametrize(
    "group, agents, window, gaps",
    [
        (schedule(), [schedule()], DAY, []),
        (schedule(), [], DAY, [(t(0), t(0, day=1))]),
        (schedule("0 09:00-18:00"), [], DAY, [(t(9), t(18))]),
        (schedule("0 09:00-18:00"), [schedule("0 09:00-17:00")], DAY, [(t(17), t(18))]),
        (
            schedule("0 09:00-18:00"),
            [schedule("0 09:00-12:00"), schedule("0 13:00-18:00")],
            DAY,
            [(t(12), t(13))],
        ),
        (
            schedule("0 09:00-18:00"),
            [schedule("0 09:00-18:00", time_off=[(t(10), t(11, 30))])],
            DAY,
            [(t(10), t(11, 30))],
        ),
        (
            schedule("0 09:00-18:00", holidays=[MONDAY.date()]),
            [],
            DAY,
            [],
        ),
        (
            schedule("0 22:00-06:00"),
            [schedule("0 22:00-02:00")],
            (t(0), t(0, day=2)),
            [(t(2, day=1), t(6, day=1))],
        ),
        (
            schedule("0 09:00-18:00"),
            [schedule("0 09:00-18:00", tz="Europe/London")],
            DAY,
            [(t(9), t(14, 30))],  # London 09:00 is 14:30 in IST in November
        ),
        (
            schedule("0 09:00-18:00"),
            [schedule("0 09:00-18:00", time_off=[(t(0), t(0, day=1))])],
            DAY,
            [(t(9), t(18))],
        ),
    ],
    ids=[
        "always-open-agent-always-on-covered",
        "no-agents-whole-window-uncovered",
        "nobody-in-open-hours",
        "agent-leaves-an-hour-early",
        "lunch-hole-between-two-agents",
        "time-off-opens-a-gap",
        "holiday-closed-group-needs-nobody",
        "night-shift-across-midnight",
        "agent-hours-in-their-own-time-zone",
        "whole-day-time-off",
    ],
)
def test_find_gaps(group, agents, window, gaps):
    found = find_gaps(group=group, agents=agents, start=window[0], end=window[1])
    assert [(gap.starts, gap.ends) for gap in found] == gaps


def test_find_gaps_at_15_minute_resolution():
    found = find_gaps(
        group=schedule("0 09:00-10:00"),
        agents=[schedule("0 09:15-10:00")],
        start=t(0),
        end=t(0, day=1),
        step=dt.timedelta(minutes=15),
    )
    assert found == [Gap(t(9), t(9, 15))]


def test_describe_gap():
    assert describe_gap(Gap(t(18), t(20, 30)), "Asia/Kolkata") == (
        "Mon 2026-11-02 18:00-20:30 (2h30m)"
    )
    assert describe_gap(Gap(t(22), t(2, day=1)), "Asia/Kolkata") == (
        "Mon 2026-11-02 22:00-Tue 2026-11-03 02:00 (4h00m)"
    )


ROWS = ["0 09:00-18:00", "1 22:00-06:00", "6 23:00-23:00", "3 00:00-00:00"]


@pytest.mark.django_db
def test_rules_in_python_agree_with_the_rules_in_sql(make_agent):
    """One definition, two renderings: coverage's Python and the endpoint's SQL."""
    agents = {}
    for spec in ROWS:
        for tz in ("Asia/Kolkata", "Europe/London"):
            agent = make_agent(timezone=tz)
            row = weekly(spec)
            AgentHours.objects.create(
                agent=agent, weekday=row.weekday, starts=row.starts, ends=row.ends
            )
            agents[agent.pk] = schedule(spec, tz=tz)
    agents[make_agent().pk] = schedule()  # no hours: always
    monday = dt.datetime(2026, 11, 2, tzinfo=IST)
    for step in range(7 * 48):
        moment = monday + dt.timedelta(minutes=30 * step)
        in_sql = set(
            Agent.objects.filter(
                rules.orm_condition(
                    [rules.IN_HOURS], moment=moment, aliases=rules.ORM_AGENT
                )
            ).values_list("pk", flat=True)
        )
        in_python = {pk for pk, plan in agents.items() if is_on(plan, moment)}
        assert in_sql == in_python, moment


@pytest.fixture
def covered_group(make_group, make_agent):
    """Open Mon 09:00-18:00 IST; one agent 09:00-17:00, one inactive 17:00-18:00."""
    group = make_group(slug="support")
    GroupHours.objects.create(
        group=group, weekday=0, starts=dt.time(9), ends=dt.time(18)
    )
    day = make_agent(groups=[group])
    AgentHours.objects.create(agent=day, weekday=0, starts=dt.time(9), ends=dt.time(17))
    evening = make_agent(groups=[group], active=False)
    AgentHours.objects.create(
        agent=evening, weekday=0, starts=dt.time(17), ends=dt.time(18)
    )
    return group


@pytest.mark.django_db
def test_coverage_gaps_reads_the_roster(covered_group, django_assert_num_queries):
    with django_assert_num_queries(5):
        gaps = coverage_gaps(covered_group, start=t(0), days=7)
    assert gaps == [Gap(t(17), t(18))]


@pytest.mark.django_db
def test_coverage_gaps_sees_time_off_and_holidays(covered_group):
    agent = covered_group.memberships.get(agent__active=True).agent
    TimeOff.objects.create(agent=agent, starts_at=t(12), ends_at=t(13))
    assert coverage_gaps(covered_group, start=t(0), days=1) == [
        Gap(t(12), t(13)),
        Gap(t(17), t(18)),
    ]
    Holiday.objects.create(group=covered_group, date=MONDAY.date())
    assert coverage_gaps(covered_group, start=t(0), days=1) == []


@pytest.mark.django_db
def test_check_coverage_prints_gaps_and_fails(covered_group):
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 coverage gap"):
        call_command("check_coverage", "--start", "2026-11-02T00:00", stdout=out)
    assert "support: 1 gap" in out.getvalue()
    assert "Mon 2026-11-02 17:00-18:00 (1h00m)" in out.getvalue()


@pytest.mark.django_db
def test_check_coverage_passes_when_covered(covered_group, make_group):
    Agent.objects.update(active=True)  # the evening agent closes the gap
    make_group(slug="elsewhere")  # always open, nobody: not checked with --group
    out = io.StringIO()
    call_command(
        "check_coverage",
        "--group",
        "support",
        "--days",
        "7",
        "--start",
        "2026-11-02T00:00",
        stdout=out,
    )
    assert "No coverage gaps in the next 7 day(s)." in out.getvalue()


@pytest.mark.django_db
def test_check_coverage_rejects_an_unknown_group():
    with pytest.raises(CommandError, match="unknown group 'nope'"):
        call_command("check_coverage", "--group", "nope")
