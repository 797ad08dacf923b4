"""deploy/pgbouncer/pgbouncer.ini in a real PgBouncer (transaction pooling) in front
of the suite's PostgreSQL, and Exotel's calls through it to a real gunicorn with
DIALWHOM_DB_TRANSACTION_POOLING on: first requests, follow-ups, passthrus, a burst."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.deploy.kit import (
    DEPLOY,
    REPO,
    moved,
    require,
    scratch_directory,
    stop,
    wait_until,
)
from tests.deploy.postgres import scratch_database, suite_server
from tests.servers import free_port, load_roster, start_gunicorn
from tests.test_settings import load_settings

INI = DEPLOY / "pgbouncer" / "pgbouncer.ini"
TOKEN = "3b8f0c6e2a4d4e1f9a7c5b3d1e0f2a4c6e8b0d2f"
GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    "sales,Sales,sequential,1,30,0,30,300,0,0,,,08047190001,,,\n"
    "burst,Burst,round-robin,1,30,0,30,300,0,0,,,,,,\n"
)
BURST_AGENTS = {"+919900000011", "+919900000012", "+919900000013"}
AGENTS_CSV = (
    "name,phone,groups,status,active,timezone,hours\n"
    "Asha,+919900000001,sales,available,yes,,\n"
    "Vikram,+919900000002,sales,available,yes,,\n"
    "Priya,+919900000003,sales,available,yes,,\n"
    "Meera,+919900000011,burst,available,yes,,\n"
    "Arjun,+919900000012,burst,available,yes,,\n"
    "Sanjay,+919900000013,burst,available,yes,,\n"
)


def render(ini: str, *, root, database: dict, name: str, port: int) -> str:
    """Return the shipped file pointed at the suite's server and this test's files."""
    host = database["HOST"] or "127.0.0.1"
    replacements = [
        (
            "host=127.0.0.1 port=5432 dbname=dialwhom",
            f"host={host} port={database['PORT'] or 5432} dbname={name}",
        ),
        ("listen_port = 6432", f"listen_port = {port}"),
        ("unix_socket_dir = /var/run/postgresql", f"unix_socket_dir = {root}"),
        # The suite's throwaway cluster trusts local connections.
        ("auth_type = scram-sha-256", "auth_type = trust"),
        ("/etc/pgbouncer/userlist.txt", f"{root}/userlist.txt"),
        ("/var/log/postgresql/pgbouncer.log", f"{root}/pgbouncer.log"),
        ("/var/run/postgresql/pgbouncer.pid", f"{root}/pgbouncer.pid"),
    ]
    return moved(ini, replacements, INI)


@pytest.fixture(scope="module")
def pooled():
    database = suite_server()
    pgbouncer = require("pgbouncer", "pgbouncer")
    with scratch_database("kit_pgbouncer") as (name, _):
        yield from _pooled(database, pgbouncer, name)


def _pooled(database, pgbouncer, name):
    root = scratch_directory("dialwhom-pgbouncer-")
    port = free_port()
    (root / "userlist.txt").write_text(f'"{database["USER"]}" ""\n')
    (root / "pgbouncer.ini").write_text(
        render(INI.read_text(), root=root, database=database, name=name, port=port)
    )
    # PgBouncer refuses to run as root.
    as_owner = []
    if os.geteuid() == 0:
        as_owner = ["runuser", "-u", "postgres", "--"]
        for path in [root, *root.iterdir()]:
            shutil.chown(path, "postgres")
    bouncer = subprocess.Popen(
        [*as_owner, pgbouncer, str(root / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DATABASE_URL": f"postgres://{database['USER']}@127.0.0.1:{port}/dialwhom",
        "DIALWHOM_DB_TRANSACTION_POOLING": "yes",
        "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
        "DIALWHOM_LAST_KNOWN_DIR": str(root / "last-known"),
        "DIALWHOM_SPOOL_DIR": str(root / "spool"),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = None
    try:
        wait_until(lambda: _listening(port), bouncer, root / "pgbouncer.log")
        (root / "groups.csv").write_text(GROUPS_CSV)
        (root / "agents.csv").write_text(AGENTS_CSV)
        load_roster(env, root / "groups.csv", root / "agents.csv")
        log = root / "gunicorn.log"
        gunicorn, web = start_gunicorn(env, log, "--workers", "2")
        wait_until(lambda: _get(web, "/healthz")[0] == 200, gunicorn, log)
        yield {"web": web, "env": env, "root": root, "port": port, "user": database}
    finally:
        if gunicorn:
            stop(gunicorn)
        stop(bouncer)
        shutil.rmtree(root, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def dial_whom(pooled, path="dial-whom/", **params) -> str:
    query = urllib.parse.urlencode(params)
    status, body = _get(pooled["web"], f"/exotel/{TOKEN}/{path}?{query}")
    assert status == 200, body
    return body


@pytest.mark.postgres
def test_a_call_through_pgbouncer(pooled):
    first = dial_whom(pooled, CallSid="bouncer-1", From="09812345678", To="08047190001")
    assert first == "+919900000001"
    # Asked again (the Fallback URL): the same answer, nothing new claimed.
    assert dial_whom(pooled, CallSid="bouncer-1") == first
    second = dial_whom(
        pooled, CallSid="bouncer-1", DialWhomNumber=first, DialCallStatus="no-answer"
    )
    assert second == "+919900000002"
    passthru = dial_whom(
        pooled,
        "passthru/",
        CallSid="bouncer-1",
        DialWhomNumber=second,
        DialCallStatus="completed",
        DialCallDuration="60",
    )
    assert passthru == ""
    # The pinned URL: Vikram is in wrap-up, Asha is free again.
    assert dial_whom(pooled, "dial-whom/sales/", CallSid="bouncer-2") == first


@pytest.mark.postgres
def test_a_burst_of_calls_never_double_books(pooled):
    sids = [f"burst-{n}" for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda sid: dial_whom(pooled, "dial-whom/burst/", CallSid=sid), sids
            )
        )

    offered = sorted(answer for answer in answers if answer)
    # Three agents, eight calls at once: each agent to one call, five calls empty.
    assert offered == sorted(BURST_AGENTS)


@pytest.mark.postgres
def test_the_statement_timeout_holds_through_pgbouncer(pooled):
    user = pooled["user"]["USER"]
    with psycopg.connect(
        host="127.0.0.1", port=pooled["port"], user=user, dbname="dialwhom"
    ) as connection:
        (timeout,) = connection.execute("SHOW statement_timeout").fetchone()
    assert timeout == "3s"


@pytest.mark.postgres
def test_without_the_pooling_setting_pgbouncer_refuses_django(pooled):
    env = {**pooled["env"], "DIALWHOM_DB_TRANSACTION_POOLING": "no"}

    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "unsupported startup parameter" in result.stderr


def test_the_pooling_setting_keeps_nothing_on_a_server_connection(monkeypatch):
    settings = load_settings(
        monkeypatch,
        DATABASE_URL="postgres://dialwhom@127.0.0.1:6432/dialwhom",
        DIALWHOM_DB_TRANSACTION_POOLING="yes",
    )

    database = settings.DATABASES["default"]
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"]["server_side_binding"] is False
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert "options" not in database["OPTIONS"]
