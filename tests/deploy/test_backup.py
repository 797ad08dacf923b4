"""deploy/backup-drill on PostgreSQL: a database with a roster and a call history is
dumped, restored into a fresh database, and the copy answers as the original."""

import os
import subprocess

import pytest

from tests.deploy.kit import DEPLOY, REPO, require
from tests.deploy.postgres import scratch_database

pytestmark = pytest.mark.postgres

HISTORY = """
from django.core.management import call_command as run
run("migrate", verbosity=0)
run("import_groups", "examples/groups.csv", verbosity=0)
run("import_agents", "examples/agents.csv", verbosity=0)
run("simulate_call", "support", "--answer-on", "2", "--commit", verbosity=0)
"""


def test_the_drill_restores_the_same_answers():
    require("pg_dump", "postgresql-client")
    with scratch_database("kit_backup") as (name, url):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DATABASE_URL": url,
        }
        subprocess.run(
            [".venv/bin/python", "manage.py", "shell", "--no-imports", "-c", HISTORY],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )

        result = subprocess.run(
            [DEPLOY / "backup-drill"], env=env, capture_output=True, text=True
        )

    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("backup-drill: ok: the restored copy has the same roster")
    groups = (REPO / "examples" / "groups.csv").read_text().count("\n") - 1
    assert f"the same answers for {groups} groups" in summary
    # The simulated call left a call, its attempts and its requests behind.
    rows = int(summary.split("the same ")[2].split()[0])
    assert rows > 20
