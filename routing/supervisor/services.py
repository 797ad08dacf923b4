"""What a supervisor changes from the board."""

import datetime as dt

from agents.models import Agent, AgentStatus


def set_agent_status(
    *, agent: Agent, status: AgentStatus, reason: str, now: dt.datetime
) -> None:
    """Set `agent`'s status by hand; this restarts the count of missed calls."""
    Agent.objects.filter(pk=agent.pk).update(
        status=status,
        status_reason=reason if status != AgentStatus.AVAILABLE else "",
        status_changed_at=now,
        missed_in_row=0,
    )
