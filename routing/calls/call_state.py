"""Call state: the call and its offers as stored, and what a request's report writes."""

import datetime as dt
import functools
import json
from typing import NamedTuple

from django.db import connection

from agents.models import AgentGroup, Binding, Caller, Route
from agents.skills import combine_needs, format_levels, stored_needs
from agents.sql import COMMA, Sql, db_datetime, param
from routing.calls.entry_group import resolve_entry
from routing.decision import engine
from routing.exotel.requests import ExotelRequest
from routing.models import Attempt, Call, CallResult, Outcome

ATTEMPT = Attempt._meta.db_table
CALL = Call._meta.db_table


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


class LoadedCall(NamedTuple):
    call: Call  # stored, or new and not yet saved
    offers: list[engine.Offer]
    guessed_candidates: str | None  # the guess's JSON, when one was asked for
    caller: engine.KnownCaller = engine.UNKNOWN_CALLER  # what the caller is known for


def load_call(
    *,
    request: ExotelRequest,
    group_slug: str | None,
    now: dt.datetime,
    guessed_candidates: Sql | None = None,
) -> LoadedCall:
    """Return the request's call, its offers, the known caller and the guessed
    candidates, in one statement.

    The stored call, or a new one not yet saved: a new call gets its route and
    group now, from the pinned slug (a group's or a route's) or the routes, and
    its needs (the route's and the caller's own), and keeps them for the rest of
    the call. A pinned slug must name a group or a route, even for a call that
    already has its own. `guessed_candidates`, the entry group's candidates as a
    scalar subquery (`routing.calls.planner.guess_entry_candidates`), read in the
    same statement,
    saves a round trip.
    """
    columns, rest, call_fields, group_fields = _load_call_sql(connection.vendor)
    slug = group_slug or None
    before = [slug, slug, request.caller]
    after = [request.call_sid, slug, slug]
    sql, params = columns + rest, before + after
    guess = guessed_candidates
    if guess is not None:
        sql = f"{columns}, ({guess.text}){rest}"
        params = [*before, *guess.params, *after]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    guessed = row[-1] if guess is not None else None
    row = row[:-1] if guess is not None else row
    call_values = row[: len(call_fields)]
    group_values = row[len(call_fields) : len(call_fields) + len(group_fields)]
    (
        pinned_id,
        offers_json,
        route_id,
        route_slug,
        route_needs,
        relax_after,
        caller_json,
    ) = row[-len(TAIL) :]
    if group_slug and pinned_id is None:
        raise UnknownGroup(group_slug)
    known = _known_caller(caller_json)
    group = None
    if group_values[0] is not None:
        group = AgentGroup.from_db(
            connection.alias, group_fields, _from_db(AgentGroup, group_values)
        )
    route = None
    if route_id is not None:
        # The route as far as routing reads it (its group is the call's).
        route = Route(
            pk=route_id,
            slug=route_slug,
            group=group,
            needs=route_needs,
            relax_after=relax_after,
        )
    if call_values[0] is not None:
        call = Call.from_db(connection.alias, call_fields, _from_db(Call, call_values))
        call.group, call.route = group, route
        return LoadedCall(call, _offers(offers_json), guessed, known)
    if route is None and not group_slug:
        route, resolved = resolve_entry(
            exophone=request.exophone, digits=request.digits, route_slug=request.route
        )
        group = group or resolved
    needs, relax = call_needs(route, json.loads(caller_json)[4] if caller_json else "")
    call = Call(
        sid=request.call_sid,
        caller=request.caller,
        exophone=request.exophone,
        digits=request.digits,
        group=group,
        route=route,
        needs=needs,
        relax_after=relax,
        direction=request.direction,
        first_seen_at=now,
    )
    return LoadedCall(call, [], guessed, known)


def call_needs(route: Route | None, caller_needs: str) -> tuple[str, int | None]:
    """A new call's needs and when they relax (DESIGN 10.3): the route's and the
    caller's own (stored text), at the route's relax_after; a call with no route
    treats the caller's as a preference."""
    route_needs = stored_needs(route.needs) if route is not None else ()
    needs = combine_needs(route_needs, stored_needs(caller_needs))
    if not needs:
        return "", None
    relax = route.relax_after if route is not None else 0
    return format_levels(needs), relax


def _known_caller(caller_json) -> engine.KnownCaller:
    if not caller_json:
        return engine.KnownCaller()
    owner_id, binding, vip, blocked, _needs = json.loads(caller_json)
    return engine.KnownCaller(
        owner_id=owner_id,
        strict=binding == Binding.STRICT and owner_id is not None,
        vip=bool(vip),
        blocked=bool(blocked),
    )


# The columns after the call's and the group's.
TAIL = (
    "pinned",
    "offers",
    "route_id",
    "route_slug",
    "route_needs",
    "relax_after",
    "caller",
)


@functools.cache
def _load_call_sql(vendor: str) -> tuple[str, str, list[str], list[str]]:
    """The call, its group and route (stored, or the pinned ones), its offers and
    the known caller: one row, as the select list and the rest (a column may go
    between them)."""
    call_fields = [field.attname for field in Call._meta.concrete_fields]
    group_fields = [field.attname for field in AgentGroup._meta.concrete_fields]
    group_table = AgentGroup._meta.db_table
    route_table = Route._meta.db_table
    pinned_group = f"(SELECT id FROM {group_table} WHERE slug = %s)"
    pinned_route = f"(SELECT id FROM {route_table} WHERE slug = %s)"
    array = "json_build_array" if vendor == "postgresql" else "json_array"
    caller = (
        f"(SELECT CAST({array}(k.owner_id, k.binding, k.vip, k.blocked, k.needs)"
        f" AS text) FROM {Caller._meta.db_table} k"
        " WHERE k.number = COALESCE(c.caller, %s))"
    )
    columns = (
        "SELECT "
        + ", ".join(f"c.{name}" for name in call_fields)
        + ", "
        + ", ".join(f"g.{name}" for name in group_fields)
        + f", COALESCE({pinned_group},"
        f" (SELECT group_id FROM {route_table} WHERE slug = %s))"
        + f", ({_offers_json(vendor)}), r.id, r.slug, r.needs, r.relax_after, {caller}"
    )
    rest = (
        f" FROM (SELECT 1 AS one) q LEFT JOIN {CALL} c ON c.sid = %s"
        f" LEFT JOIN {route_table} r ON r.id = CASE WHEN c.id IS NULL"
        f" THEN {pinned_route} ELSE c.route_id END"
        f" LEFT JOIN {group_table} g"
        f" ON g.id = COALESCE(c.group_id, {pinned_group}, r.group_id)"
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


def close_offers(
    closures, *, answered, talk_seconds: int | None, now: dt.datetime
) -> Sql:
    """Close the offers of `closures` that are still pending, each with its outcome."""
    outcomes = Sql(" ").join(
        "WHEN " + param(closure.offer.attempt_id) + " THEN " + param(closure.outcome)
        for closure in closures
    )
    talk = Sql("talk_seconds")
    if answered is not None:
        talk = (
            "CASE WHEN id = "
            + param(answered.attempt_id)
            + " THEN "
            + param(talk_seconds)
            + " ELSE talk_seconds END"
        )
    return (
        f"UPDATE {ATTEMPT} SET outcome = CASE id "
        + outcomes
        + " END, outcome_at = "
        + param(db_datetime(now))
        + ", talk_seconds = "
        + talk
        + " WHERE id IN ("
        + COMMA.join(param(closure.offer.attempt_id) for closure in closures)
        + ") AND outcome = "
        + param(Outcome.PENDING.value)
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
    sets = "result = " + param(result) + ", ended_at = " + param(db_datetime(now))
    where = "id = " + call_id
    if result == CallResult.ANSWERED:
        sets += ", answered_by_id = " + param(answered_by)
        sets += ", talk_seconds = " + param(talk_seconds)
    else:
        where += " AND ended_at IS NULL AND result <> " + param(
            CallResult.ANSWERED.value
        )
    return f"UPDATE {CALL} SET " + sets + " WHERE " + where


def insert_call(call: Call, *, result: str, now: dt.datetime) -> Sql:
    """Create the call, unless a concurrent first request did (then no row)."""
    values = [
        call.sid,
        call.caller,
        call.exophone,
        call.digits,
        call.group_id,
        call.route_id,
        call.needs,
        call.relax_after,
        call.direction,
        db_datetime(call.first_seen_at),
        result or CallResult.IN_PROGRESS.value,
        db_datetime(now) if result else None,
    ]
    return (
        f"INSERT INTO {CALL} (sid, caller, exophone, digits, group_id, route_id,"
        " needs, relax_after, direction, first_seen_at, result, ended_at) VALUES ("
        + COMMA.join(param(value) for value in values)
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
            db_datetime(now),
            db_datetime(offer.hold_until),
            Outcome.PENDING.value,
            offer.candidate.meets if offer.candidate is not None else None,
        ]
        rows.append("(" + call_id + ", " + COMMA.join(param(v) for v in values) + ")")
    return (
        f"INSERT INTO {ATTEMPT} (call_id, agent_id, group_id, number, position,"
        " reason, offered_at, hold_until, outcome, met_needs) VALUES "
        + COMMA.join(rows)
    )
