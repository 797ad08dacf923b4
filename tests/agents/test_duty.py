"""On duty now, until when, and when the next hours start (the personal page)."""

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.duty import DutyOutlook, duty_outlook
from agents.models import Agent, AgentHours, TimeOff
from tests.conftest import agents_on_duty

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
NY = zoneinfo.ZoneInfo("America/New_York")


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def ist(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """2026-11-02 is a Monday."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=IST)


MON_FRI_9_18 = [(day, t("09:00"), t("18:00")) for day in range(5)]
NIGHTS = [(0, t("22:00"), t("06:00"))]


@pytest.mark.parametrize(
    ("hours", "time_off", "now", "expected"),
    [
        pytest.param(
            [], [], ist(2, 3), DutyOutlook(True), id="no-hours-always-on-duty"
        ),
        pytest.param(
            MON_FRI_9_18,
            [],
            ist(2, 10),
            DutyOutlook(True, until=ist(2, 18)),
            id="inside-hours",
        ),
        pytest.param(
            MON_FRI_9_18,
            [],
            ist(2, 8, 59),
            DutyOutlook(False, next_start=ist(2, 9)),
            id="before-hours-next-today",
        ),
        pytest.param(
            MON_FRI_9_18,
            [],
            ist(2, 18),
            DutyOutlook(False, next_start=ist(3, 9)),
            id="end-is-exclusive",
        ),
        pytest.param(
            MON_FRI_9_18,
            [],
            ist(6, 19),
            DutyOutlook(False, next_start=ist(9, 9)),
            id="friday-evening-next-monday",
        ),
        pytest.param(
            NIGHTS,
            [],
            ist(3, 5),
            DutyOutlook(True, until=ist(3, 6)),
            id="night-shift-crosses-midnight",
        ),
        pytest.param(
            [(0, t("09:00"), t("13:00")), (0, t("13:00"), t("18:00"))],
            [],
            ist(2, 10),
            DutyOutlook(True, until=ist(2, 18)),
            id="touching-hours-join",
        ),
        pytest.param(
            MON_FRI_9_18,
            [(ist(2, 8), ist(3, 12))],
            ist(2, 10),
            DutyOutlook(False, next_start=ist(3, 12)),
            id="time-off-wins-next-start-after-it",
        ),
        pytest.param(
            MON_FRI_9_18,
            [(ist(2, 12), ist(2, 13))],
            ist(2, 10),
            DutyOutlook(True, until=ist(2, 12)),
            id="on-duty-until-time-off",
        ),
        pytest.param(
            [],
            [(ist(2, 8), ist(2, 20))],
            ist(2, 10),
            DutyOutlook(False, next_start=ist(2, 20)),
            id="always-but-time-off",
        ),
        pytest.param(
            [(6, t("09:00"), t("10:00"))],
            [(ist(8, 0), ist(20, 0))],
            ist(2, 10),
            DutyOutlook(False),
            id="nothing-in-the-coming-week",
        ),
    ],
)
def test_duty_outlook(hours, time_off, now, expected):
    assert (
        duty_outlook(hours=hours, time_off=time_off, tz_name="Asia/Kolkata", now=now)
        == expected
    )


def test_hours_are_on_the_agents_clock():
    # 09:00 in New York is 19:30 in India (EST, UTC-5).
    outlook = duty_outlook(
        hours=MON_FRI_9_18, time_off=[], tz_name="America/New_York", now=ist(2, 12)
    )
    assert outlook == DutyOutlook(
        False, next_start=dt.datetime(2026, 11, 2, 9, tzinfo=NY)
    )
    assert outlook.next_start == ist(2, 19, 30)


times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30]))
rows = st.lists(st.tuples(st.integers(0, 6), times, times), max_size=4)


@pytest.mark.django_db
@given(
    hours=rows,
    off=st.lists(st.tuples(st.integers(0, 14 * 48), st.integers(1, 96)), max_size=2),
    step=st.integers(0, 14 * 48),
    tz_name=st.sampled_from(["Asia/Kolkata", "America/New_York", "UTC"]),
)
def test_on_duty_agrees_with_the_routing_rule(hours, off, step, tz_name):
    """The page says "on duty" exactly when `Agent.objects.on_duty` does."""
    base = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    now = base + dt.timedelta(minutes=30 * step)
    agent = Agent.objects.create(name="Asha", phone="+919900000001", timezone=tz_name)
    AgentHours.objects.bulk_create(
        AgentHours(agent=agent, weekday=w, starts=s, ends=e) for w, s, e in hours
    )
    periods = [
        (base + dt.timedelta(minutes=30 * a), base + dt.timedelta(minutes=30 * (a + b)))
        for a, b in off
    ]
    TimeOff.objects.bulk_create(
        TimeOff(agent=agent, starts_at=s, ends_at=e) for s, e in periods
    )
    try:
        outlook = duty_outlook(hours=hours, time_off=periods, tz_name=tz_name, now=now)
        routing_says = agents_on_duty(now).filter(pk=agent.pk).exists()
        assert outlook.on_duty == routing_says
        if outlook.next_start is not None:
            assert agents_on_duty(outlook.next_start).filter(pk=agent.pk).exists()
    finally:
        agent.delete()
