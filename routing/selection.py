"""Who may take a call now, in the order the group's strategy gives.

Eligibility and order are decided in SQL, limited to what the answer needs, so
a request costs the same few statements whatever the size of the group.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Random

from agents.models import (
    AgentGroup,
    AgentStatus,
    Membership,
    Strategy,
    not_engaged_q,
    on_duty_q,
)
from routing.models import Attempt, Outcome


@dataclass(frozen=True)
class Candidate:
    membership_id: int
    agent_id: int
    number: str
    name: str
    priority: int
    position: int


def eligible_q(group: AgentGroup, moment: dt.datetime, *, timezones=None) -> Q:
    """Match the group's memberships that may be offered a call at `moment`."""
    return (
        Q(group=group, active=True, agent__status=AgentStatus.AVAILABLE)
        & on_duty_q(moment, prefix="agent__", timezones=timezones)
        & not_engaged_q(moment, prefix="agent__")
        & group.open_q(moment, prefix="group__")
    )


def ranked_memberships(
    group: AgentGroup, *, moment: dt.datetime, caller: str = ""
) -> QuerySet:
    """Return the group's memberships in the order its strategy offers them.

    Sticky agent first (when the group is sticky), then priority tiers, then the
    strategy's key within a tier, then position and name.
    """
    annotations = {}
    order = []
    if group.sticky_days and caller:
        last_answerer = (
            Attempt.objects.filter(
                group=group,
                call__caller=caller,
                outcome=Outcome.COMPLETED,
                outcome_at__gte=moment - dt.timedelta(days=group.sticky_days),
            )
            .order_by("-outcome_at")
            .values("agent_id")[:1]
        )
        annotations["sticky_rank"] = Case(
            When(agent_id=Subquery(last_answerer), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        order.append("sticky_rank")
    order.append("priority")
    if group.strategy == Strategy.ROUND_ROBIN and group.rotation:
        annotations["rotation_lap"] = _rotation_lap(group.rotation)
        order.append("rotation_lap")
    elif group.strategy == Strategy.LONGEST_IDLE:
        order.append(F("agent__last_answered_at").asc(nulls_first=True))
    elif group.strategy == Strategy.FEWEST_CALLS:
        annotations["answered_today"] = _answered_since(_local_midnight(group, moment))
        order.append("answered_today")
    elif group.strategy == Strategy.RANDOM:
        order.append(Random())
    order += ["position", "agent__name", "agent_id"]
    return (
        Membership.objects.filter(group=group).annotate(**annotations).order_by(*order)
    )


def pick_candidates(
    group: AgentGroup,
    *,
    moment: dt.datetime,
    call_id: int | None,
    caller: str,
    limit: int,
    timezones=None,
    exclude_agent_ids=(),
) -> list[Candidate]:
    """Return up to `limit` eligible members never offered for the call, in order."""
    members = ranked_memberships(group, moment=moment, caller=caller).filter(
        eligible_q(group, moment, timezones=timezones)
    )
    if call_id is not None:
        offered = Attempt.objects.filter(call_id=call_id)
        members = members.exclude(
            Exists(offered.filter(agent=OuterRef("agent")))
            | Exists(offered.filter(number=OuterRef("agent__phone")))
        )
    if exclude_agent_ids:
        members = members.exclude(agent_id__in=exclude_agent_ids)
    rows = members.values_list(
        "pk", "agent_id", "agent__phone", "agent__name", "priority", "position"
    )[:limit]
    return [
        Candidate(membership, agent, str(phone), name, priority, position)
        for membership, agent, phone, name, priority, position in rows
    ]


def _rotation_lap(rotation: dict) -> Case:
    """Rank a tier's members after its pointer 0, the rest (wrapping round) 1."""
    after_pointer = [
        When(
            Q(priority=int(tier))
            & (Q(position__gt=position) | Q(position=position, agent__name__gt=name)),
            then=Value(0),
        )
        for tier, (position, name) in rotation.items()
    ]
    return Case(*after_pointer, default=Value(1), output_field=IntegerField())


def _local_midnight(group: AgentGroup, moment: dt.datetime) -> dt.datetime:
    local = moment.astimezone(zoneinfo.ZoneInfo(group.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _answered_since(since: dt.datetime) -> Coalesce:
    answered = (
        Attempt.objects.filter(
            agent=OuterRef("agent"), outcome=Outcome.COMPLETED, outcome_at__gte=since
        )
        .order_by()
        .values("agent")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(answered, output_field=IntegerField()), Value(0))
