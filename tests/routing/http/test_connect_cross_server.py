"""Parallel ringing on two servers, one PostgreSQL: no agent is in two rounds at once.

Two gunicorn servers (two workers each) take Programmable Connect requests for a
group that rings three agents at once. Threads play Exotel: a burst of first
requests for more calls than the agents can serve, then waves where each call
either reports its round unanswered (the next round is offered) or has an agent
answer (the same answered event sent to both servers at the same instant, then
the terminal event), while more calls arrive. The attempt log is then checked:
every agent's engagements are disjoint, and every round closes as one.
"""

import itertools
import json
import os
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connection

from agents.importers import GROUP_COLUMNS
from tests.conftest import TOKEN
from tests.routing.http.test_cross_server import (
    ATTEMPTS_SQL,
    _as_aware,
    _get,
    _server_env,
    _start_servers,
    _stop_servers,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

AGENTS = 9
BATCH = 3
FIRST_BURST = 8
LATER_CALLS = 3  # new calls in every wave
WAVES = 10
PHONES = [f"+9190000001{n:02d}" for n in range(1, AGENTS + 1)]


@dataclass(frozen=True)
class Reply:
    sid: str
    status: int
    content_type: str
    answer: dict

    @property
    def numbers(self) -> list[str]:
        return self.answer.get("destination", {}).get("numbers", [])


def _national(number: str) -> str:
    return "0" + number.removeprefix("+91")


def _play_exotel(bases: list[str]) -> tuple[list[Reply], list[int], set[str]]:
    """Play the calls; return the Connect replies, the events' statuses, the
    calls that were answered."""

    def get(index: int, path: str, **params: str) -> tuple[int, str, str]:
        query = urllib.parse.urlencode(params)
        return _get(f"{bases[index % 2]}/exotel/{TOKEN}/{path}?{query}")

    def connect(index: int, sid: str, **params: str):
        def send() -> Reply:
            status, content_type, body = get(
                index, "connect/rounds/", CallSid=sid, CallFrom="09812345678", **params
            )
            answer = json.loads(body) if status == 200 else {"error": body}
            return Reply(sid, status, content_type, answer)

        return send

    def event(index: int, sid: str, **fields: str):
        return lambda: get(index, "connect-events/", CallSid=sid, **fields)[0]

    replies: list[Reply] = []
    statuses: list[int] = []
    answered: set[str] = set()
    first_sids = [f"round{n:027d}a" for n in range(FIRST_BURST)]
    with ThreadPoolExecutor(max_workers=4 * FIRST_BURST) as pool:
        tasks = [connect(index, sid) for index, sid in enumerate(first_sids)]
        ringing: dict[str, Reply] = {}
        for wave in range(WAVES):
            results = list(pool.map(lambda task: task(), tasks))
            for result in results:
                if isinstance(result, Reply):
                    replies.append(result)
                    if result.numbers:
                        ringing[result.sid] = result
                    else:
                        ringing.pop(result.sid, None)
                else:
                    statuses.append(result)
            tasks = [
                connect(index, f"later{wave:02d}{index:025d}b")
                for index in range(LATER_CALLS if wave < WAVES - 2 else 0)
            ]
            for index, (sid, reply) in enumerate(sorted(ringing.items())):
                leg = _national(reply.numbers[-1])
                if sid in answered:
                    tasks.append(
                        event(
                            index,
                            sid,
                            EventType="Terminal",
                            DialWhomNumber=leg,
                            DialCallStatus="completed",
                            DialCallDuration="5",
                        )
                    )
                    del ringing[sid]
                elif (wave + index) % 3 == 0:
                    # The same answer reaches both servers at the same instant.
                    answered.add(sid)
                    tasks += [
                        event(copy, sid, EventType="Answered", DialWhomNumber=leg)
                        for copy in (index, index + 1)
                    ]
                else:
                    tasks.append(
                        connect(
                            index,
                            sid,
                            DialWhomNumber=leg,
                            DialCallStatus="no-answer",
                            CallType="incomplete",
                        )
                    )
            if not tasks:
                break
    return replies, statuses, answered


def _check(replies: list[Reply], statuses: list[int], answered: set, rows):
    for reply in replies:
        assert reply.status == 200, reply
        assert reply.content_type == "application/json", reply
        if reply.numbers:
            assert reply.answer["parallel_ringing"] == {
                "activate": True,
                "max_parallel_attempts": len(reply.numbers),
            }
    assert statuses and set(statuses) == {200}
    burst = [reply for reply in replies[:FIRST_BURST] if reply.numbers]
    # All agents free, more calls than rounds: each agent in exactly one round.
    assert sorted(n for reply in burst for n in reply.numbers) == sorted(PHONES)
    assert all(len(reply.numbers) == BATCH for reply in burst)

    logged = {(sid, number) for sid, _, number, *_ in rows}
    assert len(logged) == len(rows), "a call was offered one number twice"
    offered = {(reply.sid, n) for reply in replies for n in reply.numbers}
    assert offered == logged, "the answers and the attempt log disagree"

    rounds: dict[tuple, list[tuple]] = defaultdict(list)
    spans: dict[int, list[tuple]] = defaultdict(list)
    for sid, agent_id, _, offered_at, hold_until, outcome, outcome_at in rows:
        rounds[sid, _as_aware(offered_at)].append((outcome, _as_aware(outcome_at)))
        ends = _as_aware(outcome_at) if outcome != "pending" else _as_aware(hold_until)
        spans[agent_id].append((_as_aware(offered_at), ends, sid))
    for agent_id, agent_spans in spans.items():
        agent_spans.sort(key=lambda span: span[0])
        for (_, ends, sid), (starts, _, next_sid) in itertools.pairwise(agent_spans):
            assert starts >= ends, (
                f"agent {agent_id} offered to {next_sid} at {starts} while in a "
                f"round of {sid} until {ends}"
            )
    for (sid, _), legs in rounds.items():
        outcomes = sorted(outcome for outcome, _ in legs)
        if "completed" in outcomes or (sid in answered and "canceled" in outcomes):
            # Answered: the others canceled at once; the answerer's leg completed
            # by the terminal event, or still pending (the call goes on).
            assert sid in answered
            assert outcomes[:-1] == ["canceled"] * (len(legs) - 1), (sid, legs)
            assert outcomes[-1] in ("completed", "pending"), (sid, legs)
        elif outcomes != ["pending"] * len(legs):
            # Closed by a follow-up: the whole round at once, each a no-answer.
            assert outcomes == ["no-answer"] * len(legs), (sid, legs)
            assert len({moment for _, moment in legs}) == 1, (sid, legs)
    assert answered, "no call was ever answered"
    assert any(
        outcome == "no-answer" for legs in rounds.values() for outcome, _ in legs
    ), "no round was ever closed by a follow-up"


def test_parallel_rounds_on_two_servers_never_share_an_agent(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the test database is not PostgreSQL (set DATABASE_URL)")
    groups = tmp_path / "groups.csv"
    groups.write_text(
        ",".join((*GROUP_COLUMNS, "parallel_ringing"))
        + f"\nrounds,Rounds,sequential,{BATCH},30,0,0,300,0,0,,,*,,Asia/Kolkata,,yes\n"
    )
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "name,phone,groups,status,active,timezone,hours\n"
        + "".join(f"Agent {n},{phone},rounds,,,,\n" for n, phone in enumerate(PHONES))
    )
    call_command("import_groups", groups, verbosity=0)
    call_command("import_agents", agents, verbosity=0)
    test_database = connection.settings_dict["NAME"]
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    servers = _start_servers(
        _server_env(
            DATABASE_URL=url._replace(path=f"/{test_database}").geturl(),
            DJANGO_CONN_MAX_AGE="0",
        ),
        tmp_path,
    )
    try:
        replies, statuses, answered = _play_exotel([base for _, base, _ in servers])
    finally:
        _stop_servers(servers)
    with connection.cursor() as cursor:
        cursor.execute(ATTEMPTS_SQL)
        rows = cursor.fetchall()
    _check(replies, statuses, answered, rows)
