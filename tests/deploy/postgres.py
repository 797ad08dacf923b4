"""A database of a test's own on the suite's PostgreSQL (./dev/with-postgres)."""

import contextlib
import os
import urllib.parse
import uuid

import dj_database_url
import psycopg
import pytest


def suite_server() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL only: run under ./dev/with-postgres")
    return dj_database_url.parse(url)


def _admin(server: dict) -> psycopg.Connection:
    return psycopg.connect(
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname=server["NAME"],
        autocommit=True,
    )


@contextlib.contextmanager
def scratch_database(prefix: str):
    """Yield (name, url) of a new empty database; drop it afterwards."""
    server = suite_server()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with _admin(server) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    try:
        yield name, urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with _admin(server) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
