"""The writes of one request, as one batch of SQL statements.

Each statement is written once, by the module whose role it is
(`routing.calls.call_state`, `routing.calls.claims`, `routing.calls.requestlog`). On PostgreSQL the
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

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.db import (
    DataError,
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)

from agents.sql import Sql
from routing.calls.claims import lock_agents


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
            + Sql(", ").join(ctes)
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


def execute(statement: Sql) -> None:
    """Write one statement that needs no guard (in autocommit: one round trip)."""
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)


def _execute(cursor, statement: Sql) -> list[tuple]:
    cursor.execute(statement.text, statement.params)
    return cursor.fetchall() if cursor.description else []
