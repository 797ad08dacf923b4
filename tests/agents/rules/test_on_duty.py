"""Who is on duty at a moment: agents' hours, time off and activity, the group's hours
and holidays, each in its own time zone."""

import datetime as dt
import zoneinfo

import pytest

from agents.hours import parse_hours
from agents.models import (
    Agent,
    AgentHours,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)
from agents.rules.queries import agent_zones, group_is_open
from routing.calls.selection import MemberQuery
from tests.conftest import ZONE_QUERIES, agents_on_duty

pytestmark = pytest.mark.django_db

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
LONDON = zoneinfo.ZoneInfo("Europe/London")


def at(tz, *fields) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=tz)


def on_duty_members(group, moment) -> list[str]:
    """Return the names of `group`'s members on duty at `moment`, group open.

    The endpoint's own candidate statement, so the table drives what routing runs.
    """
    candidates = MemberQuery(group, moment=moment, zones=agent_zones()).candidates(
        limit=1000
    )
    return sorted(candidate.name for candidate in candidates)


# 2025-03-31 is a Monday; Britain went onto summer time (BST) on Sunday 2025-03-30.
CASES = [
    # (id, agents, group, moment, on duty)
    ("no-hours-means-always", [{"hours": ""}], {}, at(IST, 2025, 3, 30, 3, 0), ["A"]),
    (
        "inside-weekday-hours",
        [{"hours": "Mon-Fri 09:00-18:00"}],
        {},
        at(IST, 2025, 3, 31, 10, 0),
        ["A"],
    ),
    (
        "start-is-inclusive",
        [{"hours": "Mon 09:00-18:00"}],
        {},
        at(IST, 2025, 3, 31, 9, 0),
        ["A"],
    ),
    (
        "end-is-exclusive",
        [{"hours": "Mon 09:00-18:00"}],
        {},
        at(IST, 2025, 3, 31, 18, 0),
        [],
    ),
    (
        "before-start",
        [{"hours": "Mon 09:00-18:00"}],
        {},
        at(IST, 2025, 3, 31, 8, 59),
        [],
    ),
    (
        "other-weekday",
        [{"hours": "Tue-Fri 09:00-18:00"}],
        {},
        at(IST, 2025, 3, 31, 10, 0),
        [],
    ),
    (
        "night-shift-before-midnight",
        [{"hours": "Mon 22:00-06:00"}],
        {},
        at(IST, 2025, 3, 31, 23, 59),
        ["A"],
    ),
    (
        "night-shift-at-midnight",
        [{"hours": "Mon 22:00-06:00"}],
        {},
        at(IST, 2025, 4, 1, 0, 0),
        ["A"],
    ),
    (
        "night-shift-next-morning",
        [{"hours": "Mon 22:00-06:00"}],
        {},
        at(IST, 2025, 4, 1, 5, 59),
        ["A"],
    ),
    (
        "night-shift-ends",
        [{"hours": "Mon 22:00-06:00"}],
        {},
        at(IST, 2025, 4, 1, 6, 0),
        [],
    ),
    (
        "night-shift-not-the-morning-before",
        [{"hours": "Mon 22:00-06:00"}],
        {},
        at(IST, 2025, 3, 31, 3, 0),
        [],
    ),
    (
        "sunday-night-runs-into-monday",
        [{"hours": "Sun 22:00-06:00"}],
        {},
        at(IST, 2025, 3, 31, 2, 0),
        ["A"],
    ),
    (
        "until-midnight-includes-23:59",
        [{"hours": "Mon 18:00-24:00"}],
        {},
        at(IST, 2025, 3, 31, 23, 59),
        ["A"],
    ),
    (
        "until-midnight-excludes-midnight",
        [{"hours": "Mon 18:00-00:00"}],
        {},
        at(IST, 2025, 4, 1, 0, 0),
        [],
    ),
    (
        "london-before-dst-beside-kolkata",
        [
            {
                "name": "Tom",
                "timezone": "Europe/London",
                "hours": "Mon-Fri 09:00-17:00",
            },
            {"name": "Asha", "hours": "Mon-Fri 09:00-18:00"},
        ],
        {},
        dt.datetime(2025, 3, 28, 9, 30, tzinfo=dt.UTC),  # 09:30 GMT, 15:00 IST
        ["Asha", "Tom"],
    ),
    (
        "london-after-dst-starts-an-hour-earlier-in-utc",
        [
            {
                "name": "Tom",
                "timezone": "Europe/London",
                "hours": "Mon-Fri 09:00-17:00",
            },
            {"name": "Asha", "hours": "Mon-Fri 09:00-18:00"},
        ],
        {},
        dt.datetime(2025, 3, 31, 8, 30, tzinfo=dt.UTC),  # 09:30 BST, 14:00 IST
        ["Asha", "Tom"],
    ),
    (
        "london-after-dst-ends-an-hour-earlier-in-utc",
        [
            {
                "name": "Tom",
                "timezone": "Europe/London",
                "hours": "Mon-Fri 09:00-17:00",
            },
            {"name": "Asha", "hours": "Mon-Fri 09:00-23:00"},
        ],
        {},
        dt.datetime(2025, 3, 31, 16, 30, tzinfo=dt.UTC),  # 17:30 BST, 22:00 IST
        ["Asha"],
    ),
    (
        "london-same-utc-time-was-off-before-dst",
        [
            {
                "name": "Tom",
                "timezone": "Europe/London",
                "hours": "Mon-Fri 09:00-17:00",
            },
            {"name": "Asha", "hours": "Mon-Fri 09:00-18:00"},
        ],
        {},
        dt.datetime(2025, 3, 28, 8, 30, tzinfo=dt.UTC),  # 08:30 GMT, 14:00 IST
        ["Asha"],
    ),
    (
        "london-evening-is-kolkata-night",
        [
            {
                "name": "Tom",
                "timezone": "Europe/London",
                "hours": "Mon-Fri 09:00-17:00",
            },
            {"name": "Asha", "hours": "Mon-Fri 09:00-18:00"},
        ],
        {},
        at(LONDON, 2025, 4, 1, 16, 0),  # 20:30 IST
        ["Tom"],
    ),
    ("inactive-agent", [{"active": False}], {}, at(IST, 2025, 3, 31, 10, 0), []),
    (
        "time-off-covers-the-moment",
        [{"time_off": (at(IST, 2025, 3, 31, 9, 0), at(IST, 2025, 3, 31, 13, 0))}],
        {},
        at(IST, 2025, 3, 31, 10, 0),
        [],
    ),
    (
        "time-off-starting-now",
        [{"time_off": (at(IST, 2025, 3, 31, 10, 0), at(IST, 2025, 3, 31, 13, 0))}],
        {},
        at(IST, 2025, 3, 31, 10, 0),
        [],
    ),
    (
        "time-off-ended-now",
        [{"time_off": (at(IST, 2025, 3, 31, 9, 0), at(IST, 2025, 3, 31, 10, 0))}],
        {},
        at(IST, 2025, 3, 31, 10, 0),
        ["A"],
    ),
    (
        "group-holiday",
        [{}],
        {"holiday": dt.date(2025, 8, 15)},
        at(IST, 2025, 8, 15, 11, 0),
        [],
    ),
    (
        "group-holiday-starts-at-local-midnight",
        [{}],
        {"holiday": dt.date(2025, 8, 15)},
        dt.datetime(2025, 8, 14, 18, 30, tzinfo=dt.UTC),  # 00:00 IST on the 15th
        [],
    ),
    (
        "group-holiday-not-the-evening-before",
        [{}],
        {"holiday": dt.date(2025, 8, 15)},
        dt.datetime(2025, 8, 14, 18, 29, tzinfo=dt.UTC),  # 23:59 IST on the 14th
        ["A"],
    ),
    (
        "group-closed-on-saturday",
        [{}],
        {"hours": "Mon-Fri 09:00-18:00"},
        at(IST, 2025, 4, 5, 11, 0),
        [],
    ),
    (
        "group-open-on-weekday",
        [{}],
        {"hours": "Mon-Fri 09:00-18:00"},
        at(IST, 2025, 4, 4, 11, 0),
        ["A"],
    ),
    (
        "night-group-open-after-midnight",
        [{}],
        {"hours": "Daily 22:00-06:00"},
        at(IST, 2025, 4, 5, 3, 0),
        ["A"],
    ),
    (
        "night-group-closed-by-day",
        [{}],
        {"hours": "Daily 22:00-06:00"},
        at(IST, 2025, 4, 5, 12, 0),
        [],
    ),
    (
        "london-group-hours-in-london-time",
        [{}],
        {"timezone": "Europe/London", "hours": "Mon-Fri 09:00-17:00"},
        dt.datetime(2025, 3, 31, 8, 30, tzinfo=dt.UTC),  # 09:30 BST
        ["A"],
    ),
]


@pytest.mark.parametrize(
    ("agents", "group_setup", "moment", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_on_duty_members(make_group, agents, group_setup, moment, expected):
    group = make_group(timezone=group_setup.get("timezone", "Asia/Kolkata"))
    for row in parse_hours(group_setup.get("hours", "")):
        GroupHours.objects.create(group=group, **row._asdict())
    if "holiday" in group_setup:
        Holiday.objects.create(group=group, date=group_setup["holiday"])
    for index, spec in enumerate(agents):
        agent = Agent.objects.create(
            name=spec.get("name", "A"),
            phone=f"+9199000000{index:02d}",
            timezone=spec.get("timezone", "Asia/Kolkata"),
            active=spec.get("active", True),
        )
        Membership.objects.create(agent=agent, group=group)
        for row in parse_hours(spec.get("hours", "")):
            AgentHours.objects.create(agent=agent, **row._asdict())
        if "time_off" in spec:
            starts_at, ends_at = spec["time_off"]
            TimeOff.objects.create(agent=agent, starts_at=starts_at, ends_at=ends_at)

    assert on_duty_members(group, moment) == expected
    # The pieces agree with the whole: the group's own check, the agents' queryset.
    group_open = group_is_open(group, moment)
    on_duty_names = sorted(agents_on_duty(moment).values_list("name", flat=True))
    assert expected == (on_duty_names if group_open else [])


@pytest.mark.parametrize("size", [10, 100])
def test_query_count_does_not_grow_with_the_group(
    make_group, make_agent, django_assert_num_queries, size
):
    group = make_group()
    GroupHours.objects.create(
        group=group, weekday=0, starts=dt.time(9, 0), ends=dt.time(18, 0)
    )
    for n in range(size):
        agent = make_agent(
            groups=[group], timezone="Europe/London" if n % 3 else "Asia/Kolkata"
        )
        AgentHours.objects.create(
            agent=agent, weekday=0, starts=dt.time(8, 0), ends=dt.time(20, 0)
        )
        if n % 5 == 0:
            TimeOff.objects.create(
                agent=agent,
                starts_at=at(IST, 2025, 3, 31, 9, 0),
                ends_at=at(IST, 2025, 3, 31, 12, 0),
            )
    moment = at(IST, 2025, 3, 31, 10, 0)  # 05:30 in London: only Kolkata works

    # One query for the members (and, but on PostgreSQL, one for the time zones).
    with django_assert_num_queries(1 + ZONE_QUERIES):
        names = on_duty_members(group, moment)

    kolkata = [n for n in range(size) if n % 3 == 0]
    assert len(names) == len([n for n in kolkata if n % 5])
