"""Measure `import_callers` (issue 19): time and peak memory per file size.

    ./dev/with-postgres .venv/bin/python -m bench.callers [--rows 10000,100000,200000]

Each size is a fresh file of known callers (a name, notes, a need on every third,
VIP on every tenth) imported into an empty table by `manage.py import_callers`
in a process of its own, which reports its peak resident memory (ru_maxrss)
before and after the import; a second import of the same file (every row
unchanged) is timed too. Without DATABASE_URL it uses the SQLite file of the
settings.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

MEASURE = """
import io, json, resource, time
from django.core.management import call_command
from agents.models import Caller
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
call_command("import_callers", {path!r}, stdout=io.StringIO())
first = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
call_command("import_callers", {path!r}, stdout=io.StringIO())
again = time.perf_counter() - started
count = Caller.objects.count()
from django.db import connection, transaction
with transaction.atomic(), connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL statement_timeout = 0")
    Caller.objects.all().delete()
print("RESULT", json.dumps({{"rows": count, "seconds": round(first, 2),
    "again_seconds": round(again, 2), "rss_before_mb": round(before / 1024, 1),
    "rss_peak_mb": round(peak / 1024, 1)}}))
"""


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["number", "name", "owner", "binding", "vip", "blocked", "needs", "notes"]
        )
        for n in range(rows):
            writer.writerow(
                [
                    f"+9170{n:08d}",
                    f"Customer {n}",
                    "",
                    "loose",
                    "yes" if n % 10 == 0 else "no",
                    "no",
                    "tamil:2" if n % 3 == 0 else "",
                    f"account {n}, imported from the CRM",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,200000")
    args = parser.parse_args()
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=PROJECT,
        check=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for rows in (int(text) for text in args.rows.split(",")):
            path = Path(directory) / f"callers-{rows}.csv"
            write_file(path, rows)
            done = subprocess.run(
                [python, "manage.py", "shell", "-c", MEASURE.format(path=str(path))],
                cwd=PROJECT,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
                env=os.environ,
            )
            line = next(
                line for line in done.stdout.splitlines() if line.startswith("RESULT")
            )
            result = json.loads(line.removeprefix("RESULT "))
            result["file_mb"] = round(path.stat().st_size / 1e6, 1)
            results.append(result)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
