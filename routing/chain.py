"""Read helpers shared by every consumer of a routing decision.

The overflow chain of a group and the knobs routing reads from each group, as the
plain data `routing.engine` plans with; the candidates of each group, as pools.
Reads only: the writes of a request are in `routing.claims` and
`routing.outcomes`.
"""

import datetime as dt

from agents.models import AgentGroup, Strategy
from agents.rules import agent_zones
from routing import engine
from routing.selection import MemberQuery

# Extra candidates read beyond the open slots, so that losing a claim race to
# another call rarely costs a second read.
CANDIDATE_SLACK = 2


def overflow_chain(group: AgentGroup) -> list[AgentGroup]:
    """Return the group, then its overflow groups, each once (cycles are cut)."""
    chain, seen = [], set()
    while group is not None and group.pk not in seen:
        seen.add(group.pk)
        chain.append(group)
        group = group.overflow
    return chain


def knobs(group: AgentGroup) -> engine.GroupKnobs:
    """Return what the planner needs of `group`."""
    return engine.GroupKnobs(
        id=group.pk,
        slug=group.slug,
        strategy=Strategy(group.strategy).label,
        batch_size=group.batch_size,
        max_attempts=group.max_attempts,
        hold_seconds=group.hold_seconds,
        parallel_ringing=group.parallel_ringing,
        fallback_numbers=tuple(group.fallback_number_list),
    )


class Pools:
    """Reads each group's candidates when the planner asks for them."""

    def __init__(
        self,
        chain: list[AgentGroup],
        *,
        moment: dt.datetime,
        caller: str,
        call_id: int | None,
        zones: list[str] | None = None,
    ):
        self.groups = {group.pk: group for group in chain}
        self.moment = moment
        self.caller = caller
        self.call_id = call_id
        self.zones = zones
        self.pools: dict[int, engine.Pool] = {}

    def read(self, group_id: int, *, slots: int, exclude_agent_ids=()) -> None:
        """Read (or read again, past `exclude_agent_ids`) one group's best candidates."""
        if self.zones is None:
            self.zones = agent_zones()
        limit = slots + CANDIDATE_SLACK
        candidates = MemberQuery(
            self.groups[group_id],
            moment=self.moment,
            zones=self.zones,
            caller=self.caller,
        ).candidates(
            limit=limit, call_id=self.call_id, exclude_agent_ids=exclude_agent_ids
        )
        self.pools[group_id] = engine.Pool(
            tuple(candidates), complete=len(candidates) < limit
        )


def plan_with_reads(
    *,
    offers,
    settlement: engine.Settlement,
    chain: list[AgentGroup],
    pools: Pools,
    now: dt.datetime,
    call_over: bool = False,
    lost_agent_ids: frozenset[int] = frozenset(),
) -> engine.Plan:
    """Plan, reading each group's candidates as the planner reaches it."""
    chain_knobs = [knobs(group) for group in chain]
    while True:
        plan = engine.plan(
            offers=offers,
            settlement=settlement,
            chain=chain_knobs,
            pools=pools.pools,
            now=now,
            call_over=call_over,
            lost_agent_ids=lost_agent_ids,
        )
        if plan.needs is None:
            return plan
        # Past the agents lost to other calls and those earlier groups gave.
        excluded = lost_agent_ids | {
            offer.agent_id
            for offer in plan.new
            if offer.agent_id and offer.group_id != plan.needs
        }
        pools.read(
            plan.needs,
            slots=chain_knobs[0].batch_size,
            exclude_agent_ids=sorted(excluded),
        )
