"""Two gunicorn servers, one database: no agent is ever booked onto two calls.

Each server is a real gunicorn with two worker processes; threads play Exotel,
sending a burst of first requests for more calls than the group has agents, then
waves of no-answer follow-ups mixed with more first requests. The attempt log is
then checked for the promises of DESIGN section 5, whichever process kept them.
"""

import datetime as dt
import itertools
import os
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from routing.models import Attempt, Call
from tests.conftest import TOKEN
from tests.servers import load_roster, start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

AGENTS = 6
# DIALWHOM_CROSS_SERVER_BURST=64 for the longer run of docs/operations.md.
FIRST_BURST = int(os.environ.get("DIALWHOM_CROSS_SERVER_BURST", "16"))
LATER_CALLS = 8
DUPLICATED = 4  # first requests also sent, at the same instant, to the other server
ANSWER = re.compile(r"(\+[1-9]\d{7,14}(,\+[1-9]\d{7,14})*)?")

GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    "burst,Burst,sequential,1,30,0,30,300,0,0,,,*,,Asia/Kolkata,\n"
)
AGENTS_CSV = "name,phone,groups,status,active,timezone,hours\n" + "".join(
    f"Agent {n},+9190000000{n:02d},burst,available,yes,Asia/Kolkata,\n"
    for n in range(1, AGENTS + 1)
)


@dataclass(frozen=True)
class Reply:
    sid: str
    status: int
    content_type: str
    body: str

    @property
    def numbers(self) -> list[str]:
        return self.body.split(",") if self.body else []


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def _start_servers(env: dict[str, str], log_dir: Path, count: int = 2) -> list:
    """Start `count` gunicorn servers (2 workers each); skip if none can start."""
    servers = []
    for index in range(count):
        log = log_dir / f"gunicorn-{index}.log"
        process, port = start_gunicorn(
            env, log, "--workers", "2", "--log-level", "warning"
        )
        servers.append((process, f"http://127.0.0.1:{port}", log))
    deadline = time.monotonic() + 30
    for process, base, log in servers:
        while True:
            if process.poll() is not None:
                _stop_servers(servers)
                pytest.skip(f"gunicorn cannot start: {_tail(log)}")
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                _stop_servers(servers)
                pytest.skip(f"gunicorn did not answer in 30 s: {_tail(log)}")
            time.sleep(0.1)
    return servers


def _stop_servers(servers) -> None:
    for process, _, _ in servers:
        process.terminate()
    for process, _, _ in servers:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: str) -> str:
    return Path(path).read_text(errors="replace")[-500:]


def _server_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DIALWHOM_SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dialwhom_project.settings",
        DIALWHOM_WEBHOOK_TOKEN=TOKEN,
        DJANGO_DEBUG="0",
        DJANGO_LOG_LEVEL="WARNING",
        # This test is about coordination, not outages: on a loaded CI machine a
        # request waiting on another's row lock must not be taken for a dead
        # database and answered from the last-known list.
        DIALWHOM_DB_DEADLINE_MS="10000",
        **overrides,
    )
    return env


def _write_roster(directory: Path) -> tuple[Path, Path]:
    groups, agents = directory / "groups.csv", directory / "agents.csv"
    groups.write_text(GROUPS_CSV)
    agents.write_text(AGENTS_CSV)
    return groups, agents


def _play_exotel(bases: list[str]) -> tuple[list[list[Reply]], list[tuple]]:
    """Send the burst and the follow-up waves; return the replies of each wave.

    Also return the pairs of replies to duplicated first requests.
    """

    def dial_whom(base: str, sid: str, **params: str) -> Reply:
        query = urllib.parse.urlencode({"CallSid": sid, **params})
        status, content_type, body = _get(
            f"{base}/exotel/{TOKEN}/dial-whom/burst/?{query}"
        )
        return Reply(sid, status, content_type, body)

    def first(index: int, sid: str):
        return lambda: dial_whom(
            bases[index % 2], sid, CallFrom="09812345678", CallTo="08047190001"
        )

    def no_answer(index: int, reply: Reply):
        # Exotel reports the number in national form, as it does in real traffic.
        national = "0" + reply.numbers[-1].removeprefix("+91")
        return lambda: dial_whom(
            bases[index % 2],
            reply.sid,
            DialWhomNumber=national,
            DialCallStatus="no-answer",
            CallType="incomplete",
        )

    first_sids = [f"burst{n:027d}a" for n in range(FIRST_BURST)]
    later_sids = [f"later{n:027d}b" for n in range(LATER_CALLS)]
    with ThreadPoolExecutor(max_workers=FIRST_BURST + DUPLICATED) as pool:
        tasks = [first(index, sid) for index, sid in enumerate(first_sids)]
        tasks += [first(index + 1, sid) for index, sid in enumerate(first_sids)][
            :DUPLICATED
        ]
        burst = list(pool.map(lambda task: task(), tasks))
        duplicates = list(zip(burst[:DUPLICATED], burst[FIRST_BURST:], strict=True))
        waves = [burst]
        active = [reply for reply in burst[:FIRST_BURST] if reply.numbers]
        tasks = [no_answer(index, reply) for index, reply in enumerate(active)]
        tasks += [first(index, sid) for index, sid in enumerate(later_sids)]
        for _ in range(3 * AGENTS):
            if not tasks:
                break
            wave = list(pool.map(lambda task: task(), tasks))
            waves.append(wave)
            active = [reply for reply in wave if reply.numbers]
            tasks = [no_answer(index, reply) for index, reply in enumerate(active)]
    return waves, duplicates


def _as_aware(value) -> dt.datetime | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


ATTEMPTS_SQL = (
    f"SELECT c.sid, a.agent_id, a.number, a.offered_at, a.hold_until, a.outcome, "
    f"a.outcome_at FROM {Attempt._meta.db_table} a "
    f"JOIN {Call._meta.db_table} c ON c.id = a.call_id"
)


def _check(waves: list[list[Reply]], duplicates: list[tuple], rows: list[tuple]):
    replies = [reply for wave in waves for reply in wave]
    for reply in replies:
        assert reply.status == 200, reply
        assert reply.content_type.startswith("text/plain"), reply
        assert ANSWER.fullmatch(reply.body), reply
    for original, duplicate in duplicates:
        assert original.body == duplicate.body, (original, duplicate)

    phones = {f"+9190000000{n:02d}" for n in range(1, AGENTS + 1)}
    burst = waves[0][:FIRST_BURST]
    offered_in_burst = [reply.numbers for reply in burst if reply.numbers]
    # More calls than agents, all agents free: each agent goes to exactly one call.
    assert sorted(number for numbers in offered_in_burst for number in numbers) == (
        sorted(phones)
    )
    assert all(len(numbers) == 1 for numbers in offered_in_burst)

    logged = {(sid, number) for sid, _, number, *_ in rows}
    assert len(logged) == len(rows), "a call was offered one number twice"
    answered = {(reply.sid, number) for reply in replies for number in reply.numbers}
    assert answered == logged, "the answers and the attempt log disagree"
    assert len(waves) > 2, "the follow-ups never reached a second offer"

    engagements: dict[int, list[tuple]] = {}
    for sid, agent_id, _, offered_at, hold_until, outcome, outcome_at in rows:
        assert agent_id is not None
        ends = _as_aware(outcome_at) if outcome != "pending" else _as_aware(hold_until)
        engagements.setdefault(agent_id, []).append((_as_aware(offered_at), ends, sid))
    assert len(engagements) == AGENTS
    for agent_id, spans in engagements.items():
        spans.sort(key=lambda span: span[0])
        for (_, ends, sid), (starts, _, next_sid) in itertools.pairwise(spans):
            assert ends is not None and starts >= ends, (
                f"agent {agent_id} offered to {next_sid} at {starts} while engaged "
                f"by {sid} until {ends}"
            )


@pytest.fixture
def roster_files(tmp_path):
    return _write_roster(tmp_path)


@pytest.mark.postgres
def test_two_servers_on_postgresql_never_double_book(roster_files, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the test database is not PostgreSQL (set DATABASE_URL)")
    groups_csv, agents_csv = roster_files
    call_command("import_groups", groups_csv, verbosity=0)
    call_command("import_agents", agents_csv, verbosity=0)
    database = connection.settings_dict
    url = "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=urllib.parse.quote(database["USER"] or "", safe=""),
        password=":" + urllib.parse.quote(database["PASSWORD"], safe="")
        if database["PASSWORD"]
        else "",
        host=urllib.parse.quote(database["HOST"] or "localhost", safe=""),
        port=database["PORT"] or 5432,
        name=database["NAME"],
    )
    servers = _start_servers(
        _server_env(DATABASE_URL=url, DJANGO_CONN_MAX_AGE="0"), tmp_path
    )
    try:
        waves, duplicates = _play_exotel([base for _, base, _ in servers])
    finally:
        _stop_servers(servers)
    with connection.cursor() as cursor:
        cursor.execute(ATTEMPTS_SQL)
        rows = cursor.fetchall()
    _check(waves, duplicates, rows)


def test_two_servers_on_one_sqlite_file_never_double_book(roster_files, tmp_path):
    groups_csv, agents_csv = roster_files
    database = tmp_path / "dialwhom.sqlite3"
    env = _server_env(DIALWHOM_SQLITE_PATH=str(database))
    load_roster(env, groups_csv, agents_csv)
    servers = _start_servers(env, tmp_path)
    try:
        waves, duplicates = _play_exotel([base for _, base, _ in servers])
    finally:
        _stop_servers(servers)
    with sqlite3.connect(database) as sqlite:
        rows = sqlite.execute(ATTEMPTS_SQL).fetchall()
    _check(waves, duplicates, rows)
