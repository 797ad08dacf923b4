"""The database deadline cuts a dead server's connection, never a slow live one.

Against a PostgreSQL cluster of the module's own, frozen with SIGSTOP (as a hung
server or a cut network looks to us), and a fake server that stops answering in
the middle of a connection being opened.
"""

import contextlib
import signal
import socket
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from routing.outage.breaker import CLOSED, breaker
from routing.outage.deadline import DatabaseUnreachable, database_deadline
from tests.routing.clusters import running_cluster

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]
PROMISE = 1.0
ALIAS = "deadline-test"


def test_slow_query_on_a_live_server_is_not_cut(settings):
    settings.DIALWHOM_DB_DEADLINE_MS = 10
    with database_deadline(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.3), 1")
        assert cursor.fetchone()[1] == 1


def test_no_thread_per_request():
    with database_deadline(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    threads = threading.active_count()

    for _ in range(20):
        with database_deadline(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    assert threading.active_count() == threads
    monitors = [
        t for t in threading.enumerate() if t.name.startswith("dialwhom-database")
    ]
    assert len(monitors) <= 1


@pytest.fixture(scope="module")
def cluster():
    with running_cluster() as cluster:
        yield cluster


def _alias_to(port: int, *, database: str = "dialwhom"):
    """Add a connection alias to a server on 127.0.0.1:`port`; return its wrapper."""
    settings_dict = {
        **connections["default"].settings_dict,
        "NAME": database,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    connections.settings[ALIAS] = settings_dict
    with contextlib.suppress(AttributeError):
        del connections[ALIAS]
    return connections[ALIAS]


@pytest.fixture
def frozen_alias(cluster, django_db_blocker):
    with django_db_blocker.unblock():
        wrapper = _alias_to(cluster.port)
        yield wrapper
        cluster.signal(signal.SIGCONT)
        wrapper.close()
        connections.settings.pop(ALIAS)


def test_hang_mid_transaction_is_answered_within_a_second(cluster, frozen_alias):
    """After the cut, atomic() must not reconnect on its way out (2 s before)."""
    started = None
    with pytest.raises(OperationalError):
        with database_deadline(ALIAS), transaction.atomic(using=ALIAS):
            with frozen_alias.cursor() as cursor:
                cursor.execute("SELECT 1")
                cluster.signal(signal.SIGSTOP)
                started = time.monotonic()
                cursor.execute("SELECT 2")
    assert time.monotonic() - started < PROMISE
    assert breaker.state != CLOSED


def test_open_breaker_fails_at_once_without_the_database(cluster, frozen_alias):
    breaker.trip("test: remembered outage")
    started = time.monotonic()

    with pytest.raises(DatabaseUnreachable, match="remembered outage"):
        with database_deadline(ALIAS), frozen_alias.cursor() as cursor:
            cursor.execute("SELECT 1")

    assert time.monotonic() - started < 0.05
    assert frozen_alias.connection is None  # never even connected


def test_breaker_closes_once_the_server_answers_again(cluster, frozen_alias):
    breaker.trip("test: outage")
    deadline = time.monotonic() + PROMISE
    while not breaker.allow():  # the monitor's probe finds the server
        assert time.monotonic() < deadline
        time.sleep(0.01)
    breaker.release()

    with database_deadline(ALIAS), frozen_alias.cursor() as cursor:
        cursor.execute("SELECT 1")

    assert breaker.state == CLOSED


def test_connection_dropped_by_a_restart_is_replaced_without_error(
    cluster, frozen_alias
):
    with database_deadline(ALIAS), frozen_alias.cursor() as cursor:
        cursor.execute("SELECT 1")
    cluster.stop()
    cluster.start()
    time.sleep(0.1)  # the server's goodbye reaches our socket

    with database_deadline(ALIAS), frozen_alias.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


class HangingServer:
    """Answers the first `answered` handshakes like PostgreSQL, then nothing.

    As a server that freezes while a connection is being opened looks: our probe
    and libpq's own SSL negotiation get their "N", the startup message never an
    answer, and neither does the watchdog's probe.
    """

    def __init__(self, answered: int = 2):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.answered = answered
        self.accepted = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        with contextlib.suppress(OSError):
            while True:
                sock, _ = self.listener.accept()
                self.accepted.append(sock)
                if len(self.accepted) <= self.answered:
                    sock.recv(8)
                    sock.sendall(b"N")

    def close(self):
        self.listener.close()
        for sock in self.accepted:
            sock.close()


def test_connection_being_opened_when_the_hang_starts_is_cut(django_db_blocker):
    server = HangingServer()
    try:
        with django_db_blocker.unblock():
            wrapper = _alias_to(server.port)
            started = time.monotonic()
            with pytest.raises(OperationalError):
                with database_deadline(ALIAS):
                    wrapper.ensure_connection()
            elapsed = time.monotonic() - started
            wrapper.close()
            connections.settings.pop(ALIAS)
    finally:
        server.close()

    assert elapsed < PROMISE  # psycopg's own connect_timeout: 2 s at least
    assert breaker.state != CLOSED
