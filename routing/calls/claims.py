"""Engagements: claiming agents for a call, and freeing them again.

An agent is claimed only by a compare-and-set UPDATE that re-checks, on the row
itself, the rules that other calls can change (`agents.rules`: active, available,
not engaged): two calls deciding at the same instant on different machines never
get the same agent. On PostgreSQL the UPDATE waits for a competing transaction's
row lock and re-checks the row it committed; on SQLite writers take turns.

An answer is counted on every membership of its agent (`mark_answered`): the
keys of longest idle and fewest calls, which routing.calls.selection reads from indexes.

Each function returns its statement for a `routing.calls.batch.Batch`.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from agents import rules
from agents.models import AgentGroup, AgentStatus, StatusChange, StatusVia
from agents.rules.language import TABLES, ClockPart, Col, SqlClock
from agents.rules.render import SqlContext
from agents.rules.roster import all_of
from agents.sql import COMMA, Sql, db_datetime, param
from routing.decision import engine

CLAIMABLE = (rules.AGENT_ACTIVE, rules.AVAILABLE, rules.NOT_ENGAGED)
AGENT = TABLES["agent"]
GROUP = TABLES["group"]
MEMBERSHIP = TABLES["member"]
STATUS_CHANGE = StatusChange._meta.db_table


def claim_agents(
    offers: Sequence[engine.NewOffer], *, call_sid: str, now: dt.datetime
) -> Sql:
    """Engage the offers' agents for the call, if each is still free."""
    offers = [offer for offer in offers if offer.agent_id is not None]
    until = Sql(" ").join(
        "WHEN "
        + param(offer.agent_id)
        + " THEN "
        + param(db_datetime(offer.hold_until or now))
        for offer in offers
    )
    return (
        f"UPDATE {AGENT} SET engaged_until = CASE id "
        + until
        + " END, engaged_call_sid = "
        + param(call_sid)
        + " WHERE "
        + _claimable([offer.agent_id for offer in offers], now)
        + " RETURNING id"
    )


def still_claimable(agent_ids, *, now: dt.datetime) -> Sql:
    """Which of `agent_ids` the claim would engage now: the claim's own test."""
    return f"SELECT id FROM {AGENT} WHERE " + _claimable(sorted(agent_ids), now)


def claimed_agent_ids(offers: Sequence[engine.NewOffer]) -> frozenset[int]:
    return frozenset(offer.agent_id for offer in offers if offer.agent_id)


def _claimable(agent_ids, now: dt.datetime) -> Sql:
    return (
        "id IN ("
        + COMMA.join(param(agent_id) for agent_id in agent_ids)
        + ") AND "
        + _rules(CLAIMABLE, now)
    )


def release_agents(
    closures: Sequence[engine.Closure], *, call_sid: str, now: dt.datetime
) -> list[tuple[str, Sql]]:
    """Free the agents of `closures` that this call engages; count no-answers.

    An agent who reaches their group's `missed_to_pause` consecutive no-answers is
    put on break, and the status history says so. The history rows are written
    first, judged on the rows as they were: the same state the UPDATE judges.
    """
    agent_ids = sorted({c.offer.agent_id for c in closures if c.offer.agent_id})
    if not agent_ids:
        return []
    missed = {c.offer.agent_id: c.offer.missed_to_pause for c in closures if c.missed}
    pausing = {agent: limit for agent, limit in missed.items() if agent and limit}
    statements = [
        (f"pause-history-{agent_id}", _pause_history(agent_id, limit, now))
        for agent_id, limit in pausing.items()
    ]
    sets = [
        "engaged_until = CASE WHEN engaged_call_sid = "
        + param(call_sid)
        + " THEN "
        + param(db_datetime(now))
        + " ELSE engaged_until END"
    ]
    if missed:
        sets.append(
            "missed_in_row = CASE WHEN id IN ("
            + COMMA.join(param(agent) for agent in missed if agent)
            + ") THEN missed_in_row + 1 ELSE missed_in_row END"
        )
    if pausing:
        sets.extend(_pause_sets(pausing, now))
    statements.append(
        (
            "release",
            f"UPDATE {AGENT} SET "
            + COMMA.join(sets)
            + " WHERE id IN ("
            + COMMA.join(param(agent) for agent in agent_ids)
            + ")",
        )
    )
    return statements


def _pause_sets(pausing: dict[int, int], now: dt.datetime) -> list[Sql]:
    """The SET terms that put on break each agent of `pausing` at its limit."""
    sets = []
    pauses = Sql(" OR ").join(
        "(id = " + param(agent) + " AND " + _reaches(limit, now) + ")"
        for agent, limit in pausing.items()
    )
    for column, value in (
        ("status", AgentStatus.BREAK.value),
        ("status_until", None),
        ("status_changed_at", db_datetime(now)),
    ):
        sets.append(
            f"{column} = CASE WHEN "
            + pauses
            + " THEN "
            + param(value)
            + f" ELSE {column} END"
        )
    reasons = Sql(" ").join(
        "WHEN id = "
        + param(agent)
        + " AND "
        + _reaches(limit, now)
        + " THEN "
        + param(pause_reason(limit))
        for agent, limit in pausing.items()
    )
    sets.append("status_reason = CASE " + reasons + " ELSE status_reason END")
    return sets


def pause_reason(limit: int) -> str:
    return f"missed {limit} calls"


def _reaches(limit: int, now: dt.datetime) -> Sql:
    """The row (as it was) pauses at this no-answer: available, at the limit."""
    return _rules([rules.AVAILABLE], now) + " AND missed_in_row + 1 >= " + param(limit)


def _pause_history(agent_id: int, limit: int, now: dt.datetime) -> Sql:
    return (
        f"INSERT INTO {STATUS_CHANGE} (agent_id, old_status, new_status, reason,"
        " until, changed_at, via, user_id) SELECT id, status, "
        + param(AgentStatus.BREAK.value)
        + ", "
        + param(pause_reason(limit))
        + ", NULL, "
        + param(db_datetime(now))
        + ", "
        + param(StatusVia.MISSED_CALLS.value)
        + f", NULL FROM {AGENT} WHERE id = "
        + param(agent_id)
        + " AND "
        + _reaches(limit, now)
    )


def start_wrapup(
    *, agent_id: int, call_sid: str, wrapup_seconds: int, now: dt.datetime
) -> Sql:
    """The agent answered and the call is over: rest, then free.

    Unless another call already holds them (a late report): then only the
    answer counts.
    """
    ours = (
        "(engaged_call_sid = "
        + param(call_sid)
        + " OR "
        + _rules([rules.NOT_ENGAGED], now)
    )
    ours += ")"
    until = db_datetime(now + dt.timedelta(seconds=wrapup_seconds))
    return (
        f"UPDATE {AGENT} SET engaged_until = CASE WHEN "
        + ours
        + " THEN "
        + param(until)
        + " ELSE engaged_until END, engaged_call_sid = CASE WHEN "
        + ours
        + " THEN "
        + param(call_sid)
        + " ELSE engaged_call_sid END, last_answered_at = "
        + param(db_datetime(now))
        + ", missed_in_row = 0 WHERE id = "
        + param(agent_id)
    )


# How long an answered Connect leg holds its agent when the group sets no maximum
# conversation: the terminal event or the Passthru frees them sooner.
CONVERSATION_HOLD = dt.timedelta(hours=4)


def hold_for_conversation(
    *, agent_id: int, call_sid: str, max_seconds: int | None, now: dt.datetime
) -> Sql:
    """An agent who answered is held for the conversation, not the offer's hold."""
    limit = dt.timedelta(seconds=max_seconds) if max_seconds else CONVERSATION_HOLD
    return (
        f"UPDATE {AGENT} SET engaged_until = "
        + param(db_datetime(now + limit))
        + " WHERE id = "
        + param(agent_id)
        + " AND engaged_call_sid = "
        + param(call_sid)
    )


def mark_answered(*, agent_id: int, now: dt.datetime) -> Sql:
    """Count the agent's answered call, ending `now`, on each of their memberships.

    Longest idle's key (`idle_since`) and fewest calls' (`answered_today` on the
    group's local day `answered_on`): both in every group, as DESIGN section 5
    says, so each group reads its order from an index (agents.models.Membership).
    One statement: a count from an earlier local day starts again at 1.
    """
    today = _local_date(agent_id, now)
    return (
        f"UPDATE {MEMBERSHIP} AS m SET idle_since = "
        + param(db_datetime(now))
        + ", answered_today = CASE WHEN m.answered_on = "
        + today
        + " THEN m.answered_today + 1 ELSE 1 END, answered_on = "
        + today
        + f" FROM {GROUP} g WHERE g.id = m.group_id AND m.agent_id = "
        + param(agent_id)
    )


@dataclass(frozen=True)
class LocalDate:
    """The date on the clock of the time zone in `zone` (a column): a value, where
    `OnClockOf` is a condition. PostgreSQL reads each row's zone itself;
    elsewhere a CASE over the zones listed, each zone's date a parameter."""

    zone: Col

    def sql(self, context: SqlContext) -> str:
        date = ClockPart("date")
        if context.vendor == "postgresql":
            return date.sql(context.on_clock(SqlClock(self.zone)))
        whens = " ".join(
            f"WHEN {context.param(tz_name)} THEN {date.sql(context.on_clock(tz_name))}"
            for tz_name in context.zones_of(self.zone.role)
        )
        return f"CASE {self.zone.sql(context)} {whens} END" if whens else "NULL"


def _local_date(agent_id: int, now: dt.datetime) -> Sql:
    """Each membership's group's local date at `now` (the group aliased `g`)."""
    zones = ()
    if connection.vendor != "postgresql":
        # No time zones in SQLite: the agent's groups' zones, to spell out.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT g.timezone FROM {GROUP} g JOIN {MEMBERSHIP} m"
                " ON m.group_id = g.id WHERE m.agent_id = %s ORDER BY 1",
                [agent_id],
            )
            zones = [row[0] for row in cursor.fetchall()]
    context = SqlContext(moment=now, aliases={"group": "g"}, group_zones=zones)
    return context.fragment(LocalDate(Col("group", "timezone")))


def advance_rotation(
    group: AgentGroup, offers: Sequence[engine.NewOffer]
) -> Sql | None:
    """Move each tier's round-robin pointer to the member offered last in it."""
    mine = [offer for offer in offers if offer.group_id == group.pk]
    if not mine:
        return None
    group.rotation = engine.Rotation(group.rotation).advanced(mine)
    value = connection.ops.adapt_json_value(group.rotation, None)
    return (
        f"UPDATE {GROUP} SET rotation = "
        + param(value)
        + " WHERE id = "
        + param(group.pk)
    )


def _rules(eligibility, now: dt.datetime) -> Sql:
    return SqlContext(moment=now, aliases={"agent": AGENT}).fragment(
        all_of(eligibility)
    )
