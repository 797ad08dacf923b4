"""What the endpoint would answer for a new call now, and why each member is left out.

The numbers come from the endpoint's own planner (`routing.decision.engine.plan`, over the
candidates of `routing.calls.selection`); each member's verdict comes from the same
rules rendered as one boolean column each (`MemberQuery.verdicts`), so the
preview cannot drift from routing.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import formats, timezone

from agents import rules
from agents.models import (
    AgentGroup,
    AgentSkill,
    Caller,
    Holiday,
    Membership,
    Route,
    TimeOff,
)
from agents.rules.language import Clock
from agents.rules.queries import agent_zones
from agents.skills import describe_needs, stored_needs
from routing.calls.call_state import call_needs
from routing.calls.planner import Pools, group_settings, overflow_chain, plan_with_reads
from routing.calls.selection import MemberQuery, Verdict
from routing.decision import engine


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
    notes: list[str] = field(default_factory=list)  # owner, needs met or lacking
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
    route: Route | None = None
    needs: str = ""  # in plain words
    known: Caller | None = None
    notes: list[str] = field(default_factory=list)


def preview_route(
    *,
    group: AgentGroup,
    caller: str,
    moment: dt.datetime,
    route: Route | None = None,
) -> RoutePreview:
    """Return the numbers a new call to `group` (by `route`, if any) from `caller`
    would get at `moment`, and why not others."""
    chain = overflow_chain(group)
    zones = agent_zones()
    known = (
        Caller.objects.select_related("owner").filter(number=caller).first()
        if caller
        else None
    )
    needs_text, relax_after = call_needs(route, known.needs if known else "")
    needs = engine.CallNeeds(
        skills=stored_needs(needs_text),
        strict=bool(needs_text) and relax_after != 0,
    )
    facts = engine.KnownCaller(
        owner_id=known.owner_id if known else None,
        strict=bool(known and known.binding == "strict" and known.owner_id),
        vip=bool(known and known.vip),
        blocked=bool(known and known.blocked),
    )
    vip_group = group.vip_group if facts.vip and group.vip_group_id else None
    pools = Pools(
        chain,
        moment=moment,
        caller=caller,
        call_id=None,
        zones=zones,
        needs=needs,
        vip_group=vip_group,
    )
    plan = plan_with_reads(
        offers=[],
        settlement=engine.Settlement(),
        chain=chain,
        pools=pools,
        now=moment,
        needs=needs,
        caller=facts,
        vip_group=vip_group,
    )
    if vip_group is not None:
        chain = [vip_group, *chain]
    by_id = {member_group.pk: member_group for member_group in chain}
    numbers = [
        PreviewNumber(
            position=index,
            number=offer.number,
            group=by_id[offer.group_id],
            agent_name=offer.candidate.name if offer.candidate else "",
            reason=offer.reason,
            agent_id=offer.agent_id,
        )
        for index, offer in enumerate(plan.new, start=1)
    ]
    # The groups the planner read are the ones the answer reached.
    # The entry group is always explained, even when an owner or a block
    # answered before it was read.
    read = {key[0] if isinstance(key, tuple) else key for key in pools.pools}
    read.add(group.pk)
    visited = [member_group for member_group in chain if member_group.pk in read]
    entry = group_settings(group)
    return RoutePreview(
        group=group,
        caller=caller,
        moment=moment,
        slots=engine.slots_to_fill(
            pending=0,
            offered=0,
            batch_size=entry.batch_size,
            max_attempts=entry.max_attempts,
        ),
        numbers=numbers,
        groups=[
            _group_preview(
                g,
                moment=moment,
                caller=caller,
                zones=zones,
                numbers=numbers,
                needs=needs.skills,
                owner_id=facts.owner_id,
            )
            for g in visited
        ],
        unreached=[g for g in chain if g not in visited],
        route=route,
        needs=describe_needs(needs.skills) if needs.skills else "",
        known=known,
        notes=[*plan.notes, *_caller_notes(known, needs, relax_after)],
    )


def _caller_notes(known: Caller | None, needs: engine.CallNeeds, relax_after) -> list:
    notes = []
    if needs.skills:
        if relax_after is None:
            notes.append("only agents who meet the needs ring; they never relax")
        elif relax_after == 0:
            notes.append("agents who meet the needs ring first, then the others")
        else:
            notes.append(
                f"only agents who meet the needs ring for {relax_after} seconds, "
                "then the others too"
            )
    if known is None:
        return notes
    if known.blocked:
        notes.append("blocked caller: the answer is empty")
    if known.owner_id:
        binding = "only the owner" if known.binding == "strict" else "first"
        notes.append(f"owner {known.owner.name} rings {binding} when available")
    if known.vip:
        notes.append("VIP caller: the group's VIP group rings first")
    return notes


def _group_preview(
    group: AgentGroup,
    *,
    moment: dt.datetime,
    caller: str,
    zones: list[str],
    numbers: list[PreviewNumber],
    needs: tuple = (),
    owner_id: int | None = None,
) -> GroupPreview:
    """Explain, member by member, the group's part of the answer."""
    verdicts = MemberQuery(
        group, moment=moment, zones=zones, caller=caller, needs=needs
    ).verdicts()
    memberships = Membership.objects.select_related("agent").in_bulk(
        [verdict.candidate.membership_id for verdict in verdicts]
    )
    levels = {}
    if needs:
        levels = {
            (agent_id, name): level
            for agent_id, name, level in AgentSkill.objects.filter(
                agent__memberships__group=group, skill_id__in=[n for n, _ in needs]
            ).values_list("agent_id", "skill_id", "level")
        }
    closed_reason = ""
    if verdicts and not verdicts[0].passes[rules.GROUP_OPEN.name]:
        closed_reason = _closed_reason(group, moment)
    elif not verdicts and not rules.group_is_open(group, moment):
        closed_reason = _closed_reason(group, moment)
    on_time_off = [
        v.candidate.agent_id
        for v in verdicts
        if not v.passes[rules.NOT_ON_TIME_OFF.name]
    ]
    time_off = {}
    if on_time_off:
        time_off = {
            entry.agent_id: entry
            for entry in TimeOff.objects.filter(
                agent__in=on_time_off, starts_at__lte=moment, ends_at__gt=moment
            )
        }
    offered = {n.agent_id: n for n in numbers if n.agent_id is not None}
    # The deepest tier this group gave a number from: eligible members below it
    # wait for their tier, the others for their turn.
    last_tier = max(
        (
            v.candidate.priority
            for v in verdicts
            if v.candidate.agent_id in offered
            and offered[v.candidate.agent_id].group.pk == group.pk
        ),
        default=None,
    )
    members = []
    for verdict in verdicts:
        membership = memberships[verdict.candidate.membership_id]
        member = MemberVerdict(membership=membership)
        if membership.agent_id == owner_id:
            member.notes.append("owner of this caller")
        if needs:
            member.notes.extend(
                _needs_verdict(membership.agent_id, needs, verdict.skills, levels)
            )
        number = offered.get(membership.agent_id)
        if number is not None:
            member.offered_at_position = number.position
            if number.group.pk != group.pk:
                member.reasons.append(f"already offered through {number.group}")
        elif verdict.eligible:
            if last_tier is not None and membership.priority > last_tier:
                member.reasons.append(
                    f"lower tier: tier {membership.priority} rings after "
                    f"tier {last_tier}"
                )
            else:
                member.reasons.append(
                    "not yet their turn in the "
                    f"{group.get_strategy_display().lower()} order"
                )
        else:
            member.reasons = _reasons(
                membership,
                verdict,
                closed_reason=closed_reason,
                time_off=time_off.get(membership.agent_id),
            )
            if not verdict.passes[rules.NOT_ENGAGED.name]:
                member.engaged_call_sid = membership.agent.engaged_call_sid
        members.append(member)
    return GroupPreview(group=group, closed_reason=closed_reason, members=members)


def _needs_verdict(agent_id, needs, met: dict, levels: dict) -> list[str]:
    """`meets the needs`, or what the member lacks with their level."""
    lacks = []
    for name, level in needs:
        if met.get(name):
            continue
        has = levels.get((agent_id, name))
        had = f"has {has}, needs {level}" if has else f"does not have it, needs {level}"
        lacks.append(f"lacks {name} ({had})")
    return lacks or ["meets the needs"]


def _reasons(
    membership: Membership,
    verdict: Verdict,
    *,
    closed_reason: str,
    time_off: TimeOff | None,
) -> list[str]:
    """Say, rule by rule, why the member may not be offered the call."""
    agent = membership.agent
    reasons = []
    for rule in rules.ELIGIBLE:
        if verdict.passes[rule.name]:
            continue
        if rule is rules.AVAILABLE:
            label = agent.get_status_display().lower()
            reasons.append(
                f"{label}: {agent.status_reason}" if agent.status_reason else label
            )
        elif rule is rules.NOT_ON_TIME_OFF:
            until = f" until {_local(time_off.ends_at)}" if time_off else ""
            note = f" ({time_off.reason})" if time_off and time_off.reason else ""
            reasons.append(f"{rule.reason}{until}{note}")
        elif rule is rules.NOT_ENGAGED:
            reasons.append(
                f"held by call {agent.engaged_call_sid or '?'}; released by "
                f"{_local(agent.engaged_until)} at the latest if no outcome arrives"
            )
        elif rule is rules.GROUP_OPEN:
            reasons.append(closed_reason or rule.reason)
        else:
            reasons.append(rule.reason)
    return reasons or ["not eligible"]


def _closed_reason(group: AgentGroup, moment: dt.datetime) -> str:
    date = Clock.of(moment, group.timezone).date
    holiday = Holiday.objects.filter(group=group, date=date).first()
    if holiday is not None:
        return f"group closed: holiday{f' ({holiday.name})' if holiday.name else ''}"
    return "group closed: outside opening hours"


def _local(moment: dt.datetime) -> str:
    """The pages' one format, on the clock in force (the group's, in the preview)."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
