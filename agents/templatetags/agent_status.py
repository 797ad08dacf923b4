"""How pages say an agent's status: "On break until 14:30: lunch"."""

import datetime as dt

from django import template
from django.utils import timezone

from agents.models import StatusVia
from agents.status import describe_status
from agents.status_time import format_duration

register = template.Library()


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
