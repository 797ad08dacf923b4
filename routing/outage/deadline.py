"""Bound how long a webhook request may wait for PostgreSQL.

Exotel gives up after 10 seconds; we want an answer within one second even when
the database is gone. The stock timeouts cannot do it: psycopg rounds
`connect_timeout` up to 2 seconds, and a server that hangs (frozen, or cut off by
the network) never trips its own `statement_timeout`. So, on PostgreSQL only,
inside `database_deadline()`:

- while the process's circuit breaker (`routing.outage.breaker`) remembers an outage,
  the block fails at once, before any database work;
- a persistent connection is not health-checked with a round trip: its socket
  is polled instead (a server that restarted or dropped it has said so, and it
  is replaced by a new connection);
- before a new connection is opened, a probe sends the SSLRequest handshake,
  which a live postmaster answers with one byte in a round trip; no byte within
  `DIALWHOM_DB_PROBE_MS` means the database is unreachable;
- one watchdog thread per process wakes at `DIALWHOM_DB_DEADLINE_MS` of each
  block still running and probes the server the same way; only if the server
  does not answer does it shut the block's socket down (the established
  connection, or one still being opened), so the call waiting on it fails with
  OperationalError at once. A request that is merely slow (a busy machine) is
  left alone and looked at again a deadline later: answering it from the
  last-known list would ring agents who are already engaged;
- after a cut, nothing in the block opens a connection again (Django's
  `atomic()` would reconnect on its way out to restore autocommit).

Either way the caller sees `django.db.OperationalError`, as for a refused
connection, and answers in degraded mode; the breaker is then open.
"""

import os
import select
import socket
import stat
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

from routing.outage.breaker import breaker

# The SSLRequest packet: length 8, then the magic code 1234.5679.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
DEFAULT_PORT = 5432


class DatabaseUnreachable(OperationalError):
    """The database did not answer in time, or is remembered as down."""


@contextmanager
def database_deadline(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Make the database work of the block fail fast when PostgreSQL does not answer."""
    wrapper = connections[alias]
    if wrapper.vendor != "postgresql":
        yield
        return
    if not breaker.allow():
        raise DatabaseUnreachable(f"database unreachable ({breaker.reason})")
    _drop_if_stale(wrapper)
    guard = _Guard(
        wrapper,
        deadline=settings.DIALWHOM_DB_DEADLINE_MS / 1000,
        probe_timeout=settings.DIALWHOM_DB_PROBE_MS / 1000,
    )
    monitor = _monitor()
    monitor.arm(guard)
    # An instance attribute shadows the method for this block only.
    wrapper.connect = guard.connect
    try:
        yield
    finally:
        monitor.disarm(guard)
        del wrapper.connect
        if not guard.cut and wrapper.connection is not None and guard.used:
            breaker.succeeded()
        else:
            breaker.release()


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
                sock.connect(_unix_socket_path(host, port))
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


def _unix_socket_path(directory: str, port: int) -> str:
    return f"{directory}/.s.PGSQL.{port}"


def _drop_if_stale(wrapper) -> None:
    """Close a persistent connection the server has already given up on.

    A live idle connection has nothing to read; one the server terminated (a
    restart, an idle timeout) has its goodbye or end-of-file waiting. One poll
    of the socket, no round trip.
    """
    connection = wrapper.connection
    if connection is None or wrapper.in_atomic_block:
        return
    try:
        stale = connection.closed or connection.broken
        if not stale:
            # poll, not select: no limit on the descriptor's number.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            stale = bool(poller.poll(0))
    except (psycopg.Error, OSError, ValueError):
        stale = True
    if stale:
        wrapper.close()


class _Guard:
    """One block's deadline, and what the watchdog did to it."""

    def __init__(self, wrapper, *, deadline: float, probe_timeout: float):
        self.wrapper = wrapper
        self.deadline = deadline
        self.probe_timeout = probe_timeout
        self.due = time.monotonic() + deadline
        self.lock = threading.Lock()
        self.armed = True
        self.cut = False
        self.connecting = False
        self.used = wrapper.connection is not None

    def connect(self) -> None:
        """Open the block's connection: probed first, bounded, never after a cut."""
        if self.cut:
            raise DatabaseUnreachable("the database stopped answering")
        try:
            probe_database(self.wrapper.settings_dict, self.probe_timeout)
        except DatabaseUnreachable as error:
            breaker.trip(str(error))
            raise
        self.connecting = True
        try:
            type(self.wrapper).connect(self.wrapper)
        except Exception as error:
            breaker.trip(f"cannot connect: {error}")
            raise
        finally:
            self.connecting = False
        if self.cut:  # the watchdog cut the connection as it was being opened
            raise DatabaseUnreachable("the database stopped answering")
        self.used = True

    def server(self) -> tuple[str, str]:
        return (self.wrapper.settings_dict["HOST"], self.wrapper.settings_dict["PORT"])

    def probe(self) -> str:
        """Probe the block's server; return why it is unreachable, "" if it answered."""
        try:
            probe_database(self.wrapper.settings_dict, self.probe_timeout)
        except DatabaseUnreachable as error:
            return str(error)
        return ""

    def fire(self, unreachable: str) -> bool:
        """Cut the block's sockets if the probe found the server gone.

        Return whether the guard needs looking at again (the server answered).
        """
        if not unreachable:
            return True  # alive, only slow: look again a deadline later
        reason = unreachable
        settings_dict = self.wrapper.settings_dict
        with self.lock:
            if not self.armed:
                return False
            self.cut = True
            connection = self.wrapper.connection
            if connection is not None:
                try:
                    _shut_down(connection.fileno())
                except (psycopg.Error, OSError, ValueError):
                    pass  # already lost: nothing to cut
            if self.connecting:
                _shut_down_sockets_to(settings_dict)
        breaker.trip(reason)
        return False


def _shut_down(descriptor: int) -> None:
    # A duplicate, so that closing our socket object leaves the original alone;
    # shutting it down ends the connection for both.
    with socket.socket(fileno=os.dup(descriptor)) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already disconnected


def _shut_down_sockets_to(settings_dict: dict) -> None:
    """Shut down this process's sockets to the database server (Linux).

    A connection being opened has no descriptor we can ask psycopg for: find it
    among the process's sockets by its peer. Only called once the server failed
    a probe, so every connection to it is dead anyway.
    """
    host = settings_dict.get("HOST") or ""
    port = int(settings_dict.get("PORT") or DEFAULT_PORT)
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for descriptor in descriptors:
        try:
            if not stat.S_ISSOCK(os.fstat(descriptor).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(descriptor))
        except OSError:
            continue
        with sock:
            try:
                peer = sock.getpeername()
            except OSError:
                continue
            if host.startswith("/"):
                matches = peer == _unix_socket_path(host, port)
            else:
                matches = isinstance(peer, tuple) and peer[1] == port
            if matches:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Monitor:
    """The process's one watchdog thread: deadlines, and probes while down.

    Arming a deadline costs a lock and, when the thread is idle, one wake-up:
    no thread per request.
    """

    def __init__(self):
        self.pid = os.getpid()
        self.condition = threading.Condition()
        self.guards: set[_Guard] = set()
        self.waiting_until: float | None = None
        self.thread = threading.Thread(
            target=self._run, name="dialwhom-database-monitor", daemon=True
        )
        self.thread.start()

    def arm(self, guard: _Guard) -> None:
        with self.condition:
            self.guards.add(guard)
            if self.waiting_until is None or guard.due < self.waiting_until:
                self.condition.notify()

    def disarm(self, guard: _Guard) -> None:
        with guard.lock:
            guard.armed = False
        with self.condition:
            self.guards.discard(guard)

    def wake(self) -> None:
        with self.condition:
            self.condition.notify()

    def _run(self) -> None:
        while True:
            due = self._next_due()
            # One probe per server for every block due now, not one after another.
            verdicts: dict[tuple[str, str], str] = {}
            for guard in due:
                if guard.server() not in verdicts:
                    verdicts[guard.server()] = guard.probe()
                if guard.fire(verdicts[guard.server()]):
                    guard.due = time.monotonic() + guard.deadline
                else:
                    with self.condition:
                        self.guards.discard(guard)
            interval = settings.DIALWHOM_BREAKER_PROBE_INTERVAL_MS / 1000
            if breaker.probe_due(interval):
                self._probe(interval)

    def _next_due(self) -> list[_Guard]:
        """Sleep until a deadline passes or a probe is due; return the guards due."""
        interval = settings.DIALWHOM_BREAKER_PROBE_INTERVAL_MS / 1000
        with self.condition:
            while True:
                moment = time.monotonic()
                due = [guard for guard in self.guards if guard.due <= moment]
                if due or breaker.probe_due(interval):
                    self.waiting_until = None
                    return due
                candidates = [guard.due for guard in self.guards]
                probe_in = breaker.seconds_to_probe(interval)
                if probe_in is not None:
                    candidates.append(moment + probe_in)
                self.waiting_until = min(candidates) if candidates else None
                timeout = (
                    None if self.waiting_until is None else self.waiting_until - moment
                )
                self.condition.wait(timeout)

    def _probe(self, interval: float) -> None:
        breaker.probe_started()
        try:
            probe_database(
                connections[DEFAULT_DB_ALIAS].settings_dict,
                settings.DIALWHOM_DB_PROBE_MS / 1000,
            )
        except DatabaseUnreachable:
            return
        breaker.probe_answered()


_monitor_lock = threading.Lock()
_the_monitor: _Monitor | None = None


def _monitor() -> _Monitor:
    """Return this process's monitor, started on first use (after any fork)."""
    global _the_monitor
    monitor = _the_monitor
    if monitor is not None and monitor.pid == os.getpid():
        return monitor
    with _monitor_lock:
        if _the_monitor is None or _the_monitor.pid != os.getpid():
            _the_monitor = _Monitor()
        return _the_monitor


def watch_breaker() -> None:
    """Wake the monitor when the breaker opens (from `RoutingConfig.ready`)."""
    breaker.on_change(lambda state: _monitor().wake())
