"""Call state: the call and its offers as stored, and what a request's report writes."""

import datetime as dt
import functools
import json

from django.db import connection

from agents.models import AgentGroup
from agents.sql import Sql
from routing.calls import claims
from routing.calls.batch import Batch
from routing.calls.entry_group import resolve_group
from routing.decision import engine
from routing.exotel.requests import ExotelRequest
from routing.models import Attempt, Call, CallResult, Outcome

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
        ignored=request.ignored,
    )


OFFER_COLUMNS = (
    "x.id, x.number, x.position, x.outcome, x.hold_until, x.agent_id, x.group_id,"
    " x.offered_at, xg.missed_to_pause, xg.wrapup_seconds"
)


def load_call(
    *,
    request: ExotelRequest,
    group_slug: str | None,
    now: dt.datetime,
    also: Sql | None = None,
) -> tuple[Call, list[engine.Offer], object]:
    """Return the request's call, its offers and the value of `also`, in one statement.

    The stored call, or a new one not yet saved: a new call gets its group now,
    from the pinned slug or the routes, and keeps it for the rest of the call. A
    pinned slug must name a group, even for a call that already has its own.
    `also`, a scalar subquery read in the same statement, saves a round trip.
    """
    columns, rest, call_fields, group_fields = _load_call_sql(connection.vendor)
    slug = group_slug or None
    sql, params = columns + rest, [slug, request.call_sid, slug]
    if also is not None:
        sql = f"{columns}, ({also.text}){rest}"
        params = [slug, *also.params, request.call_sid, slug]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    extra = row[-1] if also is not None else None
    row = row[:-1] if also is not None else row
    call_values = row[: len(call_fields)]
    group_values = row[len(call_fields) : len(call_fields) + len(group_fields)]
    pinned_id, offers_json = row[-2:]
    if group_slug and pinned_id is None:
        raise UnknownGroup(group_slug)
    group = None
    if group_values[0] is not None:
        group = AgentGroup.from_db(
            connection.alias, group_fields, _from_db(AgentGroup, group_values)
        )
    if call_values[0] is not None:
        call = Call.from_db(connection.alias, call_fields, _from_db(Call, call_values))
        call.group = group
        return call, _offers(offers_json), extra
    if group is None and not group_slug:
        group = resolve_group(exophone=request.exophone, digits=request.digits)
    call = Call(
        sid=request.call_sid,
        caller=request.caller,
        exophone=request.exophone,
        digits=request.digits,
        group=group,
        first_seen_at=now,
    )
    return call, [], extra


@functools.cache
def _load_call_sql(vendor: str) -> tuple[str, str, list[str], list[str]]:
    """The call, its group (stored, or the pinned one) and its offers: one row,
    as the select list and the rest (a column may go between them)."""
    call_fields = [field.attname for field in Call._meta.concrete_fields]
    group_fields = [field.attname for field in AgentGroup._meta.concrete_fields]
    group_table = AgentGroup._meta.db_table
    pinned = f"(SELECT id FROM {group_table} WHERE slug = %s)"
    columns = (
        "SELECT "
        + ", ".join(f"c.{name}" for name in call_fields)
        + ", "
        + ", ".join(f"g.{name}" for name in group_fields)
        + f", {pinned}, ({_offers_json(vendor)})"
    )
    rest = (
        f" FROM (SELECT 1 AS one) q LEFT JOIN {CALL} c ON c.sid = %s"
        f" LEFT JOIN {group_table} g ON g.id = COALESCE(c.group_id, {pinned})"
    )
    return columns, rest, call_fields, group_fields


def offers_of(call: Call) -> list[engine.Offer]:
    """Return the call's offers as the planner reads them (none for a new call)."""
    if call.pk is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({_offers_json(connection.vendor)}) FROM {CALL} c WHERE c.id = %s",
            [call.pk],
        )
        return _offers(cursor.fetchone()[0])


def _offers_json(vendor: str) -> str:
    """The offers of call `c`, in call order, as one JSON array of arrays."""
    joins = (
        f" FROM {ATTEMPT} x LEFT JOIN {AgentGroup._meta.db_table} xg"
        " ON xg.id = x.group_id WHERE x.call_id = c.id"
    )
    if vendor == "postgresql":
        return (
            f"SELECT CAST(COALESCE(json_agg(json_build_array({OFFER_COLUMNS})"
            f" ORDER BY x.position), '[]') AS text){joins}"
        )
    return (
        "SELECT json_group_array(json(o)) FROM (SELECT json_array("
        f"{OFFER_COLUMNS}) AS o{joins} ORDER BY x.position)"
    )


def _offers(text: str | None) -> list[engine.Offer]:
    offers = []
    for row in json.loads(text or "[]"):
        attempt_id, number, position, outcome, hold, agent, group, offered = row[:8]
        offers.append(
            engine.Offer(
                attempt_id=attempt_id,
                number=number,
                position=position,
                outcome=outcome,
                hold_until=_moment(hold),
                agent_id=agent,
                group_id=group,
                offered_at=_moment(offered),
                missed_to_pause=row[8] or 0,
                wrapup_seconds=row[9] or 0,
            )
        )
    return offers


def _moment(text: str | None) -> dt.datetime | None:
    """A datetime from JSON: ISO with an offset (PostgreSQL) or naive UTC (SQLite)."""
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _from_db(model, values) -> list:
    """Convert raw column values as the ORM would (SQLite returns text datetimes)."""
    converted = []
    for (column, converters), value in zip(
        _converters(model, connection.vendor), values, strict=True
    ):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return converted


@functools.cache
def _converters(model, vendor: str) -> list:
    """Each concrete field's column and its converters (they depend on the backend)."""
    columns = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        columns.append(
            (
                column,
                connection.ops.get_db_converters(column)
                + column.get_db_converters(connection),
            )
        )
    return columns


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
    freed = {closure.offer.agent_id for closure in rest if closure.offer.agent_id}
    for name, statement in claims.release_agents(rest, call_sid=call.sid, now=now):
        batch.add(name, lambda _call, statement=statement: statement, agents=freed)
    if answered is not None and answered.agent_id:
        wrapup = claims.start_wrapup(
            agent_id=answered.agent_id,
            call_sid=call.sid,
            wrapup_seconds=answered.wrapup_seconds,
            now=now,
        )
        batch.add("wrapup", lambda _call: wrapup, agents={answered.agent_id})
        # Built when the batch runs: on SQLite it reads the agent's groups' time
        # zones inside the batch's transaction.
        batch.add(
            "answered",
            lambda _call: claims.mark_answered(agent_id=answered.agent_id, now=now),
        )
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
