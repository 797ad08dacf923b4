"""Coverage: the times a group is open while none of its agents is scheduled.

`find_gaps` is plain data in, plain data out; `coverage_gaps` reads one group's
roster (a fixed handful of queries) and hands it over. Status (available, on
break) is not part of a schedule: coverage looks at hours and time off only.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Prefetch

from agents import rules
from agents.models import AgentGroup, AgentHours, Membership, TimeOff
from agents.rules.render import PythonContext
from agents.rules.roster import all_of

DEFAULT_STEP = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Weekly:
    """One weekly interval; an end at or before the start crosses midnight."""

    weekday: int
    starts: dt.time
    ends: dt.time


class TimeOffSpan(NamedTuple):
    starts_at: dt.datetime
    ends_at: dt.datetime


class HolidayDate(NamedTuple):
    date: dt.date


class SkillLevel(NamedTuple):
    skill_id: str
    level: int


@dataclass(frozen=True)
class Schedule:
    """When a group is open, or an agent works (no hours = always)."""

    name: str
    timezone: str
    hours: tuple[Weekly, ...] = ()
    time_off: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    id: int = 0
    skills: tuple[tuple[str, int], ...] = ()

    def related(self, role: str, owner_id) -> Iterable:
        """The rows a rule asks for: weekly hours, time off, skills or holidays."""
        if role in {"agent_hours", "group_hours"}:
            return self.hours
        if role == "time_off":
            return [TimeOffSpan(*span) for span in self.time_off]
        if role == "agent_skill":
            return [SkillLevel(*skill) for skill in self.skills]
        return [HolidayDate(date) for date in self.holidays]


@dataclass(frozen=True)
class Gap:
    starts: dt.datetime
    ends: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.ends - self.starts


# Coverage plans with schedules, not with status: the rules of agents.rules.
SCHEDULE_RULES = {
    "agent": all_of([rules.IN_HOURS, rules.NOT_ON_TIME_OFF]),
    "group": rules.GROUP_OPEN.expr,
}


def is_on(
    schedule: Schedule, moment: dt.datetime, *, role: str = "agent", rule=None
) -> bool:
    """Return whether `schedule` is in force at `moment`: an agent's hours and time
    off, or (`role="group"`) a group's opening hours and holidays; `rule`, when
    given, replaces the agent's rules (a route's: theirs and the needs)."""
    context = PythonContext(
        moment=moment, rows={role: schedule}, related_rows=schedule.related
    )
    return context.holds(rule if rule is not None else SCHEDULE_RULES[role])


def find_gaps(
    *,
    group: Schedule,
    agents: Sequence[Schedule],
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta = DEFAULT_STEP,
    agent_rule=None,
) -> list[Gap]:
    """Return the spans in [start, end) when `group` is open and no agent is on
    (by `agent_rule`, when given).

    Each `step` is judged by its first instant; adjacent uncovered steps merge.
    """
    gaps: list[Gap] = []
    moment = start
    while moment < end:
        uncovered = is_on(group, moment, role="group") and not any(
            is_on(agent, moment, rule=agent_rule) for agent in agents
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
    needs: tuple[tuple[str, int], ...] = (),
) -> list[Gap]:
    """Read `group`'s roster and return its coverage gaps over `days` from `start`:
    the times it is open and none of its agents (none who meet `needs`, when
    given: a route's gaps) is scheduled."""
    start = floor_to_step(start, step)
    end = start + dt.timedelta(days=days)
    group_schedule = Schedule(
        id=group.pk,
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
    if needs:
        memberships = memberships.prefetch_related("agent__skills")
    agents = [
        Schedule(
            id=membership.agent_id,
            name=membership.agent.name,
            timezone=membership.agent.timezone,
            hours=tuple(_weekly(membership.agent.hours.all())),
            time_off=tuple(
                (entry.starts_at, entry.ends_at)
                for entry in membership.agent.time_off.all()
            ),
            skills=tuple(
                (skill.skill_id, skill.level) for skill in membership.agent.skills.all()
            )
            if needs
            else (),
        )
        for membership in memberships
    ]
    rule = None
    if needs:
        rule = all_of([rules.IN_HOURS, rules.NOT_ON_TIME_OFF, rules.meets_needs(needs)])
    return find_gaps(
        group=group_schedule,
        agents=agents,
        start=start,
        end=end,
        step=step,
        agent_rule=rule,
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
