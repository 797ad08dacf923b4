"""PostgreSQL's planner statistics of the roster, refreshed after a bulk change."""

from django.db import connection

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


def refresh_planner_statistics() -> None:
    """Let PostgreSQL plan the routing statements from the roster as it now is.

    The routing statements keep one generic plan per connection, chosen from the
    tables' statistics: on a freshly loaded roster, until autovacuum gets to it,
    that plan reads every available agent of every group for each call (measured
    in bench/RESULTS.md). ANALYZE of these small tables takes milliseconds, and
    replaces the cached plans.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        model._meta.db_table
        for model in (
            Agent,
            AgentGroup,
            Membership,
            AgentHours,
            AgentSkill,
            GroupHours,
            TimeOff,
            Holiday,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
