"""PostgreSQL plans the routing statements a few times per connection, not per request.

psycopg prepares a statement once one connection has run it `prepare_threshold`
times (settings: DIALWHOM_DB_PREPARE_THRESHOLD, with server-side binding). From
then on PostgreSQL runs it from its plan cache: a custom plan for each of the
first five executions, then, when it is no worse, one generic plan for good
(`plan_cache_mode = auto`). pg_stat_statements with `track_planning` counts every
planning, so a statement that is prepared shows a handful of plans however often
it is called, and one that is not shows a plan per call. Needs a cluster that
loads the extension: `DIALWHOM_PG_STAT_STATEMENTS=1 ./dev/with-postgres`.
"""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from agents.models import Agent, AgentGroup, Membership
from tests.routing.calls.test_statement_budget import round_trips_of_a_call

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLS = 40
# PostgreSQL's plan cache: five custom plans, then the generic one.
CUSTOM_PLANS = 5

# pg_stat_statements shows each statement with its constants as $n.
# The candidate statement (routing.calls.selection) and the claim (routing.calls.claims).
CANDIDATES = "FROM agents_membership m JOIN agents_agent a ON a.id = m.agent_id"
CLAIM = "UPDATE agents_agent SET engaged_until ="
# PostgreSQL's own foreign-key checks (Django's constraints are deferred, so they
# run at COMMIT): one text for every constraint on a table, each constraint with
# its own plan cache, so their plans add up per constraint.
FOREIGN_KEY_CHECK = "FOR KEY SHARE OF x"


class StatementStats:
    """Each statement's calls and plans in pg_stat_statements, since `start()`."""

    def __init__(self):
        self.before: dict[str, tuple[int, int]] = {}

    def start(self) -> None:
        # Not a reset: on a shared server, other people's statistics stay.
        self.before = self.snapshot()

    def since(self) -> dict[str, tuple[int, int]]:
        stats = {}
        for query, (calls, plans) in self.snapshot().items():
            calls_before, plans_before = self.before.get(query, (0, 0))
            if calls > calls_before:
                stats[query] = (calls - calls_before, plans - plans_before)
        return stats

    @staticmethod
    def snapshot() -> dict[str, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT query, calls, plans FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
                " AND userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )
            stats = {}
            for query, calls, plans in cursor:
                # Top-level and nested entries of one text, added up.
                before_calls, before_plans = stats.get(query, (0, 0))
                stats[query] = (before_calls + calls, before_plans + plans)
            return stats


@pytest.fixture
def statement_stats() -> StatementStats:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    if not settings.PREPARED_STATEMENTS:
        pytest.skip("DIALWHOM_DB_SERVER_SIDE_BINDING is off")
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in cursor.fetchone()[0]:
            pytest.skip(
                "pg_stat_statements is not loaded: "
                "DIALWHOM_PG_STAT_STATEMENTS=1 ./dev/with-postgres"
            )
        cursor.execute("SHOW pg_stat_statements.track_planning")
        if cursor.fetchone()[0] != "on":
            pytest.skip("pg_stat_statements.track_planning is off")
        try:
            with transaction.atomic():
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except DatabaseError as error:
            pytest.skip(f"cannot create pg_stat_statements here: {error}")
    return StatementStats()


def make_group(size: int) -> AgentGroup:
    group = AgentGroup.objects.create(slug="prepared", name="Prepared", batch_size=1)
    agents = Agent.objects.bulk_create(
        Agent(name=f"Agent {n:03d}", phone=f"+9197100{n:05d}") for n in range(size)
    )
    Membership.objects.bulk_create(
        Membership(agent=agent, group=group, position=n)
        for n, agent in enumerate(agents)
    )
    return group


def matching(stats: dict, fragment: str) -> dict[str, tuple[int, int]]:
    return {query: figures for query, figures in stats.items() if fragment in query}


def report(stats: dict) -> str:
    """Every statement the requests ran, most planned first: the failure message."""
    rows = sorted(stats.items(), key=lambda item: -item[1][1])
    return "\n".join(f"calls={c} plans={p}: {q[:300]}" for q, (c, p) in rows)


def test_routing_statements_are_planned_a_few_times_per_connection(
    exotel, statement_stats
):
    # Django passes prepare_threshold=None, never preparing, unless it is set.
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    assert threshold is not None, "psycopg prepares nothing: prepare_threshold=None"
    plans_at_most = threshold + CUSTOM_PLANS + 1
    assert plans_at_most < CALLS / 2, f"prepare_threshold {threshold}: too high to tell"
    # Each call keeps its second agent engaged.
    group = make_group(CALLS + 3)
    # Once a minute a process also refreshes the group's last-known list: let that
    # happen before counting what every other request costs.
    round_trips_of_a_call(exotel, group, "prepared-warm")
    statement_stats.start()
    for n in range(CALLS):
        # A first request, then a no-answer follow-up that gets the next agent.
        round_trips_of_a_call(exotel, group, f"prepared-{n}")
    stats = {
        query: figures
        for query, figures in statement_stats.since().items()
        if FOREIGN_KEY_CHECK not in query and "pg_stat_statements" not in query
    }

    # First requests read candidates without the call's offers, follow-ups with:
    # two statements, each run and prepared once per request it serves.
    candidates = matching(stats, CANDIDATES)
    claims = matching(stats, CLAIM)
    assert sum(calls for calls, _plans in candidates.values()) == 2 * CALLS, report(
        stats
    )
    assert sum(calls for calls, _plans in claims.values()) == 2 * CALLS, report(stats)
    # Every statement a request runs has one text whatever the request (no literal
    # or list of varying length in it), and is planned a few times, not per call.
    assert all(calls >= CALLS for calls, _plans in stats.values()), report(stats)
    assert all(plans <= plans_at_most for _calls, plans in stats.values()), report(
        stats
    )
