"""What the endpoint would answer for a new call now, and why each member is left out.

The numbers come from the endpoint's own code (`routing.selection` and the
overflow and fallback order of `routing.services`); the reasons come from
annotating the roster's Q builders, so the preview cannot drift from routing.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from agents.models import (
    AgentGroup,
    AgentStatus,
    Holiday,
    Membership,
    TimeOff,
    agent_timezones,
    in_hours_q,
    local_moment,
    not_engaged_q,
    on_time_off_q,
)
from routing import engine
from routing.selection import eligible_q, pick_candidates, ranked_memberships
from routing.services import fallback_owners, overflow_chain


@dataclass(frozen=True)
class PreviewNumber:
    position: int
    number: str
    group: AgentGroup
    agent_name: str = ""  # empty for a fallback number
    reason: str = ""
    agent_id: int | None = None


@dataclass
class MemberVerdict:
    membership: Membership
    offered_at_position: int | None = None
    reasons: list[str] = field(default_factory=list)
    engaged_call_sid: str = ""


@dataclass
class GroupPreview:
    group: AgentGroup
    closed_reason: str  # empty when the group is open
    members: list[MemberVerdict]


@dataclass
class RoutePreview:
    group: AgentGroup
    caller: str
    moment: dt.datetime
    slots: int
    numbers: list[PreviewNumber]
    groups: list[GroupPreview]
    unreached: list[AgentGroup]


def preview_route(
    *, group: AgentGroup, caller: str, moment: dt.datetime
) -> RoutePreview:
    """Return the numbers a new call to `group` would get at `moment`, and why not others."""
    slots = engine.slots_to_fill(
        pending=0,
        offered=0,
        batch_size=group.batch_size,
        max_attempts=group.max_attempts,
    )
    timezones = agent_timezones()
    chain = list(overflow_chain(group))
    numbers: list[PreviewNumber] = []
    visited: list[GroupPreview] = []
    for member_group in chain:
        if len(numbers) == slots:
            break
        candidates = pick_candidates(
            member_group,
            moment=moment,
            call_id=None,
            caller=caller,
            limit=slots - len(numbers),
            timezones=timezones,
            exclude_agent_ids=[n.agent_id for n in numbers],
        )
        numbers += [
            PreviewNumber(
                position=len(numbers) + index + 1,
                number=candidate.number,
                group=member_group,
                agent_name=candidate.name,
                reason=f"tier {candidate.priority}, "
                f"{member_group.get_strategy_display().lower()}",
                agent_id=candidate.agent_id,
            )
            for index, candidate in enumerate(candidates)
        ]
        visited.append(
            _group_preview(
                member_group,
                moment=moment,
                caller=caller,
                timezones=timezones,
                numbers=numbers,
            )
        )
    if len(numbers) < slots:
        owners = fallback_owners(chain)
        fallbacks = engine.pick_fallback_numbers(
            owners, offered=[n.number for n in numbers], slots=slots - len(numbers)
        )
        numbers += [
            PreviewNumber(
                position=len(numbers) + index + 1,
                number=number,
                group=owners[number],
                reason="fallback number",
            )
            for index, number in enumerate(fallbacks)
        ]
    return RoutePreview(
        group=group,
        caller=caller,
        moment=moment,
        slots=slots,
        numbers=numbers,
        groups=visited,
        unreached=chain[len(visited) :],
    )


def _boolean(q) -> ExpressionWrapper:
    return ExpressionWrapper(q, output_field=BooleanField())


def _group_preview(
    group: AgentGroup,
    *,
    moment: dt.datetime,
    caller: str,
    timezones: list[str],
    numbers: list[PreviewNumber],
) -> GroupPreview:
    """Explain, member by member, the group's part of the answer."""
    closed_reason = _closed_reason(group, moment)
    members = list(
        ranked_memberships(group, moment=moment, caller=caller)
        .select_related("agent")
        .annotate(
            is_eligible=_boolean(eligible_q(group, moment, timezones=timezones)),
            is_in_hours=_boolean(
                in_hours_q(moment, prefix="agent__", timezones=timezones)
            ),
            is_on_time_off=_boolean(on_time_off_q(moment, prefix="agent__")),
            is_free=_boolean(not_engaged_q(moment, prefix="agent__")),
        )
    )
    time_off = {
        entry.agent_id: entry
        for entry in TimeOff.objects.filter(
            agent__in=[m.agent_id for m in members if m.is_on_time_off],
            starts_at__lte=moment,
            ends_at__gt=moment,
        )
    }
    offered = {n.agent_id: n for n in numbers if n.agent_id is not None}
    # The deepest tier this group gave a number from: eligible members below it
    # wait for their tier, the others for their turn.
    last_tier = max(
        (
            m.priority
            for m in members
            if m.agent_id in offered and offered[m.agent_id].group.pk == group.pk
        ),
        default=None,
    )
    verdicts = []
    for membership in members:
        verdict = MemberVerdict(membership=membership)
        number = offered.get(membership.agent_id)
        if number is not None:
            verdict.offered_at_position = number.position
            if number.group.pk != group.pk:
                verdict.reasons.append(f"already offered through {number.group}")
        elif membership.is_eligible:
            if last_tier is not None and membership.priority > last_tier:
                verdict.reasons.append(
                    f"lower tier: tier {membership.priority} rings after "
                    f"tier {last_tier}"
                )
            else:
                verdict.reasons.append(
                    "not yet their turn in the "
                    f"{group.get_strategy_display().lower()} order"
                )
        else:
            verdict.reasons = _reasons(
                membership, moment=moment, time_off=time_off.get(membership.agent_id)
            )
            if not membership.is_free:
                verdict.engaged_call_sid = membership.agent.engaged_call_sid
            if closed_reason:
                verdict.reasons.append(closed_reason)
            if not verdict.reasons:
                verdict.reasons.append("not eligible")
        verdicts.append(verdict)
    return GroupPreview(group=group, closed_reason=closed_reason, members=verdicts)


def _reasons(membership, *, moment: dt.datetime, time_off: TimeOff | None) -> list[str]:
    agent = membership.agent
    reasons = []
    if not agent.active:
        reasons.append("agent inactive")
    if not membership.active:
        reasons.append("membership inactive")
    if agent.status != AgentStatus.AVAILABLE:
        label = agent.get_status_display().lower()
        reasons.append(
            f"{label}: {agent.status_reason}" if agent.status_reason else label
        )
    if not membership.is_in_hours:
        reasons.append("outside their hours")
    if membership.is_on_time_off:
        until = f" until {_local(time_off.ends_at)}" if time_off else ""
        note = f" ({time_off.reason})" if time_off and time_off.reason else ""
        reasons.append(f"on time off{until}{note}")
    if not membership.is_free:
        reasons.append(
            f"engaged on call {agent.engaged_call_sid or '?'} "
            f"until {_local(agent.engaged_until)}"
        )
    return reasons


def _closed_reason(group: AgentGroup, moment: dt.datetime) -> str:
    if group.is_open(moment):
        return ""
    _, _, date = local_moment(moment, group.timezone)
    holiday = Holiday.objects.filter(group=group, date=date).first()
    if holiday is not None:
        return f"group closed: holiday{f' ({holiday.name})' if holiday.name else ''}"
    return "group closed: outside opening hours"


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
