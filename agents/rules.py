"""Who may take a call at a moment: each roster rule stated once.

A rule is a small expression over the roster's tables. The same expression renders
as SQL (`SqlContext`), for the endpoint's candidate query, the routing preview, the
board, the last-known list and the admin's "on duty now", and evaluates in Python
(`PythonContext`), for coverage over future moments with the roster in hand. There
is no other copy: a rule changed here changes every consumer.

Expressions name tables by role ("agent", "member", "group", and the aliases of
their related rows); each consumer says which SQL alias or table each role has.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)

TABLES = {
    "agent": Agent._meta.db_table,
    "member": Membership._meta.db_table,
    "group": AgentGroup._meta.db_table,
    "agent_hours": AgentHours._meta.db_table,
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
    """Some row of `role` (a related table) belongs to `owner` and meets `where`."""

    role: str
    foreign_key: str
    owner: Col
    where: Expr | None = None

    def sql(self, context: SqlContext) -> str:
        alias = context.alias(self.role)
        condition = f"{alias}.{self.foreign_key} = {self.owner.sql(context)}"
        if self.where is not None:
            condition += f" AND {self.where.sql(context)}"
        return f"EXISTS (SELECT 1 FROM {TABLES[self.role]} {alias} WHERE {condition})"

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


AGENT_ID = Col("agent", "id")
GROUP_ID = Col("group", "id")


@dataclass(frozen=True, eq=False)  # each rule is one object: compared by identity
class Rule:
    """A named rule and what the preview says of a member who fails it."""

    name: str
    expr: Expr
    reason: str


AGENT_ACTIVE = Rule("agent_active", IsTrue(Col("agent", "active")), "agent inactive")
MEMBERSHIP_ACTIVE = Rule(
    "membership_active", IsTrue(Col("member", "active")), "membership inactive"
)
# A break with an end counts as available from that end, with nobody acting.
AVAILABLE = Rule(
    "available",
    Any(
        Compare(Col("agent", "status"), "=", Literal(AgentStatus.AVAILABLE.value)),
        All(
            Compare(Col("agent", "status"), "=", Literal(AgentStatus.BREAK.value)),
            Compare(Col("agent", "status_until"), "<=", Now()),
        ),
    ),
    "not available",
)
IN_HOURS = Rule(
    "in_hours",
    OnClockOf(
        Col("agent", "timezone"), within_hours("agent_hours", "agent_id", AGENT_ID)
    ),
    "outside their hours",
)
NOT_ON_TIME_OFF = Rule(
    "not_on_time_off",
    Not(
        Exists(
            "time_off",
            "agent_id",
            AGENT_ID,
            All(
                Compare(Col("time_off", "starts_at"), "<=", Now()),
                Compare(Col("time_off", "ends_at"), ">", Now()),
            ),
        )
    ),
    "on time off",
)
GROUP_OPEN = Rule(
    "group_open",
    OnClockOf(
        Col("group", "timezone"),
        All(
            Not(
                Exists(
                    "holiday",
                    "group_id",
                    GROUP_ID,
                    Compare(Col("holiday", "date"), "=", ClockPart("date")),
                )
            ),
            within_hours("group_hours", "group_id", GROUP_ID),
        ),
    ),
    "group closed",
)
NOT_ENGAGED = Rule(
    "not_engaged",
    Any(
        IsNull(Col("agent", "engaged_until")),
        Compare(Col("agent", "engaged_until"), "<=", Now()),
    ),
    "engaged on a call",
)

# Scheduled to work: the part of eligibility that coverage plans ahead with.
ON_DUTY = (AGENT_ACTIVE, IN_HOURS, NOT_ON_TIME_OFF)
# May be offered a call now (DESIGN section 5), before the call's own history.
ELIGIBLE = (
    AGENT_ACTIVE,
    MEMBERSHIP_ACTIVE,
    AVAILABLE,
    IN_HOURS,
    NOT_ON_TIME_OFF,
    GROUP_OPEN,
    NOT_ENGAGED,
)


def all_of(rules: Iterable[Rule]) -> Expr:
    return _all_of(tuple(rules))


@functools.cache
def _all_of(rules: tuple[Rule, ...]) -> Expr:
    return All(*(rule.expr for rule in rules))


def _adapted_moment(moment: dt.datetime, ops):
    return ops.adapt_datetimefield_value(moment)


def _clock_part(tz_name: str, part: str, moment: dt.datetime, ops):
    value = getattr(Clock.of(moment, tz_name), part)
    if part == "time":
        return ops.adapt_timefield_value(value)
    if part == "date":
        return ops.adapt_datefield_value(value)
    return value


@dataclass(frozen=True)
class AtMoment:
    """A parameter computed from the moment the rules are judged at."""

    value_of: Callable  # (moment, connection.ops) -> the parameter


@dataclass
class SqlContext:
    """Renders expressions as SQL text with `%s` parameters, collected in order.

    `aliases` maps each role to its SQL alias (or table name); `zones` and
    `group_zones` list the time zones that agents' and groups' clocks need. The
    text depends only on these and on the database: `fragment` renders each
    expression once per process and, for each moment, only computes its
    parameters.
    """

    moment: dt.datetime
    aliases: dict[str, str]
    zones: Sequence[str] = ()
    group_zones: Sequence[str] = ()
    # The clock in force: a time zone's name, or PostgreSQL's per-row clock.
    clock: str | SqlClock | None = None
    params: list = field(default_factory=list)
    # The connection's, looked up once per statement (each lookup goes through
    # Django's per-thread connection handler).
    ops: object = None
    vendor: str = ""

    def __post_init__(self):
        if self.ops is None:
            self.ops, self.vendor = connection.ops, connection.vendor

    def alias(self, role: str) -> str:
        return self.aliases.get(role, role)

    def param(self, value) -> str:
        self.params.append(value)
        return "%s"

    def moment_param(self, value_of: Callable) -> str:
        return self.param(AtMoment(value_of))

    def values(self, params) -> tuple:
        """The parameters for this context's moment."""
        return tuple(
            p.value_of(self.moment, self.ops) if isinstance(p, AtMoment) else p
            for p in params
        )

    def zones_of(self, role: str) -> Sequence[str]:
        return self.group_zones if role == "group" else self.zones

    def on_clock(self, clock: str | SqlClock) -> SqlContext:
        inner = SqlContext(
            moment=self.moment,
            aliases=self.aliases,
            zones=self.zones,
            group_zones=self.group_zones,
            clock=clock,
            params=self.params,  # shared: parameters stay in textual order
            ops=self.ops,
            vendor=self.vendor,
        )
        return inner

    def render(self, expr: Expr) -> str:
        return expr.sql(self)

    def fragment(self, expr: Expr) -> Sql:
        """Render `expr` apart from anything rendered before."""
        text, params = _rendered(
            expr,
            tuple(self.aliases.items()),
            tuple(self.zones),
            tuple(self.group_zones),
            self.vendor,
        )
        return Sql(text, self.values(params))


@functools.lru_cache(maxsize=256)
def _rendered(expr: Expr, aliases, zones, group_zones, vendor: str):
    """The text of `expr` and its parameters, moment-dependent ones as `AtMoment`."""
    context = SqlContext(
        moment=None,
        aliases=dict(aliases),
        zones=zones,
        group_zones=group_zones,
        ops=connection.ops,
        vendor=vendor,
    )
    return context.render(expr), tuple(context.params)


class Sql:
    """SQL text and its parameters, in order; fragments join with `+` and `join`.

    A plain class with slots: a statement is built of many fragments per request.
    """

    __slots__ = ("text", "params")

    def __init__(self, text: str, params: tuple = ()):
        self.text = text
        self.params = params

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, self.params)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sql):
            return NotImplemented
        return (self.text, self.params) == (other.text, other.params)

    def __hash__(self) -> int:
        return hash((self.text, self.params))

    def __repr__(self) -> str:
        return f"Sql({self.text!r}, {self.params!r})"

    def join(self, parts: Iterable[Sql | str]) -> Sql:
        """Join `parts` with this fragment between them (`Sql(" AND ").join(...)`)."""
        texts, params = [], []
        for n, part in enumerate(parts):
            if n:
                texts.append(self.text)
                params.extend(self.params)
            if isinstance(part, str):
                texts.append(part)
            else:
                texts.append(part.text)
                params.extend(part.params)
        return Sql("".join(texts), tuple(params))

    @classmethod
    def param(cls, value) -> Sql:
        return cls("%s", (value,))


@dataclass
class PythonContext:
    """Evaluates expressions over objects in hand.

    `rows` holds the object playing each role; `related(role, owner_id)` returns
    the related rows (weekly hours, time off, holidays) of an owner.
    """

    moment: dt.datetime
    rows: dict[str, object]
    related_rows: Callable[[str, object], Iterable[object]]
    clock: Clock | None = None

    def related(self, role: str, owner_id) -> Iterable[object]:
        return self.related_rows(role, owner_id)

    def with_row(self, role: str, row) -> PythonContext:
        return PythonContext(
            self.moment, {**self.rows, role: row}, self.related_rows, self.clock
        )

    def on_clock(self, clock: Clock) -> PythonContext:
        return PythonContext(self.moment, self.rows, self.related_rows, clock)

    def holds(self, expr: Expr) -> bool:
        return expr.holds(self)


def agent_zones() -> list[str]:
    """Return the distinct time zones agents keep their hours in (a handful).

    None on PostgreSQL, which reads each row's clock itself (`SqlClock`).
    """
    if connection.vendor == "postgresql":
        return []
    return list(Agent.objects.order_by().values_list("timezone", flat=True).distinct())


def orm_condition(
    rules: Iterable[Rule],
    *,
    moment: dt.datetime,
    aliases: dict[str, str],
    zones: Sequence[str] | None = None,
    group_zones: Sequence[str] = (),
) -> RawSQL:
    """Return `rules` as a boolean ORM expression over the tables in `aliases`.

    For querysets: the admin's "on duty now", the board. The query must already
    join every table that `aliases` names.
    """
    context = SqlContext(
        moment=moment,
        aliases=aliases,
        zones=agent_zones() if zones is None else zones,
        group_zones=group_zones,
    )
    statement = context.fragment(all_of(rules))
    return RawSQL(statement.text, statement.params, output_field=BooleanField())


# How the ORM names the tables of an Agent or a Membership (joined to its agent).
ORM_AGENT = {"agent": TABLES["agent"]}
ORM_MEMBER = {"agent": TABLES["agent"], "member": TABLES["member"]}


def group_is_open(group: AgentGroup, moment: dt.datetime) -> bool:
    """Return whether `group` takes calls at `moment` (its hours, its holidays)."""
    return (
        AgentGroup.objects.filter(pk=group.pk)
        .filter(
            orm_condition(
                [GROUP_OPEN],
                moment=moment,
                aliases={"group": TABLES["group"]},
                zones=(),
                group_zones=[group.timezone],
            )
        )
        .exists()
    )
