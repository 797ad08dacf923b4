"""deploy/systemd: `systemd-analyze verify` on every unit, the service's hardening,
a timer for every periodic command, and each timer's command run for real."""

import io
import os
import re
import shlex
import socket
import subprocess
from pathlib import Path
from subprocess import STDOUT

import pytest
from django.core.management import call_command

from tests.deploy.kit import DEPLOY, REPO, answers_200, require, stop, wait_until
from tests.servers import free_port

UNITS = DEPLOY / "systemd"
SERVICE = UNITS / "dialwhom.service"
TIMERS = sorted(UNITS.glob("*.timer"))
EXAMPLES = REPO / "examples"


def setting(unit: Path, key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", unit.read_text(), re.MULTILINE)


def job_command(timer: Path) -> list[str]:
    """Return the manage.py arguments the service of `timer` runs."""
    (exec_start,) = setting(timer.with_suffix(".service"), "ExecStart")
    program, script, *arguments = shlex.split(exec_start)
    assert (program, script) == ("/opt/dialwhom/.venv/bin/python", "manage.py")
    return arguments


@pytest.fixture
def installed(tmp_path):
    """The units as installed from this checkout: /opt/dialwhom is the repository."""
    for unit in UNITS.glob("*.*"):
        text = unit.read_text().replace("/opt/dialwhom", str(REPO))
        (tmp_path / unit.name).write_text(text)
    return tmp_path


def test_every_unit_verifies_cleanly(installed):
    analyze = require("systemd-analyze", "systemd")
    units = sorted(p.name for p in installed.iterdir() if p.suffix != ".sysusers")

    result = subprocess.run(
        [analyze, "verify", *units],
        cwd=installed,
        capture_output=True,
        text=True,
    )

    # Unknown keys and bad values are only warnings: any output is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_service_is_hardened(installed):
    analyze = require("systemd-analyze", "systemd")

    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(installed / SERVICE.name)],
        capture_output=True,
        text=True,
    )

    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert exposure, result.stdout + result.stderr
    # 0 is a sealed box, 10 an unprotected root process; systemd calls < 2 "OK".
    assert float(exposure.group(1)) < 2.0
    assert setting(SERVICE, "User") == ["dialwhom"]
    assert setting(SERVICE, "ProtectSystem") == ["strict"]
    assert setting(SERVICE, "StateDirectory") == ["dialwhom"]
    spool = [v for v in setting(SERVICE, "Environment") if "SPOOL_DIR" in v]
    assert spool == ["DIALWHOM_SPOOL_DIR=/var/lib/dialwhom/spool"]


def test_every_job_runs_with_the_services_user_and_hardening():
    hardening = SERVICE.read_text()
    hardening = hardening[hardening.index("UMask=") : hardening.index("[Install]")]
    hardening = hardening.replace("RemoveIPC=yes\n", "")  # the service's IPC only
    for timer in TIMERS:
        service = timer.with_suffix(".service")
        assert service.exists(), f"{timer.name} starts a unit that is not there"
        assert setting(service, "User") == ["dialwhom"]
        assert hardening.strip() in service.read_text(), service.name
        assert setting(timer, "OnCalendar"), timer.name


def test_a_timer_for_every_periodic_command_in_the_docs():
    table = (REPO / "docs" / "operations.md").read_text()
    table = table[table.index("## Periodic jobs") :]
    table = table[: table.index("\n## ")]
    documented = set(re.findall(r"^\| `(\w+)[ `]", table, re.MULTILINE))

    assert {job_command(timer)[0] for timer in TIMERS} == documented


@pytest.mark.django_db
def test_each_timers_command_runs(tmp_path):
    call_command("import_groups", EXAMPLES / "groups.csv", verbosity=0)
    call_command("import_agents", EXAMPLES / "agents.csv", verbosity=0)
    for timer in TIMERS:
        arguments = [
            a.replace("/var/lib/dialwhom", str(tmp_path)) for a in job_command(timer)
        ]
        out = io.StringIO()
        try:
            call_command(*arguments, stdout=out, stderr=out)
        except SystemExit as exit:
            # check_coverage exits 1 when it finds a gap: the unit shows as failed.
            assert (arguments[0], exit.code) == ("check_coverage", 1), out.getvalue()
    assert (tmp_path / "fallback" / "support.txt").read_text().startswith("+91")


def test_the_services_command_starts_and_tells_systemd_it_is_ready(tmp_path):
    """ExecStart with the unit's Environment=, as Type=notify runs it (paths moved)."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DIALWHOM_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
    }
    environment.pop("DATABASE_URL", None)
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for assignment in setting(SERVICE, "Environment"):
        name, value = assignment.split("=", 1)
        environment[name] = value.replace("/var/lib/dialwhom", str(tmp_path))
    assert environment["DIALWHOM_BIND"] == "127.0.0.1:8000"
    environment["DIALWHOM_BIND"] = f"127.0.0.1:{port}"
    (exec_start,) = setting(SERVICE, "ExecStart")
    command = shlex.split(exec_start.replace("/opt/dialwhom", str(REPO)))
    (working_directory,) = setting(SERVICE, "WorkingDirectory")
    assert working_directory == "/opt/dialwhom"

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / "notify"))
        notify.settimeout(60)
        log = tmp_path / "gunicorn.log"
        process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=log.open("wb"), stderr=STDOUT
        )
        try:
            message = notify.recv(4096)
            wait_until(
                lambda: answers_200(f"http://127.0.0.1:{port}/healthz"), process, log
            )
        finally:
            stop(process)

    assert message.startswith(b"READY=1")
