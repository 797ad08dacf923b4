"""Run the benchmark of issue 9 (docs/benchmark.md); started by `bench/run`.

The production configuration (gunicorn on PostgreSQL, then on SQLite) serves a
scratch database seeded by bench/seed.py. wrk finds each phase's throughput at
saturation; bench/rate.js holds fixed rates and measures latency from each
request's due time. Each phase sends its own CallSids, from a file of paths.
Everything is compared within this one run: ratios to the floor view, p50s to
each other.
"""

import argparse
import datetime as dt
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

from bench.roster import FOLLOW_UP_GROUP, GROUP_SIZES, KNOWN_CALLER, MAX_RATE, phone

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
# Saturation only for `call` (two requests a call, paired on one connection);
# every other phase also at each held rate.
PHASES = [
    "ceiling",
    "floor",
    "first-10",
    "first-1000",
    "needs-10",
    "needs-1000",
    "connect-10",
    "call",
    "no-answer",
    "passthru",
]
SQLITE_PHASES = ["first-10", "connect-10", "no-answer", "passthru"]
QUICK = {"seconds": 3, "history": 20_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="per phase and rate")
    parser.add_argument(
        "--history", type=int, default=1_000_000, help="past attempts, 1,000 agents"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a quick look: {QUICK['seconds']} s per phase, "
        f"{QUICK['history']:,} past attempts",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8, help="wrk")
    parser.add_argument("--rates", default="100", help="held rates, req/s")
    parser.add_argument("--sqlite-rate", type=int, default=30)
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--plan-cache-mode",
        choices=["auto", "force_generic_plan", "force_custom_plan"],
        help="PostgreSQL's plan_cache_mode for the scratch database (default: as is)",
    )
    parser.add_argument(
        "--py-spy",
        metavar="PY_SPY",
        help="a py-spy binary: sample gunicorn during the first-10 saturation",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=200,
        help="first requests profiled in one process before the load (0: none)",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="PostgreSQL phases, comma-separated (ceiling and floor always run)",
    )
    args = parser.parse_args()
    chosen = set(args.phases.split(","))
    if chosen - set(PHASES):
        parser.error(f"unknown phases {sorted(chosen - set(PHASES))}; known: {PHASES}")
    phases = [phase for phase in PHASES if phase in chosen | {"ceiling", "floor"}]
    if args.quick:
        args.seconds, args.history = QUICK["seconds"], QUICK["history"]
    rates = [int(rate) for rate in args.rates.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("bench/runner: DATABASE_URL must point at PostgreSQL (bench/run)")
    results = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "settings": vars(args),
    }
    with scratch_postgres(url, plan_cache_mode=args.plan_cache_mode) as bench_url:
        results["postgresql"] = run_engine(
            {"DATABASE_URL": bench_url},
            phases=phases,
            rates=rates,
            history=args.history,
            args=args,
        )
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            results["sqlite"] = run_engine(
                {"DIALWHOM_SQLITE_PATH": str(Path(directory) / "bench.sqlite3")},
                phases=SQLITE_PHASES,
                rates=[args.sqlite_rate],
                history=0,
                args=args,
            )
    results["machine"]["load_after"] = os.getloadavg()
    results["targets"] = targets(results, rates[0], args.sqlite_rate)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results, rates, args.sqlite_rate))
    print(f"\nwritten: {RESULTS / 'latest.json'}")


def git_commit() -> str:
    """Return the commit measured, marked when the tree has local changes."""

    def git(*command: str) -> str:
        return subprocess.run(
            ["git", *command], cwd=PROJECT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+local changes" if dirty else "")


@contextmanager
def scratch_postgres(url: str, *, plan_cache_mode: str | None = None):
    """Create a database beside the one `url` names; drop it afterwards."""
    name = f"dialwhom_bench_{os.getpid()}"
    parts = urllib.parse.urlsplit(url)
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        if plan_cache_mode:
            admin.execute(
                f'ALTER DATABASE "{name}" SET plan_cache_mode = {plan_cache_mode}'
            )
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_engine(database_env, *, phases, rates, history, args) -> dict:
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
    result = {
        "workers": args.workers,
        "seed_seconds": round(time.monotonic() - started),
        "history": history,
    }
    if args.profile and "DATABASE_URL" in database_env:
        step("profiling first requests in one process")
        result["profile"] = profile(env, args.profile)
    if "DATABASE_URL" in database_env:
        result["server"] = server_settings(database_env["DATABASE_URL"])
        reset_statement_stats(database_env["DATABASE_URL"])
    with gunicorn(env, args.workers) as (base, log, server_pid):
        step("warming up")
        saturate(base, "first-10", "warm", 2, args.connections)
        for phase in phases:
            settle(base)
            step(f"{phase}: saturation ({seconds:g} s)")
            load = os.getloadavg()[0]
            with sampling(args.py_spy, server_pid, phase, seconds) as samples:
                figures = {
                    "load_before": load,
                    "saturation": saturate(
                        base, phase, "sat", seconds, args.connections
                    ),
                }
            if samples:
                result["py_spy"] = samples
            for rate in rates if phase != "call" else ():
                settle(base)
                step(f"{phase}: {rate} req/s ({seconds:g} s)")
                figures[f"at_{rate}"] = hold_rate(
                    base, phase, f"r{rate}", rate, seconds
                )
            result[phase] = figures
    # Answers from the last-known list (the database seemed gone) ignore
    # engagements: each is a possible double booking, so the run counts them.
    result["degraded_answers"] = (
        Path(log).read_text(errors="replace").count("degraded=True")
    )
    if "DATABASE_URL" in database_env:
        result["database"] = database_stats(database_env["DATABASE_URL"])
        result["statements"] = statement_stats(database_env["DATABASE_URL"])
    return result


# The groups, then (issue 19) their routes with two needs, from a known caller.
PROFILED = [*GROUP_SIZES, *(f"{slug}-needs" for slug in GROUP_SIZES)]


def profile_path(slug: str, sid: str) -> str:
    """A first request to `slug`; to a route with needs, from the known caller."""
    path = first_path(slug, sid)
    if slug.endswith("-needs"):
        path = path.replace("09901320691", "0" + KNOWN_CALLER.removeprefix("+91"))
    return path


def profile(env: dict, requests: int) -> dict:
    """Profile first requests in one process (bench/profile.py), for each group.

    Return each group's summary; the cProfile is in results/profile-<group>.txt.
    """
    summary = RESULTS / "profile.json"
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "import json\n"
        "from pathlib import Path\n"
        "from bench.profile import profile_first_requests\n"
        "from bench.runner import profile_path\n"
        "summary = {}\n"
        f"for slug in {PROFILED!r}:\n"
        "    summary[slug] = profile_first_requests(\n"
        "        path_of=lambda sid: profile_path(slug, f'{slug}-{sid}'),\n"
        f"        requests={requests},\n"
        f"        out=Path({str(RESULTS)!r}) / f'profile-{{slug}}.txt')\n"
        f"Path({str(summary)!r}).write_text(json.dumps(summary, indent=2))\n",
    )
    return json.loads(summary.read_text())


def server_settings(url: str) -> dict:
    """Return the PostgreSQL settings the figures depend on."""
    names = (
        "server_version",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "shared_preload_libraries",
        "plan_cache_mode",
    )
    with psycopg.connect(url, autocommit=True) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}


def database_stats(url: str) -> dict:
    """Return the database's transaction, rollback, deadlock and session counts.

    Every rollback also empties psycopg's prepared statements on its connection.
    """
    columns = ("xact_commit", "xact_rollback", "deadlocks", "sessions")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT {', '.join(columns)} FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    return dict(zip(columns, row, strict=True))


def has_statement_stats(conn) -> bool:
    loaded = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
    if "pg_stat_statements" not in loaded:
        return False
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def reset_statement_stats(url: str) -> None:
    """Forget the seeding's statements (a scratch cluster: nobody else's)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if has_statement_stats(conn):
            conn.execute("SELECT pg_stat_statements_reset()")


def statement_stats(url: str, top: int = 15) -> list[dict] | None:
    """Return the statements that took the most time in this database, with plans."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not has_statement_stats(conn):
            return None
        rows = conn.execute(
            "SELECT calls, plans, total_exec_time, mean_exec_time, total_plan_time,"
            " rows, query FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
            " ORDER BY total_exec_time + total_plan_time DESC LIMIT %s",
            (top,),
        ).fetchall()
    return [
        {
            "calls": calls,
            "plans": plans,
            "total_ms": round(total + plan_total, 1),
            "mean_exec_ms": round(mean, 3),
            "plan_ms": round(plan_total, 1),
            "mean_plan_ms": round(plan_total / plans, 3) if plans else None,
            "rows": rows_,
            "query": query[:400],
        }
        for calls, plans, total, mean, plan_total, rows_, query in rows
    ]


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
        yield base, log.name, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@contextmanager
def sampling(py_spy: str | None, pid: int, phase: str, seconds: float):
    """Sample gunicorn's workers with py-spy during the first-10 saturation.

    Yield a dict filled afterwards: each frame's share of the samples that
    include it (inclusive), the most common first.
    """
    samples: dict = {}
    if not py_spy or phase != "first-10":
        yield samples
        return
    raw = RESULTS / "py-spy-first-10.txt"
    recorder = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw"]
        + ["--duration", f"{max(1, int(seconds)):d}", "--output", str(raw)]
        + ["--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield samples
    finally:
        recorder.wait(timeout=seconds + 60)
    counts: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines() if raw.exists() else ():
        stack, _, count = line.rpartition(" ")
        frames = {
            re.sub(r" \(.*", "", frame)
            for frame in stack.split(";")
            if not frame.startswith(("process ", "thread "))
        }
        total += int(count)
        for frame in frames:
            counts[frame] = counts.get(frame, 0) + int(count)
    top = sorted(counts.items(), key=lambda item: -item[1])[:40]
    samples.update(
        {"samples": total, "inclusive": {f: round(c / total, 3) for f, c in top}}
        if total
        else {}
    )


def first_path(slug: str, sid: str, endpoint: str = "dial-whom") -> str:
    """A call's first request, to Dial Whom or to Programmable Connect's JSON."""
    return f"/exotel/{TOKEN}/{endpoint}/{slug}/?CallSid={sid}&{FIRST}"


def follow_up_path(endpoint: str, sid: str, national: str, *, status: str) -> str:
    kind = "completed" if status == "completed" else "incomplete"
    return (
        f"/exotel/{TOKEN}/{endpoint}?CallSid={sid}"
        f"&DialCallStatus={status}&CallType={kind}&DialCallDuration=0"
        f"&DialWhomNumber={national}"
        "&From=09901320691&To=08069891522&ForwardedFrom=null"
    )


def paths_file(phase: str, run: str, count: int) -> Path:
    """Write the request paths of one run: a new CallSid on every line."""
    tag = f"{run}-{os.getpid()}"
    if phase in {"ceiling", "floor"}:
        lines = [f"/bench/{phase}/?CallSid={phase}-{tag}-{n}" for n in range(count)]
    elif phase.startswith("needs-"):
        # Issue 19: the same first request, to the group's route with two needs,
        # from a known caller.
        size = phase.split("-")[1]
        national = "0" + KNOWN_CALLER.removeprefix("+91")
        lines = [
            first_path(f"bench-{size}-needs", f"{phase}-{tag}-{n}").replace(
                "09901320691", national
            )
            for n in range(count)
        ]
    elif phase.startswith(("first-", "connect-")):
        kind, size = phase.split("-")
        endpoint = "dial-whom" if kind == "first" else "connect"
        lines = [
            first_path(f"bench-{size}", f"{phase}-{tag}-{n}", endpoint)
            for n in range(count)
        ]
    elif phase == "call":
        # The follow-up reports the number the first request got (wrk.lua).
        lines = [
            first_path(FOLLOW_UP_GROUP, f"call-{tag}-{n}")
            + "\t"
            + follow_up_path(
                f"dial-whom/{FOLLOW_UP_GROUP}/",
                f"call-{tag}-{n}",
                "NUMBER",
                status="no-answer",
            )
            for n in range(count)
        ]
    else:
        # The calls seeded for this run (bench.seed.seed_pending_calls).
        group_index = list(GROUP_SIZES).index(FOLLOW_UP_GROUP)
        size = GROUP_SIZES[FOLLOW_UP_GROUP]
        endpoint, status = (
            ("passthru/", "completed")
            if phase == "passthru"
            else (f"dial-whom/{FOLLOW_UP_GROUP}/", "no-answer")
        )
        lines = [
            follow_up_path(
                endpoint,
                f"{phase}-{run}-{n}",
                # Exotel reports the number in national form.
                "0" + phone(group_index, n % size).removeprefix("+91"),
                status=status,
            )
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
    # A call's two requests go one after the other on one connection.
    threads = connections if phase == "call" else 2
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(PROJECT / "bench" / "wrk.lua"),
            base,
            "--",
            str(paths),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(re.search(r"WRK_JSON (.*)", output).group(1))
    elapsed = figures["duration_us"] / 1e6
    result = {
        "requests_per_second": round(figures["requests"] / elapsed, 1),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "errors": figures["errors"] + figures["non_2xx"],
        "reused_sids": figures["wrapped"] if phase not in {"ceiling", "floor"} else 0,
    }
    if phase == "call":
        result["calls_per_second"] = round(figures["calls"] / elapsed, 1)
        result["unanswered"] = figures["unanswered"]
    return result


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
    """Check the figures against issue 9's targets.

    Each target gives its figure and whether it was met (None: not measured).
    """
    pg = results["postgresql"]

    def held(phase: str, key: str, engine: dict = pg, at: int = rate) -> float | None:
        return engine.get(phase, {}).get(f"at_{at}", {}).get(key)

    def of_floor(phase: str) -> float | None:
        if phase not in pg:
            return None
        rps = pg[phase]["saturation"]["requests_per_second"]
        return rps / pg["floor"]["saturation"]["requests_per_second"]

    def check(value: float | None, limit: float, *, at_least=False, unit="") -> dict:
        if value is None:
            return {"figure": "not measured", "met": None}
        met = value >= limit if at_least else value <= limit
        return {"figure": f"{value:.2f}{unit}", "met": met}

    first_10, first_1000 = held("first-10", "p50_ms"), held("first-1000", "p50_ms")
    p50_ratio = first_1000 / first_10 if first_10 and first_1000 else None
    checks = {
        "first request (10 agents) >= 0.5 of floor": check(
            of_floor("first-10"), 0.5, at_least=True
        ),
        "first request (10 agents) >= 0.7 of floor (aim)": check(
            of_floor("first-10"), 0.7, at_least=True
        ),
        f"1,000-agent p50 <= 1.2x 10-agent p50 at {rate} req/s": check(
            p50_ratio, 1.2, unit="x"
        ),
        "call (first request + no-answer follow-up) >= 0.4 of floor": check(
            of_floor("call"), 0.4, at_least=True
        ),
        f"p99 <= 20 ms at {rate} first requests/s": check(
            held("first-10", "p99_ms"), 20, unit=" ms"
        ),
        f"p99 <= 20 ms at {rate} follow-ups/s": check(
            held("no-answer", "p99_ms"), 20, unit=" ms"
        ),
        "connect-10 (JSON) >= 0.9 of first-10 (text)": check(
            of_floor("connect-10") / of_floor("first-10")
            if of_floor("connect-10") and of_floor("first-10")
            else None,
            0.9,
            at_least=True,
        ),
        "needs-10 (route with two needs, known caller) >= 0.9 of first-10": check(
            of_floor("needs-10") / of_floor("first-10")
            if of_floor("needs-10") and of_floor("first-10")
            else None,
            0.9,
            at_least=True,
        ),
        f"needs-1000 p50 (10 skills an agent) <= 1.2x needs-10 p50 at {rate} req/s": (
            check(
                held("needs-1000", "p50_ms") / held("needs-10", "p50_ms")
                if held("needs-1000", "p50_ms") and held("needs-10", "p50_ms")
                else None,
                1.2,
                unit="x",
            )
        ),
        "no degraded answer, no error": check(
            pg["degraded_answers"]
            + sum(errors(pg, phase) for phase in PHASES if phase in pg),
            0,
        ),
    }
    if "sqlite" in results:
        worst = [
            held(phase, "p99_ms", results["sqlite"], sqlite_rate)
            for phase in SQLITE_PHASES
        ]
        checks[f"SQLite p99 <= 50 ms at {sqlite_rate} req/s (2 workers)"] = check(
            None if None in worst else max(worst), 50, unit=" ms"
        )
    return checks


def errors(engine: dict, phase: str) -> int:
    """Count failed or invalid answers in every run of `phase`."""
    figures = engine[phase]
    count = figures["saturation"]["errors"] + figures["saturation"].get("unanswered", 0)
    for key, held in figures.items():
        if key.startswith("at_"):
            count += held["errors"] + held["invalid"]
    return count


def table(results: dict, rates: list[int], sqlite_rate: int) -> str:
    pg = results["postgresql"]
    ceiling = pg["ceiling"]["saturation"]["requests_per_second"]
    floor = pg["floor"]["saturation"]["requests_per_second"]
    header = ["phase", "req/s (sat.)", "x ceiling", "x floor", "p50/p99 (sat.)"]
    for rate in rates:
        header.append(f"p50/p99 @{rate}/s")
    header += ["errors", "load"]
    rows = [header]
    for phase in (phase for phase in PHASES if phase in pg):
        figures = pg[phase]
        sat = figures["saturation"]
        rps = sat["requests_per_second"]
        name = phase
        if "calls_per_second" in sat:
            name += f" ({sat['calls_per_second']:.0f} calls/s)"
        row = [
            name,
            f"{rps:.0f}",
            f"{rps / ceiling:.2f}",
            f"{rps / floor:.2f}",
            _pair(sat["p50_ms"], sat["p99_ms"]),
        ]
        for rate in rates:
            held = figures.get(f"at_{rate}")
            row.append(_pair(held["p50_ms"], held["p99_ms"]) if held else "-")
        rows.append([*row, str(errors(pg, phase)), f"{figures['load_before']:.1f}"])
    server = pg.get("server", {})
    lines = [
        f"commit {results['commit']}; load average {_load(results)}",
        f"PostgreSQL {server.get('server_version', '?')} (fsync "
        f"{server.get('fsync', '?')}), gunicorn {pg['workers']} workers, "
        f"{pg['history']:,} past attempts ({pg['degraded_answers']} degraded answers)",
    ]
    lines += _format(rows)
    for slug, summary in pg.get("profile", {}).items():
        lines.append(
            f"one process, first request to {slug}: p50 {summary['wall_p50_ms']:.1f} ms"
            f", of which SQL {summary['sql_ms_per_request']:.1f} ms"
            f" ({summary['statements_per_request']:.0f} statements,"
            f" {summary['round_trips_per_request']} round trips)"
        )
    if "sqlite" in results:
        sqlite = results["sqlite"]
        rows = [["phase", "req/s (sat.)", f"p50/p99 @{sqlite_rate}/s", "errors"]]
        for phase in SQLITE_PHASES:
            figures = sqlite[phase]
            held = figures[f"at_{sqlite_rate}"]
            rows.append(
                [
                    phase,
                    f"{figures['saturation']['requests_per_second']:.0f}",
                    _pair(held["p50_ms"], held["p99_ms"]),
                    str(errors(sqlite, phase)),
                ]
            )
        lines += ["", f"SQLite, gunicorn {sqlite['workers']} workers", *_format(rows)]
    lines += ["", "targets (issue 9)"]
    verdicts = {True: "met   ", False: "MISSED", None: "n/a   "}
    lines += [
        f"  {verdicts[target['met']]} {name}: {target['figure']}"
        for name, target in results["targets"].items()
    ]
    return "\n".join(lines)


def _load(results: dict) -> str:
    machine = results["machine"]
    before = " ".join(f"{value:.1f}" for value in machine["load_before"])
    after = " ".join(f"{value:.1f}" for value in machine["load_after"])
    return f"{before} before, {after} after ({machine['cpus']} CPUs)"


def _pair(p50: float | None, p99: float | None) -> str:
    if p50 is None or p99 is None:
        return "failed"
    return f"{p50:.1f}/{p99:.1f} ms"


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
