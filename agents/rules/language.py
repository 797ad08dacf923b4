"""The rule language: expressions over the roster's tables, on a clock.

Each expression renders as SQL (`agents.rules.render.SqlContext`) and evaluates in
Python (`agents.rules.render.PythonContext`). Expressions name tables by role
("agent", "member", "group", and the aliases of their related rows); each consumer
says which SQL alias or table each role has.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentSkill,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)

if TYPE_CHECKING:
    from agents.rules.render import PythonContext, SqlContext

TABLES = {
    "agent": Agent._meta.db_table,
    "member": Membership._meta.db_table,
    "group": AgentGroup._meta.db_table,
    "agent_hours": AgentHours._meta.db_table,
    "agent_skill": AgentSkill._meta.db_table,
    "group_hours": GroupHours._meta.db_table,
    "time_off": TimeOff._meta.db_table,
    "holiday": Holiday._meta.db_table,
}


@dataclass(frozen=True)
class Clock:
    """A moment as the clocks of one time zone read it."""

    weekday: int
    time: dt.time
    date: dt.date

    @classmethod
    def of(cls, moment: dt.datetime, tz_name: str) -> Clock:
        local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
        return cls(local.weekday(), local.time().replace(tzinfo=None), local.date())

    @property
    def yesterday(self) -> int:
        return (self.weekday - 1) % 7


class Expr:
    """A condition that renders as SQL and evaluates in Python alike."""

    def sql(self, context: SqlContext) -> str:
        raise NotImplementedError

    def holds(self, context: PythonContext) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Col:
    """A column of the row playing `role`."""

    role: str
    name: str

    def sql(self, context: SqlContext) -> str:
        return f"{context.alias(self.role)}.{self.name}"

    def value(self, context: PythonContext):
        return getattr(context.rows[self.role], self.name)


@dataclass(frozen=True)
class Now:
    """The moment the rules are judged at."""

    def sql(self, context: SqlContext) -> str:
        return context.moment_param(_adapted_moment)

    def value(self, context: PythonContext):
        return context.moment


@dataclass(frozen=True)
class ClockPart:
    """A part (`weekday`, `yesterday`, `time`, `date`) of the clock in force."""

    part: str

    def sql(self, context: SqlContext) -> str:
        if isinstance(context.clock, SqlClock):
            return context.clock.part(self.part, context)
        # On a zone's clock, read in Python from the moment.
        return context.moment_param(
            functools.partial(_clock_part, context.clock, self.part)
        )

    def value(self, context: PythonContext):
        return getattr(context.clock, self.part)


@dataclass(frozen=True)
class Literal:
    value_: object

    def sql(self, context: SqlContext) -> str:
        return context.param(self.value_)

    def value(self, context: PythonContext):
        return self.value_


_OPERATORS: dict[str, Callable] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Compare(Expr):
    left: object
    op: str
    right: object

    def sql(self, context: SqlContext) -> str:
        return f"{self.left.sql(context)} {self.op} {self.right.sql(context)}"

    def holds(self, context: PythonContext) -> bool:
        left, right = self.left.value(context), self.right.value(context)
        return (
            left is not None and right is not None and _OPERATORS[self.op](left, right)
        )


@dataclass(frozen=True)
class IsTrue(Expr):
    column: Col

    def sql(self, context: SqlContext) -> str:
        return self.column.sql(context)

    def holds(self, context: PythonContext) -> bool:
        return bool(self.column.value(context))


@dataclass(frozen=True)
class IsNull(Expr):
    column: Col

    def sql(self, context: SqlContext) -> str:
        return f"{self.column.sql(context)} IS NULL"

    def holds(self, context: PythonContext) -> bool:
        return self.column.value(context) is None


@dataclass(frozen=True)
class _Terms(Expr):
    """Terms joined by `joiner` in SQL and by `combine` in Python."""

    terms: tuple[Expr, ...]
    joiner: ClassVar[str]
    combine: ClassVar[Callable]

    def __init__(self, *terms: Expr):
        object.__setattr__(self, "terms", terms)
        # Hashed once: a rendering is looked up by its expression on each request.
        object.__setattr__(self, "_hash", hash(terms))

    def __hash__(self) -> int:
        return self._hash

    def sql(self, context: SqlContext) -> str:
        return "(" + self.joiner.join(term.sql(context) for term in self.terms) + ")"

    def holds(self, context: PythonContext) -> bool:
        return type(self).combine(term.holds(context) for term in self.terms)


class All(_Terms):
    joiner = " AND "
    combine = all


class Any(_Terms):
    joiner = " OR "
    combine = any


@dataclass(frozen=True)
class Not(Expr):
    term: Expr

    def sql(self, context: SqlContext) -> str:
        return f"NOT {self.term.sql(context)}"

    def holds(self, context: PythonContext) -> bool:
        return not self.term.holds(context)


@dataclass(frozen=True)
class Exists(Expr):
    """Some row of `role` (a related table) belongs to `owner` and meets `where`.

    `per_row` renders it as a scalar subquery, which PostgreSQL runs for each row
    that reaches it (an index lookup) instead of joining the whole related table
    first: a semi-join would read every member before the limit could stop it.
    """

    role: str
    foreign_key: str
    owner: Col
    where: Expr | None = None
    per_row: bool = False

    def sql(self, context: SqlContext) -> str:
        alias = context.alias(self.role)
        condition = f"{alias}.{self.foreign_key} = {self.owner.sql(context)}"
        if self.where is not None:
            condition += f" AND {self.where.sql(context)}"
        rows = f"SELECT 1 FROM {TABLES[self.role]} {alias} WHERE {condition}"
        if self.per_row:
            return f"({rows} LIMIT 1) IS NOT NULL"
        return f"EXISTS ({rows})"

    def holds(self, context: PythonContext) -> bool:
        for row in context.related(self.role, self.owner.value(context)):
            if self.where is None or self.where.holds(context.with_row(self.role, row)):
                return True
        return False


@dataclass(frozen=True)
class OnClockOf(Expr):
    """`term` judged on the clock of the time zone in `zone` (a column)."""

    zone: Col
    term: Expr

    def sql(self, context: SqlContext) -> str:
        if context.vendor == "postgresql":
            # PostgreSQL reads each row's clock itself: no list of zones needed.
            return self.term.sql(context.on_clock(SqlClock(self.zone)))
        clocks = []
        for tz_name in context.zones_of(self.zone.role):
            inner = context.on_clock(tz_name)
            clocks.append(
                f"({self.zone.sql(context)} = {context.param(tz_name)}"
                f" AND {self.term.sql(inner)})"
            )
        return "(" + (" OR ".join(clocks) or "1 = 0") + ")"

    def holds(self, context: PythonContext) -> bool:
        clock = Clock.of(context.moment, self.zone.value(context))
        return self.term.holds(context.on_clock(clock))


@dataclass(frozen=True)
class SqlClock:
    """The moment on the clock of a zone column, computed by PostgreSQL."""

    zone: Col

    def part(self, part: str, context: SqlContext) -> str:
        moment = context.moment_param(_adapted_moment)
        local = f"({moment} AT TIME ZONE {self.zone.sql(context)})"
        if part == "time":
            return f"CAST({local} AS time)"
        if part == "date":
            return f"CAST({local} AS date)"
        shift = 6 if part == "yesterday" else 0  # ISODOW: Monday 1 .. Sunday 7
        return f"MOD(CAST(EXTRACT(ISODOW FROM {local}) AS integer) + {shift - 1}, 7)"


def covers(role: str) -> Expr:
    """A weekly-hours row covers the clock: its own day from its start, or the
    next day until its end when it crosses midnight (an end at or before start)."""
    weekday, starts, ends = Col(role, "weekday"), Col(role, "starts"), Col(role, "ends")
    crosses = Compare(ends, "<=", starts)
    now = ClockPart("time")
    return Any(
        All(
            Compare(weekday, "=", ClockPart("weekday")),
            Compare(starts, "<=", now),
            Any(Compare(ends, ">", now), crosses),
        ),
        All(
            Compare(weekday, "=", ClockPart("yesterday")),
            Compare(ends, ">", now),
            crosses,
        ),
    )


def within_hours(role: str, foreign_key: str, owner: Col) -> Expr:
    """No weekly hours means always; otherwise one of them covers the clock."""
    return Any(
        Not(Exists(role, foreign_key, owner)),
        Exists(role, foreign_key, owner, covers(role)),
    )


def _adapted_moment(moment: dt.datetime, ops):
    return ops.adapt_datetimefield_value(moment)


def _clock_part(tz_name: str, part: str, moment: dt.datetime, ops):
    value = getattr(Clock.of(moment, tz_name), part)
    if part == "time":
        return ops.adapt_timefield_value(value)
    if part == "date":
        return ops.adapt_datefield_value(value)
    return value
