"""Settings read from the environment: databases, flags, webhook tokens."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from dialwhom_project import settings as running_settings

SETTINGS_FILE = Path(running_settings.__file__)
REPO_ROOT = SETTINGS_FILE.parent.parent

# Every variable settings.py reads, so each test starts from the defaults.
SETTINGS_VARIABLES = sorted(
    set(
        re.findall(
            r"""(?:environ\.get\(|getenv\(|env_\w+\(|environ\[)\s*["']([A-Z0-9_]+)["']""",
            SETTINGS_FILE.read_text(),
        )
    )
)


def load_settings(monkeypatch, **environ: str) -> ModuleType:
    """Execute a fresh copy of settings.py under `environ`; Django's stays as is."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_variables_are_found():
    assert {"DATABASE_URL", "DJANGO_DEBUG", "DIALWHOM_WEBHOOK_TOKEN"} <= set(
        SETTINGS_VARIABLES
    )


def test_defaults_are_safe(monkeypatch):
    settings = load_settings(monkeypatch)

    assert settings.DEBUG is False
    assert settings.SECRET_KEY.startswith("django-insecure-")
    assert settings.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]
    assert settings.TIME_ZONE == "Asia/Kolkata"
    assert settings.USE_TZ is True
    assert settings.PHONENUMBER_DEFAULT_REGION == "IN"
    assert settings.DIALWHOM_WEBHOOK_TOKENS == []


def test_sqlite_by_default_with_immediate_transactions_and_wal(monkeypatch):
    database = load_settings(monkeypatch).DATABASES["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(REPO_ROOT / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["timeout"] > 0


def test_sqlite_path_from_environment(monkeypatch, tmp_path):
    path = str(tmp_path / "office.sqlite3")

    database = load_settings(monkeypatch, DIALWHOM_SQLITE_PATH=path).DATABASES[
        "default"
    ]

    assert database["NAME"] == path
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url_gets_timeouts_and_persistent_connections(monkeypatch):
    database = load_settings(
        monkeypatch, DATABASE_URL="postgres://dialwhom:s3cret@db.internal:6432/calls"
    ).DATABASES["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"]) == ("db.internal", 6432)
    assert (database["NAME"], database["USER"]) == ("calls", "dialwhom")
    assert database["PASSWORD"] == "s3cret"
    assert database["CONN_MAX_AGE"] == 600
    # No SELECT 1 per request: routing.outage.deadline polls a reused connection instead.
    assert database["CONN_HEALTH_CHECKS"] is False
    assert database["OPTIONS"]["connect_timeout"] == 2
    assert database["OPTIONS"]["options"] == (
        "-c statement_timeout=3000 -c plan_cache_mode=force_generic_plan"
    )


def test_postgres_tuning_from_environment(monkeypatch):
    database = load_settings(
        monkeypatch,
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/dialwhom",
        DJANGO_CONN_MAX_AGE="0",
        DIALWHOM_DB_CONNECT_TIMEOUT="5",
        DIALWHOM_DB_STATEMENT_TIMEOUT_MS="1500",
    ).DATABASES["default"]

    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["connect_timeout"] == 5
    assert database["OPTIONS"]["options"] == (
        "-c statement_timeout=1500 -c plan_cache_mode=force_generic_plan"
    )


def test_postgres_over_a_unix_socket(monkeypatch):
    # The form dev/with-postgres hands to the test suite.
    database = load_settings(
        monkeypatch,
        DATABASE_URL="postgres://postgres@%2Ftmp%2Fdialwhom-pg.x:41234/dialwhom",
    ).DATABASES["default"]

    assert database["HOST"] == "/tmp/dialwhom-pg.x"
    assert database["PORT"] == 41234


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("True", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_yes_and_no(monkeypatch, value, expected):
    assert load_settings(monkeypatch, DJANGO_DEBUG=value).DEBUG is expected


@pytest.mark.parametrize("junk", ["maybe", "2", "y e s", "enabled"])
def test_env_bool_rejects_junk(monkeypatch, junk):
    with pytest.raises(ImproperlyConfigured, match=f"DJANGO_DEBUG.*{junk!r}"):
        load_settings(monkeypatch, DJANGO_DEBUG=junk)


def test_env_bool_empty_takes_the_default(monkeypatch):
    monkeypatch.setenv("DIALWHOM_TEST_FLAG", "")

    assert running_settings.env_bool("DIALWHOM_TEST_FLAG", default=True) is True


def test_allowed_hosts_list_ignores_spaces_and_empty_items(monkeypatch):
    settings = load_settings(
        monkeypatch, DJANGO_ALLOWED_HOSTS=" dialwhom.example.com, ,10.0.0.5,"
    )

    assert settings.ALLOWED_HOSTS == ["dialwhom.example.com", "10.0.0.5"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"DIALWHOM_WEBHOOK_TOKEN": "new"}, ["new"]),
        (
            {"DIALWHOM_WEBHOOK_TOKEN": "new", "DIALWHOM_WEBHOOK_TOKEN_PREVIOUS": "old"},
            ["new", "old"],
        ),
        (
            {"DIALWHOM_WEBHOOK_TOKEN": "new", "DIALWHOM_WEBHOOK_TOKEN_PREVIOUS": ""},
            ["new"],
        ),
    ],
    ids=["none-set", "current-only", "during-rotation", "empty-previous-ignored"],
)
def test_webhook_tokens(monkeypatch, environ, expected):
    assert load_settings(monkeypatch, **environ).DIALWHOM_WEBHOOK_TOKENS == expected


def test_https_proxy_settings(monkeypatch):
    settings = load_settings(
        monkeypatch,
        DJANGO_BEHIND_HTTPS_PROXY="yes",
        DJANGO_SECURE_SSL_REDIRECT="yes",
        DJANGO_SECURE_COOKIES="yes",
        DJANGO_HSTS_SECONDS="31536000",
    )

    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS == 31536000


def test_deploy_check_is_clean_with_production_variables():
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES
    } | {
        "DJANGO_SECRET_KEY": "x7#kq2-production-like-secret-key-0f9d8c7b6a5e4d3c2b1a",
        "DJANGO_ALLOWED_HOSTS": "dialwhom.example.com",
        "DJANGO_BEHIND_HTTPS_PROXY": "yes",
        "DJANGO_SECURE_SSL_REDIRECT": "yes",
        "DJANGO_SECURE_COOKIES": "yes",
        "DJANGO_HSTS_SECONDS": "31536000",
        # dialwhom_project/checks.py: a long token, a spool outside /tmp.
        "DIALWHOM_WEBHOOK_TOKEN": "5f0c2a9e71b84d3fa6c1e0b297d84a6c3e5b1f20",
        "DIALWHOM_SPOOL_DIR": "/var/lib/dialwhom/spool",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_document_every_variable():
    configuration = (REPO_ROOT / "docs" / "configuration.md").read_text()

    missing = [name for name in SETTINGS_VARIABLES if f"`{name}`" not in configuration]

    assert not missing, f"docs/configuration.md does not list {missing}"
