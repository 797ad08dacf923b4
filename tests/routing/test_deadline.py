"""The database deadline cuts a dead server's connection, never a slow live one."""

import pytest
from django.db import connection

from routing.deadline import database_deadline

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def test_slow_query_on_a_live_server_is_not_cut(settings):
    settings.DIALWHOM_DB_DEADLINE_MS = 10
    with database_deadline(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.3), 1")
        assert cursor.fetchone()[1] == 1
