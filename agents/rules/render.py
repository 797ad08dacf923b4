"""The two renderings of a rule: SQL text with parameters, and Python over rows in hand."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection

from agents.rules.language import Clock, Expr, SqlClock
from agents.sql import Sql


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
