"""Coverage: the times a group is open while none of its agents is scheduled.

`find_gaps` is plain data in, plain data out; `coverage_gaps` reads one group's
roster (a fixed handful of queries) and hands it over. Status (available, on
break) is not part of a schedule: coverage looks at hours and time off only.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Prefetch

from agents.models import AgentGroup, AgentHours, Membership, TimeOff

DEFAULT_STEP = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Weekly:
    """One weekly interval; an end at or before the start crosses midnight."""

    weekday: int
    starts: dt.time
    ends: dt.time


@dataclass(frozen=True)
class Schedule:
    """When a group is open, or an agent works (no hours = always)."""

    name: str
    timezone: str
    hours: tuple[Weekly, ...] = ()
    time_off: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    holidays: frozenset[dt.date] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Gap:
    starts: dt.datetime
    ends: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.ends - self.starts


def covers(hours: Iterable[Weekly], weekday: int, time_of_day: dt.time) -> bool:
    """Return whether weekly `hours` cover `weekday` at `time_of_day`.

    The same rule as `agents.models.covering_hours_q`, for data already in hand.
    """
    for row in hours:
        crosses = row.ends <= row.starts
        if (
            row.weekday == weekday
            and row.starts <= time_of_day
            and (row.ends > time_of_day or crosses)
        ):
            return True
        if crosses and row.weekday == (weekday - 1) % 7 and row.ends > time_of_day:
            return True
    return False


def is_on(schedule: Schedule, moment: dt.datetime) -> bool:
    """Return whether `schedule` is in force at `moment` (hours, time off, holidays)."""
    local = moment.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    if local.date() in schedule.holidays:
        return False
    if any(starts <= moment < ends for starts, ends in schedule.time_off):
        return False
    if not schedule.hours:
        return True
    return covers(schedule.hours, local.weekday(), local.time().replace(tzinfo=None))


def find_gaps(
    *,
    group: Schedule,
    agents: Sequence[Schedule],
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta = DEFAULT_STEP,
) -> list[Gap]:
    """Return the spans in [start, end) when `group` is open and no agent is on.

    Each `step` is judged by its first instant; adjacent uncovered steps merge.
    """
    gaps: list[Gap] = []
    moment = start
    while moment < end:
        uncovered = is_on(group, moment) and not any(
            is_on(agent, moment) for agent in agents
        )
        if uncovered:
            slot_end = min(moment + step, end)
            if gaps and gaps[-1].ends == moment:
                gaps[-1] = Gap(gaps[-1].starts, slot_end)
            else:
                gaps.append(Gap(moment, slot_end))
        moment += step
    return gaps


def floor_to_step(
    moment: dt.datetime, step: dt.timedelta = DEFAULT_STEP
) -> dt.datetime:
    """Round `moment` down to a whole `step` since the epoch (so :00 and :30)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return moment - (moment - epoch) % step


def coverage_gaps(
    group: AgentGroup,
    *,
    start: dt.datetime,
    days: int = 7,
    step: dt.timedelta = DEFAULT_STEP,
) -> list[Gap]:
    """Read `group`'s roster and return its coverage gaps over `days` from `start`."""
    start = floor_to_step(start, step)
    end = start + dt.timedelta(days=days)
    group_schedule = Schedule(
        name=group.name,
        timezone=group.timezone,
        hours=tuple(_weekly(group.hours.all())),
        holidays=frozenset(
            group.holidays.filter(
                date__gte=start.date() - dt.timedelta(days=1),
                date__lte=end.date() + dt.timedelta(days=1),
            ).values_list("date", flat=True)
        ),
    )
    memberships = (
        Membership.objects.filter(group=group, active=True, agent__active=True)
        .select_related("agent")
        .prefetch_related(
            Prefetch("agent__hours", queryset=AgentHours.objects.order_by()),
            Prefetch(
                "agent__time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=end, ends_at__gt=start),
            ),
        )
    )
    agents = [
        Schedule(
            name=membership.agent.name,
            timezone=membership.agent.timezone,
            hours=tuple(_weekly(membership.agent.hours.all())),
            time_off=tuple(
                (entry.starts_at, entry.ends_at)
                for entry in membership.agent.time_off.all()
            ),
        )
        for membership in memberships
    ]
    return find_gaps(
        group=group_schedule, agents=agents, start=start, end=end, step=step
    )


def describe_gap(gap: Gap, tz_name: str) -> str:
    """Describe a gap on the group's clock: `Mon 2026-11-02 18:00-20:30 (2h30m)`."""
    zone = zoneinfo.ZoneInfo(tz_name)
    starts, ends = gap.starts.astimezone(zone), gap.ends.astimezone(zone)
    end_format = "%H:%M" if ends.date() == starts.date() else "%a %Y-%m-%d %H:%M"
    minutes = int(gap.duration.total_seconds() // 60)
    return (
        f"{starts:%a %Y-%m-%d %H:%M}-{ends.strftime(end_format)} "
        f"({minutes // 60}h{minutes % 60:02d}m)"
    )


def _weekly(rows) -> list[Weekly]:
    return [Weekly(row.weekday, row.starts, row.ends) for row in rows]
