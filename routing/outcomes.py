"""Call state: the call and its offers as stored, and what a request's report writes."""

import datetime as dt

from django.db import connection

from agents.models import AgentGroup
from agents.rules import Sql
from routing import claims, engine
from routing.exotel import ExotelRequest
from routing.models import Attempt, Call, CallResult, Outcome
from routing.routes import resolve_group
from routing.writes import Batch

ATTEMPT = Attempt._meta.db_table
CALL = Call._meta.db_table
P = Sql.param
COMMA = Sql(", ")


class UnknownGroup(Exception):
    """The pinned URL names a group that does not exist."""


def report_of(request: ExotelRequest, *, ends_call: bool = False) -> engine.Report:
    return engine.Report(
        number=request.dial_whom_number,
        status=request.dial_call_status,
        hangup=request.hangup,
        ends_call=ends_call,
    )


def find_call(
    *, request: ExotelRequest, group_slug: str | None, now: dt.datetime
) -> Call:
    """Return the request's call: the stored one, or a new one not yet saved.

    A new call gets its group now, from the pinned slug or the routes; it keeps
    that group for the rest of the call.
    """
    call = (
        Call.objects.select_related("group__overflow__overflow")
        .filter(sid=request.call_sid)
        .first()
    )
    if call is not None:
        if group_slug and (call.group is None or call.group.slug != group_slug):
            # The call keeps the group of its first request; the slug must exist.
            if not AgentGroup.objects.filter(slug=group_slug).exists():
                raise UnknownGroup(group_slug)
        return call
    if group_slug:
        group = (
            AgentGroup.objects.select_related("overflow__overflow")
            .filter(slug=group_slug)
            .first()
        )
        if group is None:
            raise UnknownGroup(group_slug)
    else:
        group = resolve_group(exophone=request.exophone, digits=request.digits)
    return Call(
        sid=request.call_sid,
        caller=request.caller,
        exophone=request.exophone,
        digits=request.digits,
        group=group,
        first_seen_at=now,
    )


def offers_of(call: Call) -> list[engine.Offer]:
    """Return the call's offers as the planner reads them (none for a new call)."""
    if call.pk is None:
        return []
    rows = call.attempts.values_list(
        "pk",
        "number",
        "position",
        "outcome",
        "hold_until",
        "agent_id",
        "group_id",
        "offered_at",
        "group__missed_to_pause",
        "group__wrapup_seconds",
    )
    return [
        engine.Offer(*row[:8], missed_to_pause=row[8] or 0, wrapup_seconds=row[9] or 0)
        for row in rows
    ]


def settlement_statements(
    batch: Batch,
    call: Call,
    settlement: engine.Settlement,
    *,
    request: ExotelRequest,
    now: dt.datetime,
) -> None:
    """Add the writes of `settlement` to `batch`: outcomes, freed agents, the end."""
    closures = settlement.closures
    answered = settlement.answered
    talk_seconds = request.dial_call_duration
    if closures:
        batch.add(
            "close-offers",
            lambda _call: close_offers(
                closures, answered=answered, talk_seconds=talk_seconds, now=now
            ),
            expect=len(closures),
        )
    rest = [closure for closure in closures if closure.offer is not answered]
    for name, statement in claims.release_agents(rest, call_sid=call.sid, now=now):
        batch.add(name, lambda _call, statement=statement: statement)
    if answered is not None and answered.agent_id:
        wrapup = claims.start_wrapup(
            agent_id=answered.agent_id,
            call_sid=call.sid,
            wrapup_seconds=answered.wrapup_seconds,
            now=now,
        )
        batch.add("wrapup", lambda _call: wrapup)
    if settlement.result and call.pk is not None:
        batch.add(
            "end-call",
            lambda call_id: end_call(
                call_id,
                result=settlement.result,
                answered_by=answered.agent_id if answered else None,
                talk_seconds=talk_seconds,
                now=now,
            ),
        )


def close_offers(
    closures, *, answered, talk_seconds: int | None, now: dt.datetime
) -> Sql:
    """Close the offers of `closures` that are still pending, each with its outcome."""
    outcomes = Sql(" ").join(
        "WHEN " + P(closure.offer.attempt_id) + " THEN " + P(closure.outcome)
        for closure in closures
    )
    talk = Sql("talk_seconds")
    if answered is not None:
        talk = (
            "CASE WHEN id = "
            + P(answered.attempt_id)
            + " THEN "
            + P(talk_seconds)
            + " ELSE talk_seconds END"
        )
    return (
        f"UPDATE {ATTEMPT} SET outcome = CASE id "
        + outcomes
        + " END, outcome_at = "
        + P(_dt(now))
        + ", talk_seconds = "
        + talk
        + " WHERE id IN ("
        + COMMA.join(P(closure.offer.attempt_id) for closure in closures)
        + ") AND outcome = "
        + P(Outcome.PENDING.value)
        + " RETURNING id"
    )


def end_call(
    call_id: Sql,
    *,
    result: str,
    answered_by: int | None,
    talk_seconds: int | None,
    now: dt.datetime,
) -> Sql:
    """Record how the call ended. An answered call stays answered; otherwise the
    first end reported is kept."""
    sets = "result = " + P(result) + ", ended_at = " + P(_dt(now))
    where = "id = " + call_id
    if result == CallResult.ANSWERED:
        sets += ", answered_by_id = " + P(answered_by)
        sets += ", talk_seconds = " + P(talk_seconds)
    else:
        where += " AND ended_at IS NULL AND result <> " + P(CallResult.ANSWERED.value)
    return f"UPDATE {CALL} SET " + sets + " WHERE " + where


def insert_call(call: Call, *, result: str, now: dt.datetime) -> Sql:
    """Create the call, unless a concurrent first request did (then no row)."""
    values = [
        call.sid,
        call.caller,
        call.exophone,
        call.digits,
        call.group_id,
        _dt(call.first_seen_at),
        result or CallResult.IN_PROGRESS.value,
        _dt(now) if result else None,
    ]
    return (
        f"INSERT INTO {CALL} (sid, caller, exophone, digits, group_id, first_seen_at,"
        " result, ended_at) VALUES ("
        + COMMA.join(P(value) for value in values)
        + ") ON CONFLICT (sid) DO NOTHING RETURNING id"
    )


def insert_attempts(
    call_id: Sql, offers, *, first_position: int, now: dt.datetime
) -> Sql:
    """Log the new offers of the answer, numbered after the call's earlier ones."""
    rows = []
    for index, offer in enumerate(offers):
        values = [
            offer.agent_id,
            offer.group_id,
            offer.number,
            first_position + index,
            offer.reason[:200],
            _dt(now),
            _dt(offer.hold_until),
            Outcome.PENDING.value,
        ]
        rows.append("(" + call_id + ", " + COMMA.join(P(v) for v in values) + ")")
    return (
        f"INSERT INTO {ATTEMPT} (call_id, agent_id, group_id, number, position,"
        " reason, offered_at, hold_until, outcome) VALUES " + COMMA.join(rows)
    )


def _dt(moment: dt.datetime | None):
    return None if moment is None else connection.ops.adapt_datetimefield_value(moment)
