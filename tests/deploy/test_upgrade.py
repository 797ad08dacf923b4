"""The upgrade path of docs/deployment.md, tried once: the previous version (the
code before the newest migration) runs on a database, the new code migrates it
first, then both versions serve one database side by side, as during a rolling
restart, and hand the same calls back and forth."""

import io
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.kit import REPO, answers_200, scratch_directory, stop, wait_until
from tests.deploy.postgres import scratch_database
from tests.servers import free_port

TOKEN = "7d2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d"
MIGRATIONS = ["agents/migrations", "routing/migrations"]
ROSTER = """
from django.core.management import call_command as run
run("migrate", verbosity=0)
run("import_groups", "examples/groups.csv", verbosity=0)
run("import_agents", "examples/agents.csv", verbosity=0)
"""


def git(*args: str) -> str:
    # CI's clone may belong to another user than the one running the tests.
    command = ["git", "-c", f"safe.directory={REPO}", *args]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def previous_version() -> str:
    """Return the commit before the newest migration was added."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("no git history to take the previous version from")
    try:
        newest = git("log", "-1", "--format=%H", "--diff-filter=A", "--", *MIGRATIONS)
        return git("rev-parse", "--verify", f"{newest}^")
    except subprocess.CalledProcessError as error:
        pytest.skip(f"the previous version is not in this clone: {error.stderr}")


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-c", f"safe.directory={REPO}", "archive", "--format=tar", commit],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def manage(tree: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def start(tree: Path, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dialwhom_project.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=tree,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, port


def ask(port: int, path: str, **params) -> str:
    url = f"http://127.0.0.1:{port}/exotel/{TOKEN}/{path}?"
    try:
        with urllib.request.urlopen(url + urllib.parse.urlencode(params)) as answer:
            return answer.read().decode()
    except urllib.error.HTTPError as error:
        pytest.fail(f"{error.code} from {path}: {error.read().decode()}")


@pytest.fixture
def database():
    """The suite's database engine: a database of the test's own."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        with scratch_database("kit_upgrade") as (_, url):
            yield {"DATABASE_URL": url}
    else:
        root = scratch_directory("dialwhom-upgrade-db-")
        yield {"DIALWHOM_SQLITE_PATH": str(root / "db.sqlite3")}
        shutil.rmtree(root, ignore_errors=True)


def test_migrate_first_then_old_and_new_serve_side_by_side(database):
    commit = previous_version()
    root = scratch_directory("dialwhom-upgrade-")
    old = root / "old"
    export(commit, old)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DIALWHOM_", "PROMETHEUS_"))
        and key != "DATABASE_URL"
    } | {
        **database,
        "DIALWHOM_WEBHOOK_TOKEN": TOKEN,
        "DIALWHOM_LAST_KNOWN_DIR": str(root / "last-known"),
        "DIALWHOM_SPOOL_DIR": str(root / "spool"),
    }
    servers = []
    try:
        # The previous version, as it ran before the upgrade.
        manage(old, env, "shell", "--no-imports", "-c", ROSTER)
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=REPO,
            env=env,
            capture_output=True,
        )
        assert check.returncode != 0, "the new code brings no migration to try"

        # 1. Migrate first, with the new code, while the old one still serves.
        manage(REPO, env, "migrate", "--no-input")

        # 2. Old and new side by side on the migrated database.
        servers = [
            start(old, env, root / "old.log"),
            start(REPO, env, root / "new.log"),
        ]
        for (process, port), name in zip(servers, ["old", "new"], strict=True):
            wait_until(
                lambda port=port: answers_200(f"http://127.0.0.1:{port}/healthz"),
                process,
                root / f"{name}.log",
            )
        (_, old_port), (_, new_port) = servers

        # A call begun on the old version, continued on the new one, and back.
        first = ask(
            old_port, "dial-whom/support/", CallSid="upgrade-1", From="09812345678"
        )
        assert first.count(",") == 1, first  # support offers two at a time
        again = ask(new_port, "dial-whom/support/", CallSid="upgrade-1")
        assert again == first
        second = ask(
            new_port,
            "dial-whom/support/",
            CallSid="upgrade-1",
            DialWhomNumber=first.split(",")[-1],
            DialCallStatus="no-answer",
        )
        assert second and not set(second.split(",")) & set(first.split(","))
        ended = ask(
            old_port,
            "passthru/",
            CallSid="upgrade-1",
            DialWhomNumber=second.split(",")[0],
            DialCallStatus="completed",
            DialCallDuration="30",
        )
        assert ended == ""
        # A new call on each: neither gets an agent the other has engaged.
        engaged = {second.split(",")[0]}
        on_new = ask(new_port, "dial-whom/support/", CallSid="upgrade-2")
        on_old = ask(old_port, "dial-whom/support/", CallSid="upgrade-3")
        offered = [
            n for answer in (on_new, on_old) if answer for n in answer.split(",")
        ]
        assert len(offered) == len(set(offered))
        assert not engaged & set(offered)
    finally:
        for process, _ in servers:
            stop(process)
        shutil.rmtree(root, ignore_errors=True)
