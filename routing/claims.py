"""Engagements: claiming agents for a call, and freeing them again.

An agent is claimed only by a compare-and-set UPDATE that re-checks, on the row
itself, the rules that other calls can change (`agents.rules`: active, available,
not engaged): two calls deciding at the same instant on different machines never
get the same agent. On PostgreSQL the UPDATE waits for a competing transaction's
row lock and re-checks the row it committed; on SQLite writers take turns.
"""

import datetime as dt
from collections.abc import Sequence

from django.db import connection
from django.db.models import Case, F, PositiveIntegerField, Value, When

from agents import rules
from agents.models import Agent, AgentGroup, AgentStatus, StatusChange, StatusVia
from agents.rules import ORM_AGENT, TABLES, Sql, SqlContext, all_of, orm_condition
from routing import engine

CLAIMABLE = (rules.AGENT_ACTIVE, rules.AVAILABLE, rules.NOT_ENGAGED)
AGENT = TABLES["agent"]


def claim_agents(
    offers: Sequence[engine.NewOffer], *, call_sid: str, now: dt.datetime
) -> set[int]:
    """Engage the offers' agents for the call; return the agent ids won."""
    offers = [offer for offer in offers if offer.agent_id is not None]
    if not offers:
        return set()
    context = SqlContext(moment=now, aliases={"agent": AGENT})
    until = Sql(" ").join(
        Sql("WHEN %s THEN %s", (offer.agent_id, _datetime(offer.hold_until or now)))
        for offer in offers
    )
    ids = Sql(", ").join(Sql.param(offer.agent_id) for offer in offers)
    statement = (
        f"UPDATE {AGENT} SET engaged_until = CASE id "
        + until
        + " END, engaged_call_sid = "
        + Sql.param(call_sid)
        + " WHERE id IN ("
        + ids
        + ") AND "
        + context.fragment(all_of(CLAIMABLE))
        + " RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)
        return {row[0] for row in cursor.fetchall()}


def release_agents(
    *,
    call_sid: str,
    closures: Sequence[engine.Closure],
    now: dt.datetime,
) -> None:
    """Free the agents of `closures` that this call engages; count no-answers.

    An agent who reaches their group's `missed_to_pause` consecutive no-answers is
    put on break, and the history says so.
    """
    agent_ids = sorted({c.offer.agent_id for c in closures if c.offer.agent_id})
    if not agent_ids:
        return
    missed = {c.offer.agent_id: c.offer for c in closures if c.missed}
    updates = {
        "engaged_until": Case(
            When(engaged_call_sid=call_sid, then=Value(now)),
            default=F("engaged_until"),
        )
    }
    if missed:
        updates["missed_in_row"] = Case(
            When(pk__in=list(missed), then=F("missed_in_row") + 1),
            default=F("missed_in_row"),
            output_field=PositiveIntegerField(),
        )
    Agent.objects.filter(pk__in=agent_ids).update(**updates)
    for agent_id, offer in missed.items():
        if offer.missed_to_pause:
            _pause_after_misses(agent_id, limit=offer.missed_to_pause, now=now)


def _pause_after_misses(agent_id: int, *, limit: int, now: dt.datetime) -> None:
    reason = f"missed {limit} calls"
    paused = Agent.objects.filter(
        pk=agent_id, status=AgentStatus.AVAILABLE, missed_in_row__gte=limit
    ).update(
        status=AgentStatus.BREAK,
        status_reason=reason,
        status_until=None,
        status_changed_at=now,
    )
    if paused:
        StatusChange.objects.create(
            agent_id=agent_id,
            old_status=AgentStatus.AVAILABLE,
            new_status=AgentStatus.BREAK,
            reason=reason,
            changed_at=now,
            via=StatusVia.MISSED_CALLS,
        )


def start_wrapup(
    *, agent_id: int, call_sid: str, wrapup_seconds: int, now: dt.datetime
) -> None:
    """The agent answered and the call is over: rest, then free."""
    free = orm_condition([rules.NOT_ENGAGED], moment=now, aliases=ORM_AGENT, zones=())
    wrapup_until = Value(now + dt.timedelta(seconds=wrapup_seconds))
    Agent.objects.filter(pk=agent_id).update(
        engaged_until=Case(
            When(engaged_call_sid=call_sid, then=wrapup_until),
            When(free, then=wrapup_until),
            default=F("engaged_until"),
        ),
        engaged_call_sid=Case(
            When(engaged_call_sid=call_sid, then=Value(call_sid)),
            When(free, then=Value(call_sid)),
            default=F("engaged_call_sid"),
        ),
        last_answered_at=now,
        missed_in_row=0,
    )


def advance_rotation(group: AgentGroup, offers: Sequence[engine.NewOffer]) -> None:
    """Move each tier's round-robin pointer to the member offered last in it."""
    mine = [offer for offer in offers if offer.group_id == group.pk]
    if not mine:
        return
    rotation = engine.Rotation(group.rotation).advanced(mine)
    AgentGroup.objects.filter(pk=group.pk).update(rotation=rotation)
    group.rotation = rotation


def _datetime(moment: dt.datetime):
    return connection.ops.adapt_datetimefield_value(moment)
