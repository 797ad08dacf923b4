"""The docs as one reference: every environment variable in docs/configuration.md,
every groups column in docs/roster-files.md, links that stay in the repository."""

import re

import pytest

from agents.importers import AGENT_COLUMNS, GROUP_COLUMNS, GROUP_CONNECT_COLUMNS
from tests.deploy.kit import REPO

PYTHON_READ = re.compile(
    r"""(?:environ\.get\(|getenv\(|env_\w+\(|environ\[)\s*["']([A-Z][A-Z0-9_]+)["']"""
)
SHELL_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)")
# The shell's own, and names a script sets for a program it starts.
NOT_CONFIGURATION = {
    "EUID",
    "PATH",
    "PIPESTATUS",
    "PWD",
    "DEBIAN_FRONTEND",
    "PIP_NO_INPUT",
    "DIALWHOM_ADMIN_PASSWORD",  # dev/start hands the password to its own child
    "DIALWHOM_TEST_FLAG",  # tests/test_settings.py's own name
}
SHELL_SCRIPTS = ["dev/start", "dev/test", "dev/venv", "dev/with-postgres", "bench/run"]
SHELL_SCRIPTS += [".ci/run", "deploy/backup-drill"]
MARKDOWN = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MARKDOWN += [REPO / "deploy" / "README.md", REPO / "bench" / "RESULTS.md"]


def variables_read() -> dict[str, str]:
    """Return each environment variable read anywhere, with one file that reads it."""
    found = {}
    python = [REPO / "gunicorn.conf.py", REPO / "manage.py"]
    for folder in ("dialwhom_project", "agents", "routing", "pages", "bench", "tests"):
        python += sorted((REPO / folder).rglob("*.py"))
    for path in python:
        for name in PYTHON_READ.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(REPO)))
    for script in SHELL_SCRIPTS:
        for name in SHELL_READ.findall((REPO / script).read_text()):
            found.setdefault(name, script)
    return {k: v for k, v in found.items() if k not in NOT_CONFIGURATION}


def test_configuration_lists_every_variable():
    configuration = (REPO / "docs" / "configuration.md").read_text()
    read = variables_read()

    missing = {k: v for k, v in read.items() if f"`{k}`" not in configuration}

    assert {"DIALWHOM_BIND", "PROMETHEUS_MULTIPROC_DIR", "DIALWHOM_PG_DURABLE"} <= set(
        read
    )
    assert not missing, f"docs/configuration.md does not list {missing}"


def test_roster_files_lists_every_groups_and_agents_column():
    roster_files = (REPO / "docs" / "roster-files.md").read_text()
    groups = GROUP_COLUMNS + tuple(GROUP_CONNECT_COLUMNS)

    missing = [c for c in groups if f"| `{c}` |" not in roster_files]
    missing += [c for c in AGENT_COLUMNS if f"`{c}`" not in roster_files]

    assert len(groups) == 26
    assert not missing


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_links_stay_in_the_repository(document):
    text = document.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO), f"{target} is outside the repository"
        assert resolved.exists(), f"{target} does not exist"
    assert "../shared" not in text
    assert not re.search(r"\bissue #?\d+|\bDESIGN(\.md| section)", text, re.I)
