"""Bound how long a webhook request may wait for PostgreSQL.

Exotel gives up after 10 seconds; we want an answer within one second even when
the database is gone. The stock timeouts cannot do it: psycopg rounds
`connect_timeout` up to 2 seconds, and a server that hangs (frozen, or cut off by
the network) never trips its own `statement_timeout`. So, on PostgreSQL only:

- a persistent connection's health check gets `DIALWHOM_DB_PROBE_MS`;
- before a new connection is opened, a probe sends the SSLRequest handshake,
  which a live postmaster answers with one byte in a round trip; no byte within
  `DIALWHOM_DB_PROBE_MS` means the database is unreachable;
- while the request uses the connection, a watchdog wakes at
  `DIALWHOM_DB_DEADLINE_MS` and probes the server the same way; only if the
  server does not answer does it shut the connection's socket down, so the call
  waiting on it fails with OperationalError at once instead of waiting on. A
  request that is merely slow (a busy machine) is left alone: answering it from
  the last-known list would ring agents who are already engaged.

Either way the caller sees `django.db.OperationalError`, as for a refused
connection, and answers in degraded mode.
"""

import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

# The SSLRequest packet: length 8, then the magic code 1234.5679.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
DEFAULT_PORT = 5432


class DatabaseUnreachable(OperationalError):
    """The database did not answer the probe in time."""


@contextmanager
def database_deadline(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Make the database work of the block fail fast when PostgreSQL does not answer."""
    wrapper = connections[alias]
    if wrapper.vendor != "postgresql":
        yield
        return
    probe_timeout = settings.DIALWHOM_DB_PROBE_MS / 1000
    deadline = settings.DIALWHOM_DB_DEADLINE_MS / 1000
    with _watchdog(wrapper, deadline, probe_timeout=probe_timeout) as watchdog:
        # Django's health check of a persistent connection, bounded like the
        # rest: a failed one is followed by a new connection, hence a probe.
        wrapper.close_if_health_check_failed()
        if watchdog.cut:
            raise DatabaseUnreachable("the database stopped answering")
        if wrapper.connection is None:
            probe_database(wrapper.settings_dict, probe_timeout)
        yield


def probe_database(settings_dict: dict, timeout: float) -> None:
    """Raise DatabaseUnreachable unless the server answers a handshake in `timeout`.

    A database reached through libpq's default socket (no HOST) is not probed.
    """
    host = settings_dict.get("HOST") or ""
    port = int(settings_dict.get("PORT") or DEFAULT_PORT)
    if not host:
        return
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(f"{host}/.s.PGSQL.{port}")
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
        with sock:
            sock.sendall(SSL_REQUEST)
            reply = sock.recv(1)
    except OSError as error:
        raise DatabaseUnreachable(
            f"database at {host}:{port} did not answer within {timeout:.1f} s: {error}"
        ) from error
    if not reply:
        raise DatabaseUnreachable(f"database at {host}:{port} closed the handshake")


@contextmanager
def _watchdog(wrapper, seconds: float, *, probe_timeout: float) -> Iterator[None]:
    """Cut the connection if the block still runs after `seconds` and the server
    then fails a probe of `probe_timeout`."""
    watchdog = _Watchdog(wrapper, probe_timeout)
    timer = threading.Timer(seconds, watchdog.fire)
    timer.daemon = True
    timer.start()
    try:
        yield watchdog
    finally:
        watchdog.disarm()
        timer.cancel()


class _Watchdog:
    """Shuts the request's database socket down if the deadline passes first."""

    def __init__(self, wrapper, probe_timeout: float):
        self.wrapper = wrapper
        self.probe_timeout = probe_timeout
        self.lock = threading.Lock()
        self.armed = True
        self.cut = False

    def fire(self) -> None:
        if self.armed:
            try:
                probe_database(self.wrapper.settings_dict, self.probe_timeout)
            except DatabaseUnreachable:
                pass
            else:
                return  # alive, only slow: statement_timeout bounds the wait
        with self.lock:
            if not self.armed or self.wrapper.connection is None:
                return
            try:
                descriptor = os.dup(self.wrapper.connection.fileno())
            except (psycopg.Error, OSError):
                return  # the connection is already lost: nothing to cut
            self.cut = True
            with socket.socket(fileno=descriptor) as sock:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already disconnected

    def disarm(self) -> None:
        with self.lock:
            self.armed = False
