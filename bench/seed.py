"""Seed the benchmark database: two groups, the call history, calls to follow up.

Groups `bench-10` and `bench-1000` (sequential, one number per answer) hold no
agent after an offer (`hold_seconds=0`), so every first request of a long run
finds someone free and pays for the whole decision: candidates, claim, insert.
The history (PostgreSQL only: generated in SQL, a million rows in seconds) is
answered and unanswered attempts of past calls spread over the big group.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from agents.models import (
    Agent,
    AgentGroup,
    AgentSkill,
    Caller,
    Membership,
    Route,
    Skill,
)
from agents.planner_statistics import refresh_planner_statistics
from bench.roster import (
    FOLLOW_UP_GROUP,
    GROUP_SIZES,
    KNOWN_CALLER,
    ROUTE_NEEDS,
    SKILLS,
    phone,
)
from routing.models import Attempt, Call


@transaction.atomic
def seed_roster() -> dict[str, list[int]]:
    """Create the benchmark groups and their agents; return each group's agent ids."""
    agent_ids = {}
    for group_index, (slug, size) in enumerate(GROUP_SIZES.items()):
        group = AgentGroup.objects.create(
            slug=slug,
            name=slug,
            batch_size=1,
            hold_seconds=0,
            wrapup_seconds=0,
            exophones="",
            # What a Programmable Connect answer carries beside the numbers.
            caller_id="+918069891522",
            record=True,
            music_on_hold="operator_tone",
        )
        agents = Agent.objects.bulk_create(
            Agent(name=f"{slug} agent {index:04d}", phone=phone(group_index, index))
            for index in range(size)
        )
        Membership.objects.bulk_create(
            Membership(agent=agent, group=group, position=index)
            for index, agent in enumerate(agents)
        )
        agent_ids[slug] = [agent.pk for agent in agents]
        # Issue 19: ten skills an agent (levels 2-5, so everyone meets the
        # route's needs and the candidate statement still finds the first
        # member), and a route with two needs.
        Skill.objects.bulk_create(
            [Skill(name=f"skill-{n}") for n in range(SKILLS)], ignore_conflicts=True
        )
        AgentSkill.objects.bulk_create(
            AgentSkill(agent=agent, skill_id=f"skill-{n}", level=2 + (index + n) % 4)
            for index, agent in enumerate(agents)
            for n in range(SKILLS)
        )
        Route.objects.create(slug=f"{slug}-needs", group=group, needs=ROUTE_NEEDS)
    Caller.objects.create(number=KNOWN_CALLER, name="Known", notes="bench caller")
    # As the roster import does: production's tables have statistics.
    refresh_planner_statistics()
    return agent_ids


def seed_history(*, attempts: int, group_slug: str, agent_ids: list[int]) -> None:
    """Insert `attempts` past attempts (two per call) over the group's agents."""
    if connection.vendor != "postgresql":
        raise ValueError("the history is generated with PostgreSQL's generate_series")
    group = AgentGroup.objects.get(slug=group_slug)
    start = timezone.now() - dt.timedelta(days=14)
    calls = attempts // 2
    with transaction.atomic(), connection.cursor() as cursor:
        # Production's statement timeout is for requests, not for bulk loads.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(
            f"""
            INSERT INTO {Call._meta.db_table}
                (sid, caller, exophone, digits, group_id, first_seen_at, result,
                 ended_at)
            SELECT 'history' || i, '+9170' || lpad((i %% 50000)::text, 8, '0'),
                   '+918047190001', '', %(group)s,
                   %(start)s + i * interval '1 second', 'answered',
                   %(start)s + i * interval '1 second' + interval '5 minutes'
            FROM generate_series(1, %(calls)s) AS i
            """,
            {"group": group.pk, "start": start, "calls": calls},
        )
        cursor.execute(
            f"""
            INSERT INTO {Attempt._meta.db_table}
                (call_id, agent_id, group_id, number, position, reason, offered_at,
                 hold_until, outcome, outcome_at, talk_seconds)
            SELECT c.id, a.id, %(group)s, a.phone, p, 'history',
                   c.first_seen_at + p * interval '30 seconds',
                   c.first_seen_at + interval '5 minutes',
                   CASE p WHEN 1 THEN 'no-answer' ELSE 'completed' END,
                   c.first_seen_at + p * interval '40 seconds',
                   CASE p WHEN 1 THEN NULL ELSE 120 END
            FROM {Call._meta.db_table} c
            CROSS JOIN generate_series(1, 2) AS p
            JOIN {Agent._meta.db_table} a
              ON a.id = (%(agents)s::bigint[])[1 + (c.id * 7 + p) %% %(size)s]
            WHERE c.sid LIKE 'history%%'
            """,
            {"group": group.pk, "agents": agent_ids, "size": len(agent_ids)},
        )
        cursor.execute(f"ANALYZE {Call._meta.db_table}, {Attempt._meta.db_table}")


@transaction.atomic
def seed_pending_calls(*, prefix: str, count: int) -> None:
    """Create `count` calls `<prefix><n>` each waiting on one offer in bench-10.

    Call n's offer went to agent n % 10: the load scripts report on that number.
    """
    group = AgentGroup.objects.get(slug=FOLLOW_UP_GROUP)
    agents = list(
        Agent.objects.filter(memberships__group=group).order_by("memberships__position")
    )
    now = timezone.now()
    calls = Call.objects.bulk_create(
        (
            Call(sid=f"{prefix}{n}", caller="+917000000001", group=group)
            for n in range(count)
        ),
        batch_size=5000,
    )
    Attempt.objects.bulk_create(
        (
            Attempt(
                call=call,
                agent=agents[n % len(agents)],
                group=group,
                number=str(agents[n % len(agents)].phone),
                position=1,
                offered_at=now,
                hold_until=now + dt.timedelta(hours=1),
            )
            for n, call in enumerate(calls)
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Call._meta.db_table}, {Attempt._meta.db_table}")
