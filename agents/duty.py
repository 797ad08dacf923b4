"""When an agent is on duty: now, until when, and when their next hours start.

Plain data in, plain data out: the weekly hours as (weekday, starts, ends) rows,
time off as (starts_at, ends_at) pairs, the agent's time zone, and `now`. Whether
the agent is on duty at an instant is decided by the roster's own rules
(`agents.coverage.is_on`, that is `agents.rules`); this module only lists the
instants where the answer can change (each start and end of hours and time off)
and asks the rules at each.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from agents.coverage import Schedule, Weekly, is_on

HORIZON_DAYS = 8  # a week of hours, and a day more for a shift crossing midnight

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class DutyOutlook:
    on_duty: bool
    until: dt.datetime | None = None  # when the current duty ends, if within reach
    next_start: dt.datetime | None = None  # off duty: when the next duty starts


def duty_outlook(
    *,
    hours: Iterable[tuple[int, dt.time, dt.time]],
    time_off: Iterable[Interval],
    tz_name: str,
    now: dt.datetime,
    days: int = HORIZON_DAYS,
) -> DutyOutlook:
    """Return whether the agent is on duty at `now`, until when, or when next."""
    rows = [Weekly(*row) for row in hours]
    time_off = list(time_off)
    schedule = Schedule(
        name="", timezone=tz_name, hours=tuple(rows), time_off=tuple(time_off)
    )
    horizon = now + dt.timedelta(days=days)
    on_duty = is_on(schedule, now)
    for moment in _changes(rows, time_off, tz_name=tz_name, now=now, days=days):
        if moment >= horizon:
            break
        if is_on(schedule, moment) != on_duty:
            if on_duty:
                return DutyOutlook(on_duty=True, until=moment)
            return DutyOutlook(on_duty=False, next_start=moment)
    return DutyOutlook(on_duty=on_duty)


def _changes(rows, time_off, *, tz_name: str, now: dt.datetime, days: int):
    """The instants after `now` where being on duty may change, in order."""
    zone = zoneinfo.ZoneInfo(tz_name)
    first = now.astimezone(zone).date() - dt.timedelta(days=1)
    moments = set()
    for offset in range(days + 2):
        date = first + dt.timedelta(days=offset)
        for row in rows:
            if row.weekday == date.weekday():
                end_date = (
                    date + dt.timedelta(days=1) if row.ends <= row.starts else date
                )
                moments.add(dt.datetime.combine(date, row.starts, tzinfo=zone))
                moments.add(dt.datetime.combine(end_date, row.ends, tzinfo=zone))
    for starts_at, ends_at in time_off:
        moments.update((starts_at, ends_at))
    return sorted(moment for moment in moments if moment > now)
