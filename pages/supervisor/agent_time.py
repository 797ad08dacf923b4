"""Time available, on break and offline per member of a group, for one day."""

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from agents.models import Agent, AgentGroup, StatusChange
from agents.status_time import StatusState, StatusTime, status_time


@dataclass(frozen=True)
class AgentTime:
    agent: Agent
    time: StatusTime


def day_bounds(date: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the start and end of `date` on the clock of `tz_name`."""
    zone = zoneinfo.ZoneInfo(tz_name)
    start = dt.datetime.combine(date, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(
        date + dt.timedelta(days=1), dt.time(), tzinfo=zone
    )


def agent_times(
    *, group: AgentGroup, date: dt.date, now: dt.datetime
) -> list[AgentTime]:
    """Return each member's time by status on `date` (group's clock), up to `now`.

    Two queries whatever the group's size: the members with the status they had
    when the day began, and the day's changes.
    """
    start, end = day_bounds(date, group.timezone)
    end = max(min(end, now), start)
    before = StatusChange.objects.filter(
        agent=OuterRef("pk"), changed_at__lt=start
    ).order_by("-changed_at", "-pk")
    after = StatusChange.objects.filter(
        agent=OuterRef("pk"), changed_at__gte=start
    ).order_by("changed_at", "pk")
    members = list(
        Agent.objects.filter(memberships__group=group)
        .annotate(
            before_status=Subquery(before.values("new_status")[:1]),
            before_until=Subquery(before.values("until")[:1]),
            before_via=Subquery(before.values("via")[:1]),
            after_old_status=Subquery(after.values("old_status")[:1]),
        )
        .order_by("memberships__priority", "memberships__position", "name")
    )
    changes = defaultdict(list)
    for change in StatusChange.objects.filter(
        agent__in=[agent.pk for agent in members],
        changed_at__gte=start,
        changed_at__lt=end,
    ).only("agent_id", "changed_at", "new_status", "until", "via"):
        changes[change.agent_id].append(change)
    return [
        AgentTime(
            agent,
            status_time(
                changes=changes[agent.pk],
                initial=_status_at_start(agent),
                start=start,
                end=end,
            ),
        )
        for agent in members
    ]


def _status_at_start(agent: Agent) -> StatusState:
    if agent.before_status:
        return StatusState(agent.before_status, agent.before_until, agent.before_via)
    # No change before the day: the first change after says what it was; no
    # change at all, the status has been what it is now.
    return StatusState(agent.after_old_status or agent.status)
