"""The writes of one request, assembled and run as one batch of SQL statements.

Each statement is written once, by the module whose role it is
(`routing.calls.call_state`, `routing.calls.claims`, `routing.calls.requestlog`);
a batch is assembled here alone (`add_settlement`, `add_offers`, `add_log`). On PostgreSQL the
batch runs as one data-modifying statement (each write a CTE, in autocommit): one
round trip and no BEGIN or COMMIT. When that statement finds that another request
changed what it was written against, it writes nothing, and a read in autocommit
says which claimed agents were taken: no transaction is rolled back, so psycopg
keeps the connection's prepared statements (it drops them all on a rollback).
Elsewhere (SQLite, or inside a transaction) the same statements run one by one
in a short transaction, which says exactly what changed.

A batch that changes more than one agent's row locks those rows first, in id
order: two follow-ups that each free one agent and claim the other's would
otherwise lock them in opposite orders and deadlock (a one-second stall before
PostgreSQL gives one up, measured in the benchmark).

A statement may insist on the rows it changes (`expect`): a claim must engage
every agent it names, the closing of offers must find them all still pending, a
new call must not exist yet. Otherwise the batch writes nothing and raises
`Conflict` (or `ClaimsLost`, naming the agents another call took first).
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from django.db import (
    DataError,
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)

from agents.models import Agent, AgentGroup, Strategy
from agents.sql import COMMA, Sql, param
from routing.calls import call_state, claims
from routing.calls.requestlog import Received, insert_log
from routing.decision import engine
from routing.models import Call

# How often a request is decided again when a concurrent one changed its call
# first (a `Conflict`, or a unique constraint of the call log).
CONFLICT_RETRIES = 5


class Conflict(IntegrityError):
    """Another request changed the call since it was read: decide again."""


class ClaimsLost(Conflict):
    """Other calls engaged some of the agents first."""

    def __init__(self, agent_ids: set[int]):
        super().__init__(f"agents claimed by other calls: {sorted(agent_ids)}")
        self.agent_ids = agent_ids


# A statement given the call's id as SQL (a parameter, or the new call's CTE).
Build = Callable[[Sql], Sql]


@dataclass
class Step:
    name: str
    build: Build
    expect: int | None = None  # the rows it must return
    claims: frozenset[int] = frozenset()  # the agents a claim step engages
    agents: frozenset[int] = frozenset()  # every agent whose row the step updates
    # For a claim: a read of the agents among `claims` that could still be claimed.
    recheck: Callable[[], Sql] | None = None


@dataclass
class Batch:
    """The statements of one request, for one call (new, or stored as `call_id`)."""

    call_id: int | None = None
    new_call: Build | None = None
    steps: list[Step] = field(default_factory=list)

    def add(
        self,
        name: str,
        build: Build,
        *,
        expect=None,
        claims=frozenset(),
        agents=frozenset(),
        recheck: Callable[[], Sql] | None = None,
    ) -> None:
        claims = frozenset(claims)
        self.steps.append(
            Step(name, build, expect, claims, claims | frozenset(agents), recheck)
        )

    def add_settlement(
        self,
        call: Call,
        settlement: engine.Settlement,
        *,
        talk_seconds: int | None,
        now: dt.datetime,
    ) -> None:
        """Add the writes of `settlement`: outcomes, freed agents, the call's end."""
        closures = settlement.closures
        answered = settlement.answered
        if closures:
            self.add(
                "close-offers",
                lambda _call: call_state.close_offers(
                    closures, answered=answered, talk_seconds=talk_seconds, now=now
                ),
                expect=len(closures),
            )
        rest = [closure for closure in closures if closure.offer is not answered]
        freed = {closure.offer.agent_id for closure in rest if closure.offer.agent_id}
        for name, statement in claims.release_agents(rest, call_sid=call.sid, now=now):
            self.add(name, lambda _call, statement=statement: statement, agents=freed)
        if answered is not None and answered.agent_id:
            wrapup = claims.start_wrapup(
                agent_id=answered.agent_id,
                call_sid=call.sid,
                wrapup_seconds=answered.wrapup_seconds,
                now=now,
            )
            self.add("wrapup", lambda _call: wrapup, agents={answered.agent_id})
            # Built when the batch runs: on SQLite it reads the agent's groups' time
            # zones inside the batch's transaction.
            self.add(
                "answered",
                lambda _call: claims.mark_answered(agent_id=answered.agent_id, now=now),
            )
        if settlement.result and call.pk is not None:
            self.add(
                "end-call",
                lambda call_id: call_state.end_call(
                    call_id,
                    result=settlement.result,
                    answered_by=answered.agent_id if answered else None,
                    talk_seconds=talk_seconds,
                    now=now,
                ),
            )

    def add_offers(
        self,
        call: Call,
        new: Sequence[engine.NewOffer],
        *,
        chain: Sequence[AgentGroup],
        first_position: int,
        now: dt.datetime,
    ) -> None:
        """Add the claim of the new offers' agents, the offers, the rotations."""
        if not new:
            return
        claimed = claims.claimed_agent_ids(new)
        if claimed:
            statement = claims.claim_agents(new, call_sid=call.sid, now=now)
            self.add(
                "claim",
                lambda _call: statement,
                claims=claimed,
                recheck=lambda: claims.still_claimable(claimed, now=now),
            )
        self.add(
            "offers",
            lambda call_id: call_state.insert_attempts(
                call_id, new, first_position=first_position, now=now
            ),
        )
        for group in chain:
            if group.strategy == Strategy.ROUND_ROBIN:
                rotation = claims.advance_rotation(group, new)
                if rotation is not None:
                    self.add("rotation", lambda _call, sql=rotation: sql)

    def add_log(
        self,
        received: Received | None,
        *,
        group_slug: str,
        body: str = "",
        notes: str = "",
        now: dt.datetime,
    ) -> None:
        """Add the request's log row, when there is a request to log."""
        if received is None:
            return
        self.add(
            "log",
            lambda call_id: insert_log(
                received,
                call_id,
                group_slug=group_slug,
                status_code=200,
                body=body,
                notes=notes,
                now=now,
            ),
        )

    def agents_to_lock(self) -> list[int]:
        """The agents to lock first, in id order: none unless the batch changes two."""
        agents = sorted(set().union(*(step.agents for step in self.steps)))
        return agents if len(agents) > 1 else []

    def run(self) -> int | None:
        """Write the batch; return the call's id.

        A deadlock or serialization failure (SQLSTATE class 40: two requests that
        free and claim each other's agents) is a conflict to decide again, not an
        outage.
        """
        try:
            return self._run()
        except OperationalError as error:
            if not str(getattr(error.__cause__, "sqlstate", "") or "").startswith("40"):
                raise
            raise Conflict(
                f"the database gave up a concurrent write: {error}"
            ) from error

    def _run(self) -> int | None:
        if connection.vendor == "postgresql" and connection.get_autocommit():
            try:
                return self._run_as_one_statement()
            except DataError as error:
                if not isinstance(error.__cause__, psycopg.errors.DivisionByZero):
                    raise
                # The guard below tripped, and nothing was written.
                self._raise_what_changed()
        return self._run_in_transaction()

    def _run_as_one_statement(self) -> int | None:
        ctes, guards = [], []
        call = Sql.param(self.call_id)
        steps = list(self.steps)
        if self.new_call is not None:
            steps.insert(0, Step("call", self.new_call, expect=1))
            call = Sql(f"(SELECT id FROM s{0})")
        if agents := self.agents_to_lock():
            # Evaluated first (the guard's first term), before any step runs.
            ctes.append("locked AS (" + lock_agents(agents) + ")")
            guards.append("(SELECT COUNT(*) FROM locked) >= 0")
        for index, step in enumerate(steps):
            statement = step.build(call)
            ctes.append(Sql(f"s{index} AS (") + statement + ")")
            expect = len(step.claims) if step.claims else step.expect
            if expect is not None:
                guards.append(f"(SELECT COUNT(*) FROM s{index}) = {int(expect)}")
        # A guard that fails divides by zero: the whole statement writes nothing.
        check = " AND ".join(guards) or "TRUE"
        returned = "(SELECT id FROM s0)" if self.new_call is not None else "NULL"
        statement = (
            "WITH "
            + COMMA.join(ctes)
            + f" SELECT 1 / (CASE WHEN {check} THEN 1 ELSE 0 END), {returned}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            _, new_id = cursor.fetchone()
        return new_id if self.new_call is not None else self.call_id

    def _raise_what_changed(self) -> None:
        """Raise `ClaimsLost` naming the agents other calls took, else `Conflict`."""
        with connection.cursor() as cursor:
            for step in self.steps:
                if step.recheck is None:
                    continue
                claimable = {row[0] for row in _execute(cursor, step.recheck())}
                if lost := step.claims - claimable:
                    raise ClaimsLost(set(lost))
        raise Conflict("the call changed meanwhile")

    def _run_in_transaction(self) -> int | None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql" and (agents := self.agents_to_lock()):
                _execute(cursor, lock_agents(agents))
            call_id = self.call_id
            if self.new_call is not None:
                rows = _execute(cursor, self.new_call(Sql.param(None)))
                if len(rows) != 1:
                    raise Conflict("the call was created by a concurrent request")
                call_id = rows[0][0]
            for step in self.steps:
                rows = _execute(cursor, step.build(Sql.param(call_id)))
                if step.claims and len(rows) != len(step.claims):
                    raise ClaimsLost(step.claims - {row[0] for row in rows})
                if step.expect is not None and len(rows) != step.expect:
                    raise Conflict(f"{step.name}: the call changed meanwhile")
            return call_id


def lock_agents(agent_ids) -> Sql:
    """Lock the agents' rows in id order."""
    return (
        f"SELECT id FROM {Agent._meta.db_table} WHERE id IN ("
        + COMMA.join(param(agent_id) for agent_id in agent_ids)
        + ") ORDER BY id FOR UPDATE"
    )


def _execute(cursor, statement: Sql) -> list[tuple]:
    cursor.execute(statement.text, statement.params)
    return cursor.fetchall() if cursor.description else []
