"""Run the benchmark (see README, "Benchmark"); started by `bench/run`.

The production configuration (gunicorn on PostgreSQL, then on SQLite) serves a
scratch database seeded by bench/seed.py. wrk finds each endpoint's throughput
at saturation; bench/rate.js holds fixed rates and measures latency from each
request's due time. Each phase sends its own CallSids, from a file of paths.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.roster import FOLLOW_UP_GROUP, GROUP_SIZES, MAX_RATE, phone

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
TOKEN = "bench-token-0123456789abcdef"
FIRST = (
    "CallFrom=09901320691&CallTo=08069891522&Direction=incoming"
    "&Created=Wed%2C+31+Jul+2024+16%3A42%3A56&DialCallDuration=0"
    "&StartTime=2024-07-31+16%3A42%3A56&EndTime=1970-01-01+05%3A30%3A00"
    "&CallType=call-attempt&DialWhomNumber=&flow_id=11754&tenant_id=1409"
    "&From=09901320691&To=08069891522&CurrentTime=2024-07-31+16%3A43%3A02"
)
PHASES = [
    "ceiling",
    "floor",
    "first-10",
    "first-1000",
    "connect-10",
    "no-answer",
    "passthru",
]
SQLITE_PHASES = ["first-10", "connect-10", "no-answer", "passthru"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="per phase")
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4, help="PostgreSQL run")
    parser.add_argument("--connections", type=int, default=8, help="wrk")
    parser.add_argument("--rates", default="100,200")
    parser.add_argument("--sqlite-rate", type=int, default=30)
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "settings": vars(args),
    }
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("bench/runner: DATABASE_URL must point at PostgreSQL (bench/run)")
    with scratch_postgres(url) as bench_url:
        results["postgresql"] = run_engine(
            {"DATABASE_URL": bench_url},
            phases=PHASES,
            rates=rates,
            history=args.history,
            workers=args.workers,
            args=args,
        )
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = run_engine(
            {"DIALWHOM_SQLITE_PATH": str(Path(directory) / "bench.sqlite3")},
            phases=SQLITE_PHASES,
            rates=[args.sqlite_rate],
            history=0,
            workers=2,
            args=args,
        )
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    results["targets"] = targets(results, rates[0], args.sqlite_rate)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results, rates, args.sqlite_rate))
    print(f"\nwritten: {RESULTS / 'latest.json'}")


@contextmanager
def scratch_postgres(url: str):
    """Create a database beside the one `url` names; drop it afterwards."""
    name = f"dialwhom_bench_{os.getpid()}"
    parts = urllib.parse.urlsplit(url)
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_engine(database_env, *, phases, rates, history, workers, args) -> dict:
    env = bench_env(database_env)
    seconds = args.seconds
    step(f"migrating and seeding ({', '.join(database_env)})")
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    # Pending calls for every run of the follow-up phases.
    runs = {"sat": run_size(MAX_RATE, seconds)} | {
        f"r{rate}": run_size(rate, seconds) for rate in rates
    }
    pending = [
        (f"{kind}-{run}-", count)
        for kind in ("no-answer", "passthru")
        if kind in phases
        for run, count in runs.items()
    ]
    started = time.monotonic()
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from bench.seed import seed_roster, seed_history, seed_pending_calls\n"
        "ids = seed_roster()\n"
        f"if {history}: seed_history(attempts={history}, group_slug='bench-1000', "
        "agent_ids=ids['bench-1000'])\n"
        f"for prefix, count in {pending!r}: "
        "seed_pending_calls(prefix=prefix, count=count)\n",
    )
    result = {"workers": workers, "seed_seconds": round(time.monotonic() - started)}
    with gunicorn(env, workers) as (base, log):
        step("warming up")
        saturate(base, "first-10", "warm", 2, args.connections)
        for phase in phases:
            settle(base)
            step(f"{phase}: saturation ({seconds:g} s)")
            figures = {
                "saturation": saturate(base, phase, "sat", seconds, args.connections)
            }
            for rate in rates:
                settle(base)
                step(f"{phase}: {rate} req/s ({seconds:g} s)")
                figures[f"at_{rate}"] = hold_rate(
                    base, phase, f"r{rate}", rate, seconds
                )
            result[phase] = figures
    # Answers from the last-known list (DIALWHOM_DB_DEADLINE_MS ran out) ignore
    # engagements: each is a possible double booking, so the run counts them.
    result["degraded_answers"] = (
        Path(log).read_text(errors="replace").count("degraded=True")
    )
    return result


def settle(base: str) -> None:
    """Wait until the server has drained the previous phase's queue."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = time.monotonic()
        urllib.request.urlopen(f"{base}/healthz", timeout=60).read()
        if time.monotonic() - started < 0.05:
            return
        time.sleep(0.5)


def bench_env(database_env: dict) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DIALWHOM_SQLITE_PATH"}
    }
    env.update(
        database_env,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DIALWHOM_WEBHOOK_TOKEN=TOKEN,
        DJANGO_DEBUG="0",
        DIALWHOM_LAST_KNOWN_DIR=str(RESULTS / "last-known"),
    )
    return env


def manage(env: dict, *command: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=PROJECT, env=env, check=True
    )


@contextmanager
def gunicorn(env: dict, workers: int):
    """Serve the project with gunicorn on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (RESULTS / f"gunicorn-{port}.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dialwhom_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--backlog",
            "2048",
        ],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                sys.exit(f"bench: gunicorn stopped; see {log.name}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield base, log.name
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def paths_file(phase: str, run: str, count: int) -> Path:
    """Write the request paths of one run: a new CallSid on every line."""
    webhooks = f"/exotel/{TOKEN}"
    if phase in {"ceiling", "floor"}:
        lines = [f"/bench/{phase}/?CallSid={phase}-{run}-{n}" for n in range(count)]
    elif phase.startswith(("first-", "connect-")):
        # The same first request to Dial Whom or to Programmable Connect's JSON.
        kind, size = phase.split("-")
        endpoint = "dial-whom" if kind == "first" else "connect"
        lines = [
            f"{webhooks}/{endpoint}/bench-{size}/?CallSid={phase}-{run}-{n}-"
            f"{os.getpid()}"
            f"&{FIRST}"
            for n in range(count)
        ]
    else:
        group_index = list(GROUP_SIZES).index(FOLLOW_UP_GROUP)
        size = GROUP_SIZES[FOLLOW_UP_GROUP]
        endpoint, status, kind = (
            ("passthru/", "completed", "completed")
            if phase == "passthru"
            else (f"dial-whom/{FOLLOW_UP_GROUP}/", "no-answer", "incomplete")
        )
        lines = [
            f"{webhooks}/{endpoint}?CallSid={phase}-{run}-{n}"
            f"&DialCallStatus={status}&CallType={kind}&DialCallDuration=0"
            # Exotel reports the number in national form.
            f"&DialWhomNumber=0{phone(group_index, n % size).removeprefix('+91')}"
            "&From=09901320691&To=08069891522&ForwardedFrom=null"
            for n in range(count)
        ]
    path = RESULTS / f"paths-{phase}-{run}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_size(rate: int, seconds: float) -> int:
    """Return how many CallSids a run at `rate` for `seconds` may need."""
    return int(rate * seconds) + 50


def saturate(base: str, phase: str, run: str, seconds: float, connections: int) -> dict:
    """Drive `phase` with wrk as fast as the server answers."""
    paths = paths_file(phase, run, run_size(MAX_RATE, seconds))
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(PROJECT / "bench" / "wrk.lua"),
            base,
            "--",
            str(paths),
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(re.search(r"WRK_JSON (.*)", output).group(1))
    return {
        "requests_per_second": round(
            figures["requests"] / (figures["duration_us"] / 1e6), 1
        ),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "errors": figures["errors"] + figures["non_2xx"],
        "reused_sids": figures["wrapped"] if phase not in {"ceiling", "floor"} else 0,
    }


def hold_rate(base: str, phase: str, run: str, rate: int, seconds: float) -> dict:
    """Send `phase` at a held `rate` with bench/rate.js; latency from due time."""
    paths = paths_file(phase, run, run_size(rate, seconds))
    output = subprocess.run(
        [
            "node",
            str(PROJECT / "bench" / "rate.js"),
            base,
            str(paths),
            str(rate),
            f"{seconds:g}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def targets(results: dict, rate: int, sqlite_rate: int) -> dict:
    """Check the figures against issue 4's targets (no figure: missed)."""
    pg = results["postgresql"]

    def p(phase: str, at: str, key: str, engine: dict = pg) -> float:
        value = engine[phase][at][key]
        return float("inf") if value is None else value

    first = pg["first-10"]["saturation"]["requests_per_second"]
    return {
        "first >= 25% of ceiling": first
        >= 0.25 * pg["ceiling"]["saturation"]["requests_per_second"],
        "first >= 60% of floor": first
        >= 0.60 * pg["floor"]["saturation"]["requests_per_second"],
        f"p99 <= 20 ms at {rate} req/s (first, no-answer, passthru)": all(
            p(phase, f"at_{rate}", "p99_ms") <= 20
            for phase in ("first-10", "first-1000", "no-answer", "passthru")
        ),
        f"1,000-agent p50 <= 1.5x 10-agent p50 at {rate} req/s": p(
            "first-1000", f"at_{rate}", "p50_ms"
        )
        <= 1.5 * p("first-10", f"at_{rate}", "p50_ms"),
        "connect-10 (JSON) >= 90% of first-10 (text)": pg["connect-10"]["saturation"][
            "requests_per_second"
        ]
        >= 0.9 * first,
        f"SQLite p99 <= 50 ms at {sqlite_rate} req/s": all(
            p(phase, f"at_{sqlite_rate}", "p99_ms", results["sqlite"]) <= 50
            for phase in SQLITE_PHASES
        ),
    }


def table(results: dict, rates: list[int], sqlite_rate: int) -> str:
    pg = results["postgresql"]
    ceiling = pg["ceiling"]["saturation"]["requests_per_second"]
    floor = pg["floor"]["saturation"]["requests_per_second"]
    header = ["endpoint", "req/s (sat.)", "% ceiling", "% floor"]
    for rate in rates:
        header += [f"p50 @{rate}", f"p99 @{rate}"]
    header.append("errors")
    rows = [header]
    for phase in PHASES:
        figures = pg[phase]
        rps = figures["saturation"]["requests_per_second"]
        row = [phase, f"{rps:.0f}", f"{rps / ceiling:.0%}", f"{rps / floor:.0%}"]
        errors = figures["saturation"]["errors"]
        for rate in rates:
            held = figures[f"at_{rate}"]
            row += [_ms(held["p50_ms"]), _ms(held["p99_ms"])]
            errors += held["errors"] + held["invalid"]
        rows.append([*row, str(errors)])
    lines = [
        f"PostgreSQL, gunicorn {pg['workers']} workers "
        f"({pg['degraded_answers']} degraded answers)"
    ]
    lines += _format(rows)
    rows = [["endpoint", "req/s (sat.)", f"p50 @{sqlite_rate}", f"p99 @{sqlite_rate}"]]
    for phase in SQLITE_PHASES:
        figures = results["sqlite"][phase]
        held = figures[f"at_{sqlite_rate}"]
        rows.append(
            [
                phase,
                f"{figures['saturation']['requests_per_second']:.0f}",
                _ms(held["p50_ms"]),
                _ms(held["p99_ms"]),
            ]
        )
    lines += ["", "SQLite, gunicorn 2 workers", *_format(rows), "", "targets"]
    lines += [
        f"  {'met   ' if met else 'MISSED'} {name}"
        for name, met in results["targets"].items()
    ]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "failed" if value is None else f"{value:.1f} ms"


def _format(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def step(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    if not shutil.which("wrk") or not shutil.which("node"):
        sys.exit("bench: needs wrk and node (bench/run installs them)")
    main()
