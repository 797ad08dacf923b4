"""Who may take a call at a moment: each roster rule stated once.

A rule is a small expression over the roster's tables (`language`). The same
expression renders as SQL (`render.SqlContext`), for the endpoint's candidate
statement, the routing preview, the board, the last-known list and the admin's
"on duty now", and evaluates in Python (`render.PythonContext`), for coverage over
future moments with the roster in hand. There is no other copy: a rule changed in
`roster` changes every consumer.

This package's own names are the named rules and what querysets need of them.
"""

from agents.rules.queries import (
    ORM_AGENT,
    ORM_MEMBER,
    agent_zones,
    group_is_open,
    orm_condition,
)
from agents.rules.roster import (
    AGENT_ACTIVE,
    AVAILABLE,
    ELIGIBLE,
    GROUP_OPEN,
    IN_HOURS,
    MEMBERSHIP_ACTIVE,
    NOT_ENGAGED,
    NOT_ON_TIME_OFF,
    ON_DUTY,
    Rule,
    all_of,
    has_skill,
    meets_needs,
)

__all__ = [
    "AGENT_ACTIVE",
    "AVAILABLE",
    "ELIGIBLE",
    "GROUP_OPEN",
    "IN_HOURS",
    "MEMBERSHIP_ACTIVE",
    "NOT_ENGAGED",
    "NOT_ON_TIME_OFF",
    "ON_DUTY",
    "ORM_AGENT",
    "ORM_MEMBER",
    "Rule",
    "agent_zones",
    "all_of",
    "has_skill",
    "meets_needs",
    "group_is_open",
    "orm_condition",
]
