"""An agent's own callers to call back, and their "Call back" button (DESIGN 11).

Their callers: today's callers to call back of the agent's groups (as the
supervisors' list gives them, not yet marked called back) whom this agent last
spoke with (their last answered call was with this agent).
"""

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest

from agents.models import Agent, AgentGroup
from pages.reports.callbacks import MissedCaller, missed_callers
from routing.calls.callbacks import Placed, place_callback
from routing.exotel_api.account import off_reason
from routing.http.callback_events import status_callback_url
from routing.models import Attempt, Outcome


@dataclass(frozen=True)
class OwnCaller:
    group: AgentGroup
    row: MissedCaller


def own_callers(agent: Agent, *, today: dt.date, now: dt.datetime) -> list[OwnCaller]:
    """Return the agent's callers to call back today, newest first."""
    rows = [
        OwnCaller(group, row)
        for group in AgentGroup.objects.filter(memberships__agent=agent)
        for row in missed_callers(
            group=group, start=today, end=today, now=now, include_called_back=False
        )
    ]
    last_spoke = {}
    for caller, agent_id in (
        Attempt.objects.filter(
            call__caller__in={own.row.caller for own in rows},
            outcome=Outcome.COMPLETED,
            agent__isnull=False,
        )
        .order_by("outcome_at")
        .values_list("call__caller", "agent_id")
    ):
        last_spoke[caller] = agent_id
    mine = [own for own in rows if last_spoke.get(own.row.caller) == agent.pk]
    return sorted(mine, key=lambda own: own.row.last_try_at, reverse=True)


def call_back_from_page(
    request: HttpRequest, agent: Agent, *, now: dt.datetime
) -> Placed:
    """Call back the posted caller of the posted group, this agent first."""
    if off_reason():
        return Placed(False, f"Call back is off. {off_reason()}.")
    group = AgentGroup.objects.filter(
        slug=request.POST.get("group", ""), memberships__agent=agent
    ).first()
    caller = request.POST.get("caller", "")[:20]
    if group is None or not caller:
        return Placed(False, "No caller to call back.")
    return place_callback(
        group=group,
        caller=caller,
        status_callback_url=status_callback_url(request),
        now=now,
        agent=agent,
    )
