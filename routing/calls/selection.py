"""Who may take a call now, in the order the group's strategy gives: one source of SQL.

`MemberQuery` renders, on one group's memberships, the roster's rules
(`agents.rules`), routing's own rule (never offered for this call) and the order
of DESIGN section 5 (sticky agent, tier, the strategy's key, position, name). The
endpoint runs it as the candidate statement, limited to what the answer needs; the
preview and the board run it as the verdict statement, one boolean column per
rule, for every member. No other code states these rules.

The candidate statement reads the group through index-ordered scans, each limited
to the answer's size, and sorts only what they return: round robin is the members
after each tier's pointer (a scan per tier, starting at the pointer), then every
member from the start (together they hold the first N in rotation order, wherever
the pointers are); longest idle follows each
membership's copy of its agent's last answer; fewest calls is the members who
answered today, fewest first, then the others (none today), from the counts each
membership keeps (`claims.mark_answered`); the sticky agent is a scan of its own.
Only random sorts the group's eligible members.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db import connection

from agents import rules
from agents.models import AgentGroup, Strategy
from agents.rules.language import TABLES, Clock
from agents.rules.render import SqlContext
from agents.rules.roster import all_of
from agents.sql import COMMA, Sql, db_datetime, param
from routing.decision.engine import MEETS, REST, Candidate
from routing.models import Attempt, Call, Outcome

ATTEMPT = Attempt._meta.db_table
CALL = Call._meta.db_table
ALIASES = {
    "agent": "a",
    "member": "m",
    "group": "g",
    "agent_hours": "ah",
    "group_hours": "gh",
    "time_off": "t",
    "holiday": "d",
    "agent_skill": "k",
}
COLUMNS = ("membership_id", "agent_id", "number", "name", "priority", "position")
# The order of DESIGN section 5 over the statement's own columns.
ORDER = "sticky DESC, priority, strategy_key, position, name, agent_id"
ORDER_OF_J = ", ".join(f"j.{term}" for term in ORDER.split(", "))
INDEX_ORDER = "m.priority, m.position, a.name, a.id"  # membership_order_idx
AND = Sql(" AND ")
OR = Sql(" OR ")


@dataclass(frozen=True)
class Verdict:
    """A member, in the group's order, and which rules they meet now."""

    candidate: Candidate
    passes: dict[str, bool] = field(default_factory=dict)
    # Each need of the call (skill name -> whether the member has it at the level).
    skills: dict[str, bool] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return all(self.passes.values())


class MemberQuery:
    """The statements over one group's members at one moment, for one caller."""

    def __init__(
        self,
        group: AgentGroup,
        *,
        moment: dt.datetime,
        zones,
        caller: str = "",
        needs: tuple[tuple[str, int], ...] = (),
        part: str = "",
        strict: bool = True,
    ):
        """`needs` and `part` (engine.MEETS or engine.REST) pick the members who
        meet the call's needs, or the others; `strict` says whether the sticky
        agent must meet them too (DESIGN 10.4)."""
        self.group = group
        self.moment = moment
        self.caller = caller
        self.needs = tuple(needs)
        self.part = part if self.needs else ""
        self.strict = strict
        self.context = SqlContext(
            moment=moment, aliases=ALIASES, zones=zones, group_zones=[group.timezone]
        )

    # One method per term.

    def in_group(self) -> Sql:
        return "m.group_id = " + param(self.group.pk)

    def eligible(self) -> Sql:
        """The roster's rules (agents.rules.ELIGIBLE) for this group's members."""
        return self.context.fragment(all_of(rules.ELIGIBLE))

    def meets_needs(self) -> Sql:
        """The call's needs (agents.rules.meets_needs): one indexed lookup a skill."""
        return self.context.fragment(rules.meets_needs(self.needs).expr)

    def meets_column(self) -> Sql:
        """1 when the member meets the needs, 0 when not, NULL without needs."""
        if not self.part:
            return Sql("NULL")
        if self.part == REST:
            return Sql("0")
        if self.strict:
            return Sql("1")
        # A preference: the sticky agent goes first, meeting the needs or not.
        return "CASE WHEN " + self.meets_needs() + " THEN 1 ELSE 0 END"

    def never_offered(self, call_id: int) -> Sql:
        return never_offered(call_id)

    def sticky(self) -> Sql:
        """1 for the agent who last answered this caller in this group, else 0."""
        if not self.is_sticky:
            return Sql("0")
        since = self.moment - dt.timedelta(days=self.group.sticky_days)
        return (
            "CASE WHEN a.id = ("
            f"SELECT s.agent_id FROM {ATTEMPT} s JOIN {CALL} c ON c.id = s.call_id"
            " WHERE s.group_id = "
            + param(self.group.pk)
            + " AND c.caller = "
            + param(self.caller)
            + " AND s.outcome = "
            + param(Outcome.COMPLETED.value)
            + " AND s.outcome_at >= "
            + param(db_datetime(since))
            + " ORDER BY s.outcome_at DESC LIMIT 1) THEN 1 ELSE 0 END"
        )

    def after_pointer(self) -> Sql:
        """Round robin: the members after their tier's pointer (lap 0)."""
        terms = self.after_pointer_in_each_tier()
        return "(" + (OR.join(terms) if terms else Sql("1 = 0")) + ")"

    def after_pointer_in_each_tier(self) -> list[Sql]:
        """The members after the pointer, one term per tier: as a scan's own
        condition, `m.position >=` starts it at the pointer in membership_order_idx
        (an OR of the tiers would only filter, from the group's first member)."""
        return [
            "(m.priority = "
            + param(int(tier))
            + " AND m.position >= "
            + param(position)
            + " AND (m.position > "
            + param(position)
            + " OR (m.position = "
            + param(position)
            + " AND a.name > "
            + param(name)
            + ")))"
            for tier, (position, name) in self.group.rotation.items()
        ]

    def answered_today(self) -> Sql:
        """Fewest calls: the member's count is of the group's local day now."""
        today = Clock.of(self.moment, self.group.timezone).date
        return "m.answered_on = " + param(connection.ops.adapt_datefield_value(today))

    def strategy_key(self) -> Sql:
        """The strategy's order within a tier, as one sortable column."""
        strategy = self.group.strategy
        if strategy == Strategy.ROUND_ROBIN:
            return "CASE WHEN " + self.after_pointer() + " THEN 0 ELSE 1 END"
        if strategy == Strategy.LONGEST_IDLE:
            # Never answered sorts first (the epoch), then the longest idle.
            return Sql("m.idle_since")
        if strategy == Strategy.FEWEST_CALLS:
            # The member's answered calls today; an older count is 0 today.
            return (
                "CASE WHEN "
                + self.answered_today()
                + " THEN m.answered_today ELSE 0 END"
            )
        if strategy == Strategy.RANDOM:
            return Sql("RANDOM()")
        return Sql("0")

    # The statements.

    def candidates(
        self, *, limit: int, call_id: int | None = None, exclude_agent_ids=()
    ) -> list[Candidate]:
        """Return up to `limit` eligible members never offered for the call, in order."""
        statement = self.candidates_sql(
            limit=limit, call_id=call_id, exclude_agent_ids=exclude_agent_ids
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            rows = cursor.fetchall()
        return _unique(rows)[:limit]

    def candidates_sql(
        self, *, limit: int, call_id: int | None = None, exclude_agent_ids=()
    ) -> Sql:
        conditions = [self.in_group(), self.eligible()]
        if call_id is not None:
            conditions.append(self.never_offered(call_id))
        if exclude_agent_ids:
            conditions.append(
                "a.id NOT IN ("
                + COMMA.join(param(pk) for pk in exclude_agent_ids)
                + ")"
            )
        where = AND.join(conditions)
        sticky_where = where
        if self.part == MEETS:
            where = where + " AND " + self.meets_needs()
            sticky_where = where if self.strict else sticky_where
        elif self.part == REST:
            where = sticky_where = where + " AND NOT " + self.meets_needs()
        scans = []
        if self.group.strategy == Strategy.ROUND_ROBIN and self.group.rotation:
            scans.extend(
                self._scan(where + " AND " + tier, limit)
                for tier in self.after_pointer_in_each_tier()
            )
        if self.is_sticky:
            scans.append(
                self._scan(sticky_where + " AND " + self.sticky() + " = 1", limit)
            )
        scans.extend(self._strategy_scans(where, limit))
        union = Sql(" UNION ALL ").join(
            "SELECT * FROM (" + scan + f") s{n}" for n, scan in enumerate(scans)
        )
        return "SELECT * FROM (" + union + f") c ORDER BY {ORDER}"

    def candidates_json_sql(self, *, limit: int) -> Sql:
        """The candidate statement as one JSON value (PostgreSQL), for a first
        request that reads its call and its candidates in one statement."""
        return (
            "SELECT CAST(COALESCE(json_agg(json_build_array("
            + ", ".join(f"j.{name}" for name in (*COLUMNS, "sticky", "meets"))
            + f") ORDER BY {ORDER_OF_J}), '[]') AS text) FROM ("
            + self.candidates_sql(limit=limit)
            + ") j"
        )

    def on_duty(self) -> list[Candidate]:
        """Return every member who could take a call now if free, in tier order.

        The eligibility rules but engagement: the last-known list, kept for
        outages, names everyone on duty, engaged or not.
        """
        on_duty = [rule for rule in rules.ELIGIBLE if rule is not rules.NOT_ENGAGED]
        statement = (
            "SELECT "
            + self._columns()
            + f" FROM {self._tables()} WHERE "
            + AND.join([self.in_group(), self.context.fragment(all_of(on_duty))])
            + self._part_filter()
            + f" ORDER BY {INDEX_ORDER}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            return [_candidate(row) for row in cursor.fetchall()]

    def verdicts(self) -> list[Verdict]:
        """Return every member in the group's order, with each rule met or not,
        and each of the call's needs."""
        needs = [rules.has_skill(name, level) for name, level in self.needs]
        checked = [*rules.ELIGIBLE, *needs]
        checks = COMMA.join(
            self.context.fragment(rule.expr) + f" AS check_{n}"
            for n, rule in enumerate(checked)
        )
        statement = (
            "SELECT "
            + self._columns()
            + ", "
            + checks
            + f" FROM {self._tables()} WHERE "
            + self.in_group()
            + f" ORDER BY {ORDER}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            rows = cursor.fetchall()
        first_check = len(COLUMNS) + 3
        first_need = first_check + len(rules.ELIGIBLE)
        return [
            Verdict(
                candidate=_candidate(row),
                passes={
                    rule.name: bool(value)
                    for rule, value in zip(
                        rules.ELIGIBLE, row[first_check:first_need], strict=True
                    )
                },
                skills={
                    name: bool(value)
                    for (name, _), value in zip(
                        self.needs, row[first_need:], strict=True
                    )
                },
            )
            for row in rows
        ]

    # Pieces.

    def _part_filter(self) -> Sql | str:
        """The members who meet the needs, or the others (the last-known list)."""
        if self.part == MEETS:
            return " AND " + self.meets_needs()
        if self.part == REST:
            return " AND NOT " + self.meets_needs()
        return ""

    @property
    def is_sticky(self) -> bool:
        return bool(self.group.sticky_days and self.caller)

    def _columns(self) -> Sql:
        return (
            "m.id AS membership_id, a.id AS agent_id, a.phone AS number,"
            " a.name AS name, m.priority AS priority, m.position AS position, "
            + self.sticky()
            + " AS sticky, "
            + self.meets_column()
            + " AS meets, "
            + self.strategy_key()
            + " AS strategy_key"
        )

    def _tables(self) -> str:
        return (
            f"{TABLES['member']} m JOIN {TABLES['agent']} a ON a.id = m.agent_id"
            f" JOIN {TABLES['group']} g ON g.id = m.group_id"
        )

    def _scan(self, where: Sql, limit: int, order: str = INDEX_ORDER) -> Sql:
        return (
            "SELECT "
            + self._columns()
            + f" FROM {self._tables()} WHERE "
            + where
            + f" ORDER BY {order} LIMIT "
            + param(limit)
        )

    def _strategy_scans(self, where: Sql, limit: int) -> list[Sql]:
        """The scans in the strategy's order, each following an index of memberships
        but random's (which sorts the eligible members by its key).

        Fewest calls is two scans: the members who answered today, in count order
        (membership_answered_order_idx), and the rest, whose count is 0 today, in
        position order (membership_order_idx). Each scan's order is the full
        ORDER restricted to its members (within a scan the key is the count, or
        0), so any member among the first `limit` of the whole order is among the
        first `limit` of its own scan: the union holds the first `limit`.
        """
        strategy = self.group.strategy
        if strategy in (Strategy.SEQUENTIAL, Strategy.ROUND_ROBIN):
            return [self._scan(where, limit)]
        if strategy == Strategy.LONGEST_IDLE:
            order = "m.priority, m.idle_since, m.position, a.name, a.id"
            return [self._scan(where, limit, order=order)]
        if strategy == Strategy.FEWEST_CALLS:
            today = self.answered_today()
            counted = "m.priority, m.answered_today, m.position, a.name, a.id"
            return [
                self._scan(where + " AND " + today, limit, order=counted),
                self._scan(
                    where + " AND (m.answered_on IS NULL OR NOT (" + today + "))", limit
                ),
            ]
        return [
            self._scan(where, limit, order=f"m.priority, strategy_key, {INDEX_ORDER}")
        ]


def never_offered(call_id: int) -> Sql:
    """Not yet offered for this call, as an agent or as a number.

    One anti-join on the call's few offers: with the OR, the only index it can
    use is the call's own, never an agent's whole history.
    """
    return (
        f"NOT EXISTS (SELECT 1 FROM {ATTEMPT} x WHERE x.call_id = "
        + param(call_id)
        + " AND (x.agent_id = a.id OR x.number = a.phone))"
    )


def _candidate(row) -> Candidate:
    meets = row[len(COLUMNS) + 1]
    return Candidate(
        *row[: len(COLUMNS)],
        sticky=bool(row[len(COLUMNS)]),
        meets=None if meets is None else bool(meets),
    )


def candidates_from_json(text: str, *, limit: int) -> list[Candidate]:
    """The candidates of `candidates_json_sql`, as `candidates` returns them."""
    return _unique(json.loads(text))[:limit]


def _unique(rows) -> list[Candidate]:
    """Keep each member once: a member may come from more than one scan."""
    seen, candidates = set(), []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            candidates.append(_candidate(row))
    return candidates


# An agent may take a call as its caller's owner (DESIGN 10.3) in any group,
# member or not: the agent's own rules, no membership's or group's.
OWNER_RULES = (
    rules.AGENT_ACTIVE,
    rules.AVAILABLE,
    rules.IN_HOURS,
    rules.NOT_ON_TIME_OFF,
    rules.NOT_ENGAGED,
)


def owner_candidates(
    *,
    agent_id: int,
    moment: dt.datetime,
    zones,
    call_id: int | None,
    exclude_agent_ids=(),
) -> list[Candidate]:
    """Return the owner as a candidate when eligible as an agent now, else []."""
    if agent_id in exclude_agent_ids:
        return []
    context = SqlContext(moment=moment, aliases=ALIASES, zones=zones)
    where = (
        "a.id = " + param(agent_id) + " AND " + context.fragment(all_of(OWNER_RULES))
    )
    if call_id is not None:
        where = where + " AND " + never_offered(call_id)
    statement = (
        "SELECT 0, a.id, a.phone, a.name, 0, 0, 0, NULL FROM "
        + TABLES["agent"]
        + " a WHERE "
        + where
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)
        return [_candidate(row) for row in cursor.fetchall()]
