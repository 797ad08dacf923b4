"""`manage.py check --deploy`: the webhook token and the spool directory."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dialwhom_project.checks import check_spool_directory, check_webhook_token

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "5f0c2a9e71b84d3fa6c1e0b297d84a6c3e5b1f20"


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ([], ["dialwhom.W001"]),
        (["abc123"], ["dialwhom.W002"]),
        (["x" * 31], ["dialwhom.W002"]),
        (["replace-with-a-long-random-token"], ["dialwhom.W003"]),
        (["<token>"], ["dialwhom.W003"]),
        ([GOOD_TOKEN], []),
        ([GOOD_TOKEN, "old"], ["dialwhom.W002"]),
    ],
    ids=[
        "missing",
        "short",
        "one-under-the-minimum",
        "the-env-example",
        "the-docs-placeholder",
        "long-random",
        "short-previous-token",
    ],
)
def test_webhook_token(settings, tokens, expected):
    settings.DIALWHOM_WEBHOOK_TOKENS = tokens

    messages = check_webhook_token()

    assert ids(messages) == expected
    assert all(message.hint for message in messages)
    # The warning never repeats the token it is about.
    assert not any(t in message.msg for t in tokens for message in messages)


@pytest.mark.parametrize(
    ("directory", "warns"),
    [
        ("/tmp/dialwhom-spool", True),
        (str(Path(tempfile.gettempdir()) / "x" / "spool"), True),
        ("/var/tmp/dialwhom", True),
        ("/dev/shm/spool", True),
        ("/var/lib/dialwhom/spool", False),
        ("/srv/dialwhom/spool", False),
    ],
    ids=["tmp", "system-temp-dir", "var-tmp", "shm", "var-lib", "srv"],
)
def test_spool_directory(settings, directory, warns):
    settings.DIALWHOM_SPOOL_DIR = Path(directory)

    assert ids(check_spool_directory()) == (["dialwhom.W004"] if warns else [])


def test_deploy_check_names_each_problem_with_its_id_and_hint(tmp_path):
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DIALWHOM_", "DJANGO_"))
    } | {
        "DIALWHOM_WEBHOOK_TOKEN": "short",
        "DIALWHOM_SPOOL_DIR": "/tmp/dialwhom-spool",
        "DIALWHOM_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "(dialwhom.W002)" in output
    assert "(dialwhom.W004)" in output
    assert "HINT: Set DIALWHOM_SPOOL_DIR" in output
    assert "short" not in output.replace("shorter", "")


def test_the_kits_environment_file_is_caught_until_edited(settings):
    environment = (REPO_ROOT / "deploy" / "dialwhom.env").read_text()
    (token,) = re.findall(r"^DIALWHOM_WEBHOOK_TOKEN=(.*)$", environment, re.M)
    settings.DIALWHOM_WEBHOOK_TOKENS = [token]

    assert ids(check_webhook_token()) == ["dialwhom.W003"]
