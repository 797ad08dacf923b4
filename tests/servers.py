"""Real servers for tests that need them: gunicorn with the project's
configuration, on a free loopback port, and a SQLite database made for it."""

import socket
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_roster(env: dict[str, str], groups_csv: Path, agents_csv: Path) -> None:
    """Migrate the database `env` names and import the roster, in one process.

    Each Django start-up costs seconds on a loaded machine.
    """
    script = (
        "from django.core.management import call_command as run; "
        "run('migrate', verbosity=0); "
        f"run('import_groups', {str(groups_csv)!r}, verbosity=0); "
        f"run('import_agents', {str(agents_csv)!r}, verbosity=0)"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
    )


def start_gunicorn(
    env: dict[str, str], log: Path, *options: str
) -> tuple[subprocess.Popen, int]:
    """Start gunicorn (gunicorn.conf.py, then `options`); return it and its port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dialwhom_project.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}", *options],
        cwd=PROJECT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, port
