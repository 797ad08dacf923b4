"""The rules in the ORM's hands: time zones to render for, conditions for querysets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from agents.models import Agent, AgentGroup
from agents.rules.language import TABLES
from agents.rules.render import SqlContext
from agents.rules.roster import GROUP_OPEN, Rule, all_of


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
