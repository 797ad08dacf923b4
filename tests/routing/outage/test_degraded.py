"""Database outages, for real: gunicorn against a throwaway PostgreSQL that we
stop, freeze and point away from, then bring back without restarting gunicorn.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.routing.clusters import cluster_with_roster, free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
TOKEN = "outage-token-0123456789"
AGENTS = ["+919900000001", "+919900000002", "+919900000003"]
FALLBACK = "+918000000009"
GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    f"support,Support,sequential,1,30,0,30,0,0,0,,{FALLBACK},*,,,\n"
    "sales,Sales,sequential,1,30,0,30,300,0,0,,,08069891522,2,,\n"
)
AGENTS_CSV = "name,phone,groups,status,active,timezone,hours\n" + "".join(
    f"Agent {n},{phone},support,available,yes,,\n" for n, phone in enumerate(AGENTS)
)
# Exotel waits 10 s; we promise an answer within one.
PROMISE = 1.0

pytestmark = pytest.mark.postgres


class Server:
    """gunicorn with the project's configuration file, one sync worker."""

    def __init__(self, *, database_url: str, last_known: Path, log: Path):
        self.port = free_port()
        self.log = log
        environ = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
            "DIALWHOM_LAST_KNOWN_DIR": str(last_known),
            "DIALWHOM_SPOOL_DIR": str(last_known.parent / "spool"),
            "DIALWHOM_LAST_KNOWN_REFRESH_SECONDS": "0",
            "DJANGO_LOG_FORMAT": "json",
            "DIALWHOM_BIND": f"127.0.0.1:{self.port}",
            "DIALWHOM_WORKERS": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "dialwhom_project.wsgi"],
            cwd=REPO_ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        # The port opens before the worker has loaded Django: wait for an answer.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self.get("/healthz")
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")

    def get(self, path: str) -> tuple[int, str, float]:
        """Return status, body and seconds taken."""
        started = time.monotonic()
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}{path}", timeout=15
            ) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        return status, body, time.monotonic() - started

    def dial_whom(self, sid: str, group: str | None = None, **params: str):
        query = urllib.parse.urlencode({"CallSid": sid, **params})
        slug = f"{group}/" if group else ""
        return self.get(f"/exotel/{TOKEN}/dial-whom/{slug}?{query}")

    def log_lines(self) -> list[dict]:
        lines = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from cluster_with_roster(tmp_path_factory, GROUPS_CSV, AGENTS_CSV)


@pytest.fixture
def last_known(tmp_path):
    return tmp_path / "last-known"


@pytest.fixture
def server(cluster, last_known, tmp_path):
    server = Server(
        database_url=cluster.url, last_known=last_known, log=tmp_path / "gunicorn.log"
    )
    yield server
    server.stop()
    cluster.signal(signal.SIGCONT)
    if not (cluster.data / "postmaster.pid").exists():
        cluster.start()


def whole_list() -> str:
    return ",".join([*AGENTS, FALLBACK])


def assert_routes_normally(server, sid):
    wait_for_routing(server)
    status, body, _ = server.dial_whom(sid, "support")
    assert status == 200
    assert body == AGENTS[0]  # batch 1, hold 0: the first agent, not the whole list
    status, body, _ = server.get("/healthz")
    assert (status, body) == (200, "ok")


def wait_for_routing(server) -> float:
    """Return how long the server took to route again; fail past the promise.

    The breaker remembers an outage: the first requests after it are answered
    from the last-known list until the background probe finds the server back.
    """
    started = time.monotonic()
    while server.get("/healthz")[0] != 200:
        assert time.monotonic() - started < PROMISE, "routing did not come back"
        time.sleep(0.02)
    return time.monotonic() - started


def test_database_stopped_answers_last_known_list_then_recovers(cluster, server):
    assert_routes_normally(server, "before-pinned")
    status, body, _ = server.dial_whom("before-unpinned", CallTo="08069891523")
    assert (status, body) == (200, AGENTS[0])

    cluster.stop()

    status, body, seconds = server.dial_whom("during-pinned", "support")
    assert (status, body) == (200, whole_list())
    assert seconds < PROMISE
    # Unpinned: the default route (`*`) as last known.
    status, body, seconds = server.dial_whom("during-unpinned", CallTo="08069891523")
    assert (status, body) == (200, whole_list())
    assert seconds < PROMISE
    status, body, seconds = server.get("/healthz")
    assert status == 503 and seconds < PROMISE
    status, _, seconds = server.get(f"/exotel/{TOKEN}/passthru/?CallSid=during-pinned")
    assert status == 200 and seconds < PROMISE
    degraded = [line for line in server.log_lines() if line.get("degraded")]
    assert {line["call_sid"] for line in degraded} >= {
        "during-pinned",
        "during-unpinned",
    }
    assert {line["level"] for line in degraded} == {"ERROR"}
    assert all(line["numbers"] == whole_list().split(",") for line in degraded[:2])

    cluster.start()

    assert_routes_normally(server, "after")


def test_group_never_seen_answers_503_fast(cluster, server):
    cluster.stop()

    status, _, seconds = server.dial_whom("unseen", "sales")

    assert status == 503  # Exotel then asks the Fallback URL
    assert seconds < PROMISE


def test_frozen_database_answers_within_a_second_then_recovers(cluster, server):
    assert_routes_normally(server, "before-freeze")  # a persistent connection

    cluster.signal(signal.SIGSTOP)
    try:
        for sid in ("frozen-1", "frozen-2"):  # a cut connection, then a new one
            status, body, seconds = server.dial_whom(sid, "support")
            assert (status, body) == (200, whole_list())
            assert seconds < PROMISE
        status, _, seconds = server.get("/healthz")
        assert status == 503 and seconds < PROMISE
    finally:
        cluster.signal(signal.SIGCONT)

    assert_routes_normally(server, "after-thaw")


@pytest.fixture
def tarpit():
    """A port that accepts connections and never says a word (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for sock in accepted:
        sock.close()


@pytest.mark.parametrize("kind", ["closed-port", "tarpit"])
def test_unreachable_database_answers_from_last_known_files(
    kind, cluster, server, last_known, tarpit, tmp_path
):
    assert_routes_normally(server, f"prime-{kind}")  # writes the last-known files
    port = free_port() if kind == "closed-port" else tarpit
    elsewhere = Server(
        database_url=f"postgres://postgres@127.0.0.1:{port}/dialwhom",
        last_known=last_known,
        log=tmp_path / "elsewhere.log",
    )
    try:
        status, body, seconds = elsewhere.dial_whom(f"away-{kind}", "support")
        assert (status, body) == (200, whole_list())
        assert seconds < PROMISE
        status, _, seconds = elsewhere.get("/healthz")
        assert status == 503 and seconds < PROMISE
    finally:
        elsewhere.stop()
