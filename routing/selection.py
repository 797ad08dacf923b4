"""Who may take a call now, in the order the group's strategy gives.

Eligibility and order are decided in SQL, limited to what the answer needs, so
a request costs the same few statements whatever the size of the group. The rules
are written twice, on purpose: as ORM expressions (`eligible_q`,
`ranked_memberships`) that the preview and the board annotate to explain
themselves, and as the one statement the endpoint runs (`pick_candidates`);
tests/routing/test_selection.py holds the two to the same answers.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Random

from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    Strategy,
    TimeOff,
    agent_timezones,
    local_moment,
    not_engaged_q,
    on_duty_q,
)
from routing.models import Attempt, Call, Outcome


@dataclass(frozen=True)
class Candidate:
    membership_id: int
    agent_id: int
    number: str
    name: str
    priority: int
    position: int
    sticky: bool = False  # the agent who last answered this caller


def eligible_q(group: AgentGroup, moment: dt.datetime, *, timezones=None) -> Q:
    """Match the group's memberships that may be offered a call at `moment`."""
    return (
        Q(group=group, active=True, agent__status=AgentStatus.AVAILABLE)
        & on_duty_q(moment, prefix="agent__", timezones=timezones)
        & not_engaged_q(moment, prefix="agent__")
        & group.open_q(moment, prefix="group__")
    )


def ranked_memberships(
    group: AgentGroup, *, moment: dt.datetime, caller: str = ""
) -> QuerySet:
    """Return the group's memberships in the order its strategy offers them.

    Sticky agent first (when the group is sticky), then priority tiers, then the
    strategy's key within a tier, then position and name.
    """
    annotations = {}
    order = []
    if group.sticky_days and caller:
        last_answerer = (
            Attempt.objects.filter(
                group=group,
                call__caller=caller,
                outcome=Outcome.COMPLETED,
                outcome_at__gte=moment - dt.timedelta(days=group.sticky_days),
            )
            .order_by("-outcome_at")
            .values("agent_id")[:1]
        )
        annotations["sticky_rank"] = Case(
            When(agent_id=Subquery(last_answerer), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        order.append("sticky_rank")
    order.append("priority")
    if group.strategy == Strategy.ROUND_ROBIN and group.rotation:
        annotations["rotation_lap"] = _rotation_lap(group.rotation)
        order.append("rotation_lap")
    elif group.strategy == Strategy.LONGEST_IDLE:
        order.append(F("agent__last_answered_at").asc(nulls_first=True))
    elif group.strategy == Strategy.FEWEST_CALLS:
        annotations["answered_today"] = _answered_since(_local_midnight(group, moment))
        order.append("answered_today")
    elif group.strategy == Strategy.RANDOM:
        order.append(Random())
    order += ["position", "agent__name", "agent_id"]
    return (
        Membership.objects.filter(group=group).annotate(**annotations).order_by(*order)
    )


def pick_candidates(
    group: AgentGroup,
    *,
    moment: dt.datetime,
    call_id: int | None,
    caller: str,
    limit: int,
    timezones=None,
    exclude_agent_ids=(),
) -> list[Candidate]:
    """Return up to `limit` eligible members never offered for the call, in order.

    The same rules as `eligible_q` and `ranked_memberships`, written as one SQL
    statement: building and compiling that ORM query cost the request more than
    running it (tests/routing/test_selection.py holds the two to the same answers).
    """
    if timezones is None:
        timezones = agent_timezones()
    query = _CandidateQuery(moment)
    query.where("m.group_id = %s AND m.active AND a.active AND a.status = %s")
    query.params += [group.pk, AgentStatus.AVAILABLE]
    query.where("(a.engaged_until IS NULL OR a.engaged_until <= %s)", query.now)
    query.where(
        f"NOT EXISTS (SELECT 1 FROM {TIME_OFF} t WHERE t.agent_id = a.id"
        " AND t.starts_at <= %s AND t.ends_at > %s)",
        query.now,
        query.now,
    )
    query.where_in_hours(timezones)
    query.where_group_open(group)
    if call_id is not None:
        # One anti-join on the call's few offers: with the OR, the only index it
        # can use is the call's own, never an agent's whole history.
        query.where(
            f"NOT EXISTS (SELECT 1 FROM {ATTEMPT} x WHERE x.call_id = %s"
            " AND (x.agent_id = a.id OR x.number = a.phone))",
            call_id,
        )
    if exclude_agent_ids:
        marks = ", ".join(["%s"] * len(exclude_agent_ids))
        query.where(f"a.id NOT IN ({marks})", *exclude_agent_ids)
    query.order_by_strategy(group, caller=caller)
    with connection.cursor() as cursor:
        cursor.execute(query.sql(limit), query.params)
        return [Candidate(*row[:-1], sticky=bool(row[-1])) for row in cursor.fetchall()]


MEMBERSHIP = Membership._meta.db_table
AGENT = Agent._meta.db_table
AGENT_HOURS = AgentHours._meta.db_table
GROUP_HOURS = GroupHours._meta.db_table
TIME_OFF = TimeOff._meta.db_table
HOLIDAY = Holiday._meta.db_table
ATTEMPT = Attempt._meta.db_table
CALL = Call._meta.db_table

# A weekly-hours row `h` covers (weekday, time): the same day from its start, or
# the next day until its end when it crosses midnight (an end at or before start).
COVERS = (
    "((h.weekday = %s AND h.starts <= %s AND (h.ends > %s OR h.ends <= h.starts))"
    " OR (h.weekday = %s AND h.ends > %s AND h.ends <= h.starts))"
)


class _CandidateQuery:
    """The candidate statement, built clause by clause with its parameters."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment
        self.ops = connection.ops
        self.now = self.ops.adapt_datetimefield_value(moment)
        self.conditions: list[str] = []
        self.order: list[str] = []
        self.params: list = []
        self.order_params: list = []
        self.sticky = "0"  # a column: 1 for the agent who last answered the caller
        self.sticky_params: list = []

    def where(self, condition: str, *params) -> None:
        self.conditions.append(condition)
        self.params += params

    def covers(self, weekday: int, time_of_day: dt.time) -> list:
        moment = self.ops.adapt_timefield_value(time_of_day)
        return [weekday, moment, moment, (weekday - 1) % 7, moment]

    def where_in_hours(self, timezones: list[str]) -> None:
        """Agents without hours are always on; others by their own clocks."""
        clocks, params = [], []
        for tz_name in timezones:
            weekday, time_of_day, _ = local_moment(self.moment, tz_name)
            clocks.append(f"(a.timezone = %s AND {COVERS})")
            params += [tz_name, *self.covers(weekday, time_of_day)]
        self.where(
            f"(NOT EXISTS (SELECT 1 FROM {AGENT_HOURS} h WHERE h.agent_id = a.id)"
            f" OR EXISTS (SELECT 1 FROM {AGENT_HOURS} h WHERE h.agent_id = a.id"
            f" AND ({' OR '.join(clocks) or '1 = 0'})))",
            *params,
        )

    def where_group_open(self, group: AgentGroup) -> None:
        weekday, time_of_day, date = local_moment(self.moment, group.timezone)
        self.where(
            f"NOT EXISTS (SELECT 1 FROM {HOLIDAY} d WHERE d.group_id = m.group_id"
            " AND d.date = %s)"
            f" AND (NOT EXISTS (SELECT 1 FROM {GROUP_HOURS} h"
            " WHERE h.group_id = m.group_id)"
            f" OR EXISTS (SELECT 1 FROM {GROUP_HOURS} h WHERE h.group_id = m.group_id"
            f" AND {COVERS}))",
            self.ops.adapt_datefield_value(date),
            *self.covers(weekday, time_of_day),
        )

    def order_by_strategy(self, group: AgentGroup, *, caller: str) -> None:
        """Sticky agent, tier, the strategy's key, then position and name."""
        if group.sticky_days and caller:
            since = self.moment - dt.timedelta(days=group.sticky_days)
            self.sticky = (
                "CASE WHEN a.id = ("
                f"SELECT s.agent_id FROM {ATTEMPT} s JOIN {CALL} c ON c.id = s.call_id"
                " WHERE s.group_id = %s AND c.caller = %s AND s.outcome = %s"
                " AND s.outcome_at >= %s ORDER BY s.outcome_at DESC LIMIT 1"
                ") THEN 1 ELSE 0 END"
            )
            self.sticky_params = [
                group.pk,
                caller,
                Outcome.COMPLETED,
                self.ops.adapt_datetimefield_value(since),
            ]
            self.order.append("sticky DESC")
        self.order.append("m.priority")
        if group.strategy == Strategy.ROUND_ROBIN and group.rotation:
            after_pointer = []
            for tier, (position, name) in group.rotation.items():
                after_pointer.append(
                    "(m.priority = %s AND (m.position > %s"
                    " OR (m.position = %s AND a.name > %s)))"
                )
                self.order_params += [int(tier), position, position, name]
            self.order.append(
                f"CASE WHEN {' OR '.join(after_pointer)} THEN 0 ELSE 1 END"
            )
        elif group.strategy == Strategy.LONGEST_IDLE:
            # Never answered first, then the longest since their last answer.
            self.order += ["a.last_answered_at IS NOT NULL", "a.last_answered_at"]
        elif group.strategy == Strategy.FEWEST_CALLS:
            self.order.append(
                f"(SELECT COUNT(*) FROM {ATTEMPT} f WHERE f.agent_id = a.id"
                " AND f.outcome = %s AND f.outcome_at >= %s)"
            )
            self.order_params += [
                Outcome.COMPLETED,
                self.ops.adapt_datetimefield_value(_local_midnight(group, self.moment)),
            ]
        elif group.strategy == Strategy.RANDOM:
            self.order.append("RANDOM()")
        self.order += ["m.position", "a.name", "a.id"]

    def sql(self, limit: int) -> str:
        self.params = [*self.sticky_params, *self.params, *self.order_params, limit]
        return (
            "SELECT m.id, a.id, a.phone, a.name, m.priority, m.position,"
            f" {self.sticky} AS sticky"
            f" FROM {MEMBERSHIP} m JOIN {AGENT} a ON a.id = m.agent_id"
            f" WHERE {' AND '.join(self.conditions)}"
            f" ORDER BY {', '.join(self.order)} LIMIT %s"
        )


def _rotation_lap(rotation: dict) -> Case:
    """Rank a tier's members after its pointer 0, the rest (wrapping round) 1."""
    after_pointer = [
        When(
            Q(priority=int(tier))
            & (Q(position__gt=position) | Q(position=position, agent__name__gt=name)),
            then=Value(0),
        )
        for tier, (position, name) in rotation.items()
    ]
    return Case(*after_pointer, default=Value(1), output_field=IntegerField())


def _local_midnight(group: AgentGroup, moment: dt.datetime) -> dt.datetime:
    local = moment.astimezone(zoneinfo.ZoneInfo(group.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _answered_since(since: dt.datetime) -> Coalesce:
    answered = (
        Attempt.objects.filter(
            agent=OuterRef("agent"), outcome=Outcome.COMPLETED, outcome_at__gte=since
        )
        .order_by()
        .values("agent")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(answered, output_field=IntegerField()), Value(0))
