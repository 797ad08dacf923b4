"""Where one first request's time goes, in one process (run by bench/runner.py).

Against the seeded benchmark database, through Django's test client on one
persistent connection, after a warm-up that prepares the statements: the
request's wall time, the time inside each SQL statement (Django's
`execute_wrapper`: client, round trip and server), the round trips on the wire
(libpq's trace: one per Sync or simple Query the client sends, which counts
BEGIN, COMMIT and the health check too), and a cProfile of the whole request.
"""

import cProfile
import io
import os
import pstats
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.test import Client

WARM_UP = 20


class StatementTimer:
    """Time every statement run through Django's cursors, by its leading text."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.times[_label(sql)].append((time.perf_counter() - started) * 1000)


def _label(sql: str) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    if "agents_membership m JOIN" in text:
        return "candidates" + (" (follow-up)" if "routing_attempt x" in text else "")
    return text[:70]


def profile_first_requests(*, path_of, requests: int, out: Path) -> dict:
    """Profile `requests` first requests; `path_of(sid)` gives each one's path."""
    client = Client(HTTP_HOST="localhost")
    for n in range(WARM_UP):
        client.get(path_of(f"profile-warm-{n}"))
    walls, timer = [], StatementTimer()
    with connection.execute_wrapper(timer):
        for n in range(requests):
            started = time.perf_counter()
            response = client.get(path_of(f"profile-timed-{n}"))
            walls.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
    trips = round_trips(client, path_of)
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(requests):
        client.get(path_of(f"profile-cprofile-{n}"))
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    statements = {
        label: {"per_request": len(times) / requests, "mean_ms": statistics.mean(times)}
        for label, times in timer.times.items()
    }
    summary = {
        "requests": requests,
        "wall_p50_ms": statistics.median(walls),
        "wall_mean_ms": statistics.mean(walls),
        "sql_ms_per_request": sum(sum(t) for t in timer.times.values()) / requests,
        "statements_per_request": sum(len(t) for t in timer.times.values()) / requests,
        "round_trips_per_request": trips,
        "statements": statements,
    }
    lines = [f"{key}: {value}" for key, value in summary.items() if key != "statements"]
    lines += [
        f"  {info['per_request']:.1f} x {info['mean_ms']:.2f} ms  {label}"
        for label, info in sorted(statements.items(), key=lambda i: -i[1]["mean_ms"])
    ]
    out.write_text("\n".join(lines) + "\n\n" + text.getvalue())
    return summary


@contextmanager
def client_messages(wrapper=connection) -> Iterator[list[list[str]]]:
    """Collect the messages the client sends on `wrapper`'s PostgreSQL connection.

    From libpq's trace, each message as its tab-separated fields (type, length,
    name, contents), in the yielded list once the block is done.
    """
    from psycopg import pq

    wrapper.ensure_connection()
    pgconn = wrapper.connection.pgconn
    sent: list[list[str]] = []
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield sent
        finally:
            pgconn.untrace()
        trace.seek(0)
        for line in trace.read().splitlines():
            fields = line.split("\t")
            if fields[0] == "F":
                sent.append(fields)


@contextmanager
def counting_round_trips(wrapper=connection) -> Iterator[list[int]]:
    """Count the round trips on `wrapper`'s PostgreSQL connection in the block.

    The client waits for the server after each Sync (extended protocol) or Query
    (simple protocol, e.g. psycopg's BEGIN and COMMIT) it sends. The count is in
    the yielded list once the block is done.
    """
    count = []
    with client_messages(wrapper) as sent:
        yield count
    count.append(sum(1 for fields in sent if fields[2:3] in (["Sync"], ["Query"])))


def round_trips(client: Client, path_of) -> int | None:
    """Count the round trips of one first request."""
    if connection.vendor != "postgresql":
        return None
    with counting_round_trips() as count:
        client.get(path_of("profile-trips"))
    return count[0]


if __name__ == "__main__":
    raise SystemExit(f"run through bench/runner.py, not {os.path.basename(__file__)}")
