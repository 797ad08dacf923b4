"""The README's "Try it in two minutes", run as written: its curl commands against a
real gunicorn with the example roster, and its `simulate_call`, each compared with
the output the README shows; and the demo line they call answers the same at every
hour of every day of the week."""

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import time

import pytest
from django.core.management import call_command

from routing.calls.services import route_call
from routing.exotel.requests import parse_exotel_request
from tests.conftest import at
from tests.deploy.kit import REPO, require, scratch_directory, stop, wait_until
from tests.servers import load_roster, start_gunicorn

README = (REPO / "README.md").read_text()
EXAMPLES = REPO / "examples"
TOKEN = "0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e"


def block_after(marker: str) -> str:
    """Return the first fenced block after `marker` in the README."""
    rest = README[README.index(marker) + len(marker) :]
    return re.search(r"```\w*\n(.*?)```", rest, re.DOTALL).group(1)


def roster_file(name: str) -> str:
    """Return examples/NAME.csv with the demo line's rows, as ./dev/start loads them."""
    demo = (EXAMPLES / f"demo-{name}.csv").read_text().splitlines(keepends=True)
    return (EXAMPLES / f"{name}.csv").read_text() + "".join(demo[1:])


def load_examples_as_dev_start_does() -> None:
    for name in ("groups", "agents"):
        call_command(f"import_{name}", EXAMPLES / f"{name}.csv", verbosity=0)
        call_command(f"import_{name}", EXAMPLES / f"demo-{name}.csv", verbosity=0)


def test_dev_start_loads_the_demo_line():
    start = (REPO / "dev" / "start").read_text()
    for name in ("groups", "agents"):
        assert f"import_{name} examples/demo-{name}.csv" in start


def test_the_curl_walk_through_prints_what_the_readme_says():
    require("curl", "curl")
    script = block_after("With `./dev/start` running")
    expected = block_after("On a fresh start that prints:")
    root = scratch_directory("dialwhom-readme-")
    (root / ".dev").mkdir()
    (root / ".dev" / "webhook-token").write_text(TOKEN + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DIALWHOM_SQLITE_PATH": str(root / "db.sqlite3"),
        "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
        "DIALWHOM_LAST_KNOWN_DIR": str(root / "last-known"),
        "DIALWHOM_SPOOL_DIR": str(root / "spool"),
    }
    env.pop("DATABASE_URL", None)  # as ./dev/start: SQLite
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for name in ("groups", "agents"):
        (root / f"{name}.csv").write_text(roster_file(name))
    load_roster(env, root / "groups.csv", root / "agents.csv")
    log = root / "gunicorn.log"
    server, port = start_gunicorn(env, log, "--workers", "1")
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    ["curl", "-sf", f"http://127.0.0.1:{port}/healthz"],
                    capture_output=True,
                ).returncode
                == 0
            ),
            server,
            log,
        )
        assert "http://127.0.0.1:8000" in script
        command = [
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script.replace(":8000", f":{port}"),
        ]
        result = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=60
        )
        # "Run it again within 30 seconds": Demo Two is in wrap-up.
        time.sleep(1)  # a new CallSid: the script names it by the second
        again = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=60
        )
    finally:
        stop(server)
        shutil.rmtree(root, ignore_errors=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    assert again.stdout.splitlines()[:2] == ["+919900000021", "+919900000023"]


@pytest.mark.django_db
def test_simulate_call_prints_what_the_readme_says():
    load_examples_as_dev_start_does()
    command = block_after("rolls\nit back unless `--commit`:").strip()
    expected = block_after(command + "\n```")
    arguments = command.split()
    assert arguments[:3] == [".venv/bin/python", "manage.py", "simulate_call"]
    out = io.StringIO()

    call_command(*arguments[2:], stdout=out)

    assert re.sub(r"sim-[0-9a-f]+", "sim-...", out.getvalue()) == expected


@pytest.mark.django_db
def test_the_demo_line_answers_at_every_hour():
    load_examples_as_dev_start_does()
    monday = at(hour=0, minute=30)
    moments = [monday + dt.timedelta(hours=hours) for hours in range(7 * 24)]
    first_answers = set()
    for moment in moments:
        params = {"CallSid": f"demo-{moment:%a-%H}", "To": "08047190000"}
        answer = route_call(
            request=parse_exotel_request(params), group_slug=None, now=moment
        )
        first_answers.add((answer.group.slug, *answer.numbers))

    # Each call an hour after the last: the one before has been let go.
    assert first_answers == {("demo", "+919900000021")}
