"""When an agent is on duty: now, until when, and when their next hours start.

Plain data in, plain data out: the weekly hours as (weekday, starts, ends) rows,
time off as (starts_at, ends_at) pairs, the agent's time zone, and `now`. The
rules are those of `agents.models.on_duty_q`: no hours means always; an end at or
before the start runs into the next day; time off wins over hours.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

HORIZON_DAYS = 8  # a week of hours, and a day more for a shift crossing midnight


@dataclass(frozen=True)
class DutyOutlook:
    on_duty: bool
    until: dt.datetime | None = None  # when the current duty ends, if within reach
    next_start: dt.datetime | None = None  # off duty: when the next duty starts


Interval = tuple[dt.datetime, dt.datetime]


def duty_intervals(
    hours: Iterable[tuple[int, dt.time, dt.time]],
    *,
    tz_name: str,
    start: dt.datetime,
    days: int,
) -> list[Interval]:
    """Return the weekly hours from the day before `start` for `days` days, merged."""
    zone = zoneinfo.ZoneInfo(tz_name)
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    rows = list(hours)
    if not rows:
        return [(start - dt.timedelta(days=1), start + dt.timedelta(days=days))]
    intervals = []
    for offset in range(days + 1):
        date = first + dt.timedelta(days=offset)
        for weekday, starts, ends in rows:
            if weekday != date.weekday():
                continue
            end_date = date + dt.timedelta(days=1) if ends <= starts else date
            intervals.append(
                (
                    dt.datetime.combine(date, starts, tzinfo=zone),
                    dt.datetime.combine(end_date, ends, tzinfo=zone),
                )
            )
    return merge_intervals(intervals)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Return `intervals` sorted, with those that overlap or touch joined."""
    merged: list[Interval] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def subtract_intervals(
    intervals: list[Interval], removed: Iterable[Interval]
) -> list[Interval]:
    """Return `intervals` without the parts `removed` covers."""
    result = intervals
    for cut_begin, cut_end in removed:
        kept = []
        for begin, end in result:
            if cut_end <= begin or end <= cut_begin:
                kept.append((begin, end))
                continue
            if begin < cut_begin:
                kept.append((begin, cut_begin))
            if cut_end < end:
                kept.append((cut_end, end))
        result = kept
    return result


def duty_outlook(
    *,
    hours: Iterable[tuple[int, dt.time, dt.time]],
    time_off: Iterable[Interval],
    tz_name: str,
    now: dt.datetime,
    days: int = HORIZON_DAYS,
) -> DutyOutlook:
    """Return whether the agent is on duty at `now`, until when, or when next."""
    horizon = now + dt.timedelta(days=days)
    intervals = subtract_intervals(
        duty_intervals(hours, tz_name=tz_name, start=now, days=days), list(time_off)
    )
    for begin, end in intervals:
        if begin <= now < end:
            return DutyOutlook(on_duty=True, until=end if end < horizon else None)
        if now < begin:
            return DutyOutlook(on_duty=False, next_start=begin)
    return DutyOutlook(on_duty=False)
