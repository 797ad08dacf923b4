"""How pages say an agent's status: "On break until 14:30: lunch"."""

import datetime as dt

from django import template
from django.utils import timezone

from agents.models import AgentStatus, StatusVia
from agents.status_time import format_duration

register = template.Library()


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


@register.filter
def status_text(agent) -> str:
    """Say `agent`'s status: "Available", "On break until 14:30: lunch"."""
    return describe_status(
        agent.status, agent.status_reason, agent.status_until, now=timezone.now()
    )


@register.filter
def via_label(via: str | None) -> str:
    """Say where a status came from: "keypad" -> "Phone keypad"."""
    return StatusVia(via).label if via in StatusVia.values else ""


@register.filter
def duration_text(value: dt.timedelta) -> str:
    """Say a duration in hours and minutes: `3h 05m`."""
    return format_duration(value)
