"""The roster's named rules: who may take a call at a moment, each stated once.

A rule changed here changes every consumer: the endpoint's candidate statement,
the routing preview, the board, the last-known list, the admin's "on duty now"
(all as SQL) and coverage and the personal page (in Python).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from agents.models import AgentStatus
from agents.rules.language import (
    All,
    Any,
    ClockPart,
    Col,
    Compare,
    Exists,
    Expr,
    IsNull,
    IsTrue,
    Literal,
    Not,
    Now,
    OnClockOf,
    within_hours,
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


@functools.cache
def has_skill(name: str, level: int) -> Rule:
    """The agent has skill `name` at `level` or higher (one indexed lookup)."""
    return Rule(
        f"has_{name.replace('-', '_')}",
        Exists(
            "agent_skill",
            "agent_id",
            AGENT_ID,
            All(
                Compare(Col("agent_skill", "skill_id"), "=", Literal(name)),
                Compare(Col("agent_skill", "level"), ">=", Literal(level)),
            ),
            per_row=True,
        ),
        f"lacks {name}",
    )


@functools.cache
def meets_needs(needs: tuple[tuple[str, int], ...]) -> Rule:
    """The agent meets the needs (DESIGN 10.2): every skill, each at its minimum.

    `needs` is not empty.
    """
    return Rule(
        "meets_needs",
        All(*(has_skill(name, level).expr for name, level in needs)),
        "does not meet the needs",
    )
