"""Status changes by hand (admin, board, keypad, personal page) and breaks that end."""

import datetime as dt
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agents.models import Agent, AgentStatus, StatusChange, StatusVia

BREAK_MINUTES_MAX = 240


@dataclass(frozen=True)
class StatusOutcome:
    """What one status request did: agents changed, already so, refused as inactive."""

    changed: int = 0
    unchanged: int = 0
    inactive: int = 0
    text: str = ""  # the status asked for, as pages say it (`change_agent_status`)


def change_agent_status(
    *,
    agents,
    status: AgentStatus,
    via: StatusVia,
    now: dt.datetime,
    reason: str = "",
    minutes: int | None = None,
    user=None,
) -> StatusOutcome:
    """Set the status a person asked for: a break of `minutes`, or until changed.

    The outcome says the status asked for on the current time zone's clock.
    """
    until = break_end(minutes, now=now)
    outcome = set_agent_status(
        agents=agents,
        status=status,
        reason=reason,
        until=until,
        via=via,
        user=user,
        now=now,
    )
    return replace(outcome, text=describe_status(status, reason, until, now=now))


def set_agent_status(
    *,
    agents,
    status: AgentStatus,
    via: StatusVia,
    now: dt.datetime,
    reason: str = "",
    until: dt.datetime | None = None,
    user=None,
) -> StatusOutcome:
    """Set the status of the active agents among `agents` (a queryset).

    A break may end at `until`; back to available the reason is cleared. Each agent
    whose status, reason or break end changes gets one StatusChange row and its
    count of missed calls restarts (DESIGN section 5); an agent already so is left
    untouched, an inactive one is refused. Engagements are never touched: an agent
    on a call who goes on break finishes the call.
    """
    status = AgentStatus(status)
    reason = "" if status == AgentStatus.AVAILABLE else reason.strip()[:200]
    until = until if status == AgentStatus.BREAK else None
    user = user if user is not None and user.is_authenticated else None
    changed, history = [], []
    unchanged = inactive = 0
    with transaction.atomic():
        end_due_breaks(now=now)
        rows = (
            Agent.objects.filter(pk__in=agents.order_by().values("pk"))
            .select_for_update()
            .order_by("pk")
            .values_list("pk", "active", "status", "status_reason", "status_until")
        )
        for pk, active, old_status, old_reason, old_until in rows:
            if not active:
                inactive += 1
            elif (old_status, old_reason, old_until) == (status, reason, until):
                unchanged += 1
            else:
                changed.append(pk)
                history.append(
                    StatusChange(
                        agent_id=pk,
                        old_status=old_status,
                        new_status=status,
                        reason=reason,
                        until=until,
                        changed_at=now,
                        via=via,
                        user=user,
                    )
                )
        if changed:
            Agent.objects.filter(pk__in=changed).update(
                status=status,
                status_reason=reason,
                status_until=until,
                status_changed_at=now,
                missed_in_row=0,
            )
            StatusChange.objects.bulk_create(history)
    return StatusOutcome(len(changed), unchanged, inactive)


def break_end(minutes: int | None, *, now: dt.datetime) -> dt.datetime | None:
    """Return when a break of `minutes` started at `now` ends (None: until changed)."""
    if minutes is None:
        return None
    if not 1 <= minutes <= BREAK_MINUTES_MAX:
        raise ValueError(f"a break lasts 1 to {BREAK_MINUTES_MAX} minutes")
    return now + dt.timedelta(minutes=minutes)


def clock_time(moment: dt.datetime, *, today: dt.date) -> str:
    """Return `moment` on the current clock: `14:30`, or `Tue 00:15` on another day."""
    local = timezone.localtime(moment)
    return f"{local:%H:%M}" if local.date() == today else f"{local:%a %H:%M}"


def describe_status(
    status: str, reason: str, until: dt.datetime | None, *, now: dt.datetime
) -> str:
    """Return a status as pages say it, on the current time zone's clock."""
    text = AgentStatus(status).label
    if status == AgentStatus.BREAK and until is not None:
        text += f" until {clock_time(until, today=timezone.localtime(now).date())}"
    return f"{text}: {reason}" if reason else text


def end_due_breaks(*, now: dt.datetime) -> int:
    """Make available every agent whose break ended by `now`; return how many.

    The history shows each break ending at its own end, not when this ran.
    """
    due = Q(status=AgentStatus.BREAK, status_until__lte=now)
    # A plain read first: the callers are pages that refresh every few seconds,
    # and on SQLite a write transaction would take the database's write lock.
    if not Agent.objects.filter(due).exists():
        return 0
    with transaction.atomic():
        ended = list(
            Agent.objects.filter(due)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", "status_until")
        )
        # Every SET reads the row as it was: the change time takes the break's end.
        Agent.objects.filter(pk__in=[pk for pk, _ in ended]).update(
            status=AgentStatus.AVAILABLE,
            status_reason="",
            status_changed_at=F("status_until"),
            status_until=None,
        )
        StatusChange.objects.bulk_create(
            StatusChange(
                agent_id=pk,
                old_status=AgentStatus.BREAK,
                new_status=AgentStatus.AVAILABLE,
                changed_at=until,
                via=StatusVia.BREAK_ENDED,
            )
            for pk, until in ended
        )
    return len(ended)
