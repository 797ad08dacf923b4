"""Read helpers shared by every consumer of a routing decision.

The overflow chain of a group and the settings routing reads from each group, as the
plain data `routing.decision.engine` plans with; the candidates of each group, as pools.
Reads only: the writes of a request are in `routing.calls.claims` and
`routing.calls.call_state`.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from agents.models import AgentGroup, Strategy
from agents.rules.queries import agent_zones
from agents.sql import Sql
from routing.calls.selection import (
    MemberQuery,
    candidates_from_json,
    owner_candidates,
)
from routing.decision import engine

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


def group_settings(group: AgentGroup) -> engine.GroupSettings:
    """Return what the planner needs of `group`."""
    return engine.GroupSettings(
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
        needs: engine.CallNeeds = engine.NO_NEEDS,
        vip_group: AgentGroup | None = None,
    ):
        self.groups = {group.pk: group for group in chain}
        if vip_group is not None:
            self.groups.setdefault(vip_group.pk, vip_group)
        self.moment = moment
        self.caller = caller
        self.call_id = call_id
        self.zones = zones
        self.needs = needs
        self.pools: dict[object, engine.Pool] = {}

    def read(self, key, *, slots: int, exclude_agent_ids=()) -> None:
        """Read (or read again, past `exclude_agent_ids`) one pool's best
        candidates: a group's (`key` its id, or (id, part) when the call has
        needs), or the caller's owner's."""
        if self.zones is None:
            self.zones = agent_zones()
        limit = slots + CANDIDATE_SLACK
        if engine.is_owner_pool(key):
            candidates = owner_candidates(
                agent_id=key[1],
                moment=self.moment,
                zones=self.zones,
                call_id=self.call_id,
                exclude_agent_ids=exclude_agent_ids,
            )
            self.fill(key, candidates, limit=limit)
            return
        group_id, part = key if isinstance(key, tuple) else (key, "")
        candidates = MemberQuery(
            self.groups[group_id],
            moment=self.moment,
            zones=self.zones,
            caller=self.caller,
            needs=self.needs.skills if part else (),
            part=part,
            strict=self.needs.strict,
        ).candidates(
            limit=limit, call_id=self.call_id, exclude_agent_ids=exclude_agent_ids
        )
        self.fill(key, candidates, limit=limit)

    def fill(self, key, candidates, *, limit: int) -> None:
        """Take `candidates`, read with `limit`, as the pool of `key`."""
        self.pools[key] = engine.Pool(
            tuple(candidates), complete=len(candidates) < limit
        )


# The entry group (and the needs of a new call) each pinned URL had on this
# process's last request. A new call's first read can then carry its candidates
# too (PostgreSQL: one round trip fewer), on the guess that the group and the
# needs are unchanged; the group and the call as read decide.
_last_seen: dict[str, tuple[AgentGroup, engine.CallNeeds]] = {}


@dataclass(frozen=True)
class Guess:
    """The entry group's candidates, read on the guess that it is `group` and a
    new call needs `needs`."""

    group: AgentGroup
    needs: engine.CallNeeds
    limit: int
    sql: Sql

    def fits(self, group: AgentGroup | None, needs: engine.CallNeeds) -> bool:
        """Whether `group`, as read, and the call's `needs` give the statement
        that was guessed."""
        return (
            group is not None
            and _shape(group) == _shape(self.group)
            and needs == self.needs
        )

    def fill(self, pools: Pools, value: str) -> None:
        candidates = candidates_from_json(value, limit=self.limit)
        pools.fill(self.needs.keys(self.group.pk)[0], candidates, limit=self.limit)


def guess_entry_candidates(
    group_slug: str | None, *, moment: dt.datetime, caller: str
) -> Guess | None:
    """The first read of a new call's candidates, as a scalar subquery."""
    seen = _last_seen.get(group_slug or "")
    if seen is None or connection.vendor != "postgresql":
        return None
    group, needs = seen
    # As `Pools.read` reads a new call's first pool: its batch, no exclusions,
    # no offers yet; PostgreSQL needs no list of zones.
    limit = group.batch_size + CANDIDATE_SLACK
    query = MemberQuery(
        group,
        moment=moment,
        zones=[],
        caller=caller,
        needs=needs.skills,
        part=engine.MEETS if needs.skills else "",
        strict=needs.strict,
    )
    return Guess(group, needs, limit, query.candidates_json_sql(limit=limit))


def remember_entry_group(
    group_slug: str | None, group: AgentGroup | None, needs: engine.CallNeeds
) -> None:
    """Remember the entry group and the needs of a new call to `group_slug`."""
    if group_slug and group is not None:
        _last_seen[group_slug] = (group, needs)


def _shape(group: AgentGroup) -> tuple:
    """What of a group the candidate statement is written from."""
    return (
        group.pk,
        group.strategy,
        group.rotation,
        group.sticky_days,
        group.timezone,
        group.batch_size,
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
    needs: engine.CallNeeds = engine.NO_NEEDS,
    caller: engine.KnownCaller = engine.UNKNOWN_CALLER,
    vip_group: AgentGroup | None = None,
) -> engine.Plan:
    """Plan, reading each pool's candidates as the planner reaches it."""
    chain_settings = [group_settings(group) for group in chain]
    vip_settings = group_settings(vip_group) if vip_group is not None else None
    while True:
        plan = engine.plan(
            offers=offers,
            settlement=settlement,
            chain=chain_settings,
            pools=pools.pools,
            now=now,
            call_over=call_over,
            lost_agent_ids=lost_agent_ids,
            needs=needs,
            caller=caller,
            vip_group=vip_settings,
        )
        if plan.needs is None:
            return plan
        # Past the agents lost to other calls and those earlier pools gave.
        excluded = lost_agent_ids | {
            offer.agent_id
            for offer in plan.new
            if offer.agent_id and offer.pool != plan.needs
        }
        pools.read(
            plan.needs,
            slots=chain_settings[0].batch_size,
            exclude_agent_ids=sorted(excluded),
        )
