"""Outages under traffic, for real: gunicorn on a PostgreSQL cluster of the
module's own that is frozen (SIGSTOP) or restarted while calls keep arriving.

Sized for CI (seconds); `DIALWHOM_FREEZE_SECONDS`, `DIALWHOM_LOAD_RATE` and
`DIALWHOM_LOAD_WORKERS` make the longer runs of docs/operations.md.
"""

import contextlib
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.routing.clusters import Cluster, cluster_with_roster
from tests.servers import start_gunicorn

pytestmark = pytest.mark.postgres

TOKEN = "load-token-0123456789"
AGENTS = [f"+9199000001{n:02d}" for n in range(8)]
GROUPS_CSV = (
    "slug,name,strategy,batch_size,ring_seconds,max_attempts,wrapup_seconds,"
    "hold_seconds,sticky_days,missed_to_pause,overflow,fallback_numbers,exophones,"
    "digits,timezone,hours\n"
    "support,Support,sequential,1,30,0,0,30,0,0,,+918000000009,*,,,\n"
)
AGENTS_CSV = "name,phone,groups,status,active,timezone,hours\n" + "".join(
    f"Agent {n},{phone},support,available,yes,,\n" for n, phone in enumerate(AGENTS)
)
FREEZE_SECONDS = float(os.environ.get("DIALWHOM_FREEZE_SECONDS", "3"))
RATE = float(os.environ.get("DIALWHOM_LOAD_RATE", "15"))
WORKERS = os.environ.get("DIALWHOM_LOAD_WORKERS", "2")
IN_SERVER_PROMISE = 1.0  # seconds, every request, inside the server
CLIENT_P99_PROMISE = 1.5
CLIENT_MAX_PROMISE = 2.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from cluster_with_roster(tmp_path_factory, GROUPS_CSV, AGENTS_CSV)


class Server:
    def __init__(self, cluster: Cluster, root: Path):
        self.root = root
        self.spool = root / "spool"
        self.log = root / "gunicorn.log"
        env = {
            **os.environ,
            "DATABASE_URL": cluster.url,
            "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
            "DIALWHOM_LAST_KNOWN_DIR": str(root / "last-known"),
            "DIALWHOM_LAST_KNOWN_REFRESH_SECONDS": "0",
            "DIALWHOM_SPOOL_DIR": str(self.spool),
            "DIALWHOM_SPOOL_REPLAY_SECONDS": "0.5",
            "DJANGO_LOG_FORMAT": "json",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process, self.port = start_gunicorn(
            env, self.log, "--workers", WORKERS, "--backlog", "256"
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if self.get("/healthz")[0] == 200:
                    break
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def webhook(self, endpoint: str, sid: str, **params: str) -> tuple[int, str]:
        query = urllib.parse.urlencode({"CallSid": sid, **params})
        return self.get(f"/exotel/{TOKEN}/{endpoint}?{query}")

    def request_lines(self) -> list[dict]:
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("logger") == "routing.requests":
                    lines.append(entry)
        return lines

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(cluster, tmp_path):
    server = Server(cluster, tmp_path)
    yield server
    server.stop()
    cluster.signal(signal.SIGCONT)
    if not (cluster.data / "postmaster.pid").exists():
        cluster.start()


def wait_for_routing(server: Server, limit: float) -> float:
    started = time.monotonic()
    while server.get("/healthz")[0] != 200:
        assert time.monotonic() - started < limit, "routing did not come back"
        time.sleep(0.01)
    return time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_freeze_under_load_every_call_is_answered_in_time(cluster, server):
    """New calls at RATE/s; the database freezes for FREEZE_SECONDS mid-way."""
    before, after = 1.0, 1.5
    duration = before + FREEZE_SECONDS + after
    count = int(duration * RATE)
    started = time.monotonic()
    results: list[tuple[float, int, float]] = []  # (due, status, client seconds)
    lock = threading.Lock()

    def call(n: int) -> None:
        due = started + n / RATE
        time.sleep(max(0.0, due - time.monotonic()))
        status, _ = server.webhook("dial-whom/support/", f"load-{n:05d}")
        with lock:
            results.append((due - started, status, time.monotonic() - due))

    def freeze() -> None:
        time.sleep(max(0.0, started + before - time.monotonic()))
        cluster.signal(signal.SIGSTOP)
        time.sleep(FREEZE_SECONDS)
        cluster.signal(signal.SIGCONT)

    freezer = threading.Thread(target=freeze)
    freezer.start()
    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(call, range(count)))
    freezer.join()
    wait_for_routing(server, limit=IN_SERVER_PROMISE)

    statuses = [status for _, status, _ in results]
    client = [seconds for _, _, seconds in results]
    in_server = [line["ms"] / 1000 for line in server.request_lines()]
    degraded = sum(1 for line in server.request_lines() if line["degraded"])
    summary = (
        f"{count} calls, {degraded} degraded, client p50 "
        f"{percentile(client, 0.5):.3f} p99 {percentile(client, 0.99):.3f} "
        f"max {max(client):.3f} s, in server max {max(in_server):.3f} s"
    )
    degraded_ms = [line["ms"] for line in server.request_lines() if line["degraded"]]
    print(
        f"{summary}; degraded in server p50 {percentile(degraded_ms, 0.5):.1f} ms",
        f"p90 {percentile(degraded_ms, 0.9):.1f} ms",
    )
    assert statuses == [200] * count, summary
    assert degraded > 0, summary  # the freeze was seen
    assert max(in_server) < IN_SERVER_PROMISE, summary
    assert percentile(client, 0.99) < CLIENT_P99_PROMISE, summary
    assert max(client) < CLIENT_MAX_PROMISE, summary


def test_restart_and_killed_worker_lose_no_outcome(cluster, server):
    """Outcomes that arrive while PostgreSQL restarts are all applied after it."""
    with psycopg.connect(cluster.url) as database:  # free what earlier tests held
        database.execute("UPDATE agents_agent SET engaged_until = NULL")
    sids = [f"restart-{n}" for n in range(4)]
    offered = {}
    for sid in sids:
        status, body = server.webhook("dial-whom/support/", sid)
        assert status == 200 and body in AGENTS
        offered[sid] = body
    cluster.stop("fast")  # a restart: what was committed stays committed
    # Two calls end (Passthru), two report an unanswered attempt (Dial Whom).
    for sid in sids[:2]:
        assert (
            server.webhook(
                "passthru/",
                sid,
                DialWhomNumber=offered[sid],
                DialCallStatus="completed",
            )[0]
            == 200
        )
    for sid in sids[2:]:
        status, body = server.webhook(
            "dial-whom/support/",
            sid,
            DialWhomNumber=offered[sid],
            DialCallStatus="no-answer",
        )
        assert status == 200 and body  # the last-known list
    kept = sorted(server.spool.glob("*.jsonl"))
    assert sum(path.read_text().count("\n") for path in kept) == len(sids)
    spooled = sorted(server.spool.glob("spool-*.jsonl"))
    # A worker that kept some of them dies (the OOM killer, say).
    victim = int(spooled[0].name.split("-")[-2])
    assert victim in server.worker_pids()
    os.kill(victim, signal.SIGKILL)

    cluster.start()
    back = wait_for_routing(server, limit=IN_SERVER_PROMISE)

    deadline = time.monotonic() + 10
    with psycopg.connect(cluster.url) as database:
        while True:
            replayed = database.execute(
                "SELECT call_sid, notes FROM routing_webhookrequest"
                " WHERE degraded AND call_sid LIKE 'restart-%%'"
            ).fetchall()
            files = list(server.spool.glob("*.jsonl"))
            if len(replayed) == len(sids) and not files:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        outcomes = dict(
            database.execute(
                "SELECT c.sid, a.outcome FROM routing_attempt a"
                " JOIN routing_call c ON c.id = a.call_id"
                " WHERE c.sid LIKE 'restart-%%'"
            ).fetchall()
        )
        engaged = database.execute(
            "SELECT count(*) FROM agents_agent WHERE engaged_until > now()"
        ).fetchone()[0]
    print(f"routing back {back:.3f} s after the restart; spool empty {files == []}")
    assert back < IN_SERVER_PROMISE
    assert sorted(sid for sid, _ in replayed) == sids, replayed
    assert outcomes == {
        sids[0]: "completed",
        sids[1]: "completed",
        sids[2]: "no-answer",
        sids[3]: "no-answer",
    }
    assert engaged == 0  # every agent these calls held is free again
    assert files == []  # each file deleted once all its records are in
