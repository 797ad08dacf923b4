"""Keep what the database could not take during an outage, and replay it after.

While the database is unreachable, a Passthru (how a call ended), a Dial Whom
follow-up's reported outcome and every degraded Dial Whom answer are appended to
this process's spool file in `DIALWHOM_SPOOL_DIR`: one JSON line per request,
fsync'd before the answer goes out, the file capped at `DIALWHOM_SPOOL_MAX_BYTES`.
As soon as the database answers again, a replayer applies the records of every
spool file it can take (this process's, and those of dead processes), in the
order they were received:

- a Passthru through `services.record_call_end`, as of the moment it arrived;
- a Dial Whom follow-up's outcome through `services.record_reported_outcome`,
  which claims no agent (the degraded answer already went out);
- each record as one `WebhookRequest` row, marked degraded, so the call log shows
  which calls were answered from the last-known list.

Each record has an id, written into its request row's notes in the same
transaction that applies it: a record applied once is never applied again, by any
process. A record that conflicts with what happened since (its attempt already
closed) is applied only as far as it still fits, and the conflict is written to
its notes and logged. A file is deleted once every record in it is in the
database.

Files: `spool-<host>-<pid>-<random>.jsonl` while a process appends to it;
a replayer renames it to `replay-<random>.jsonl` under an exclusive lock, so that
the writer starts a new file, and holds the lock while it replays.
"""

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from routing import metrics
from routing.calls import services
from routing.calls.requestlog import Received, log_request
from routing.exotel.requests import ExotelRequestError, parse_exotel_request
from routing.models import Attempt, Call, Outcome, WebhookRequest
from routing.outage.breaker import CLOSED, breaker
from routing.outage.deadline import database_deadline

logger = logging.getLogger(__name__)

SPOOL_PREFIX = "spool-"
REPLAY_PREFIX = "replay-"
SUFFIX = ".jsonl"
# Bounded like the columns they end up in (routing.models.WebhookRequest).
MAX_SLUG = 50
MAX_NOTES = 200
MAX_BODY = 2000


@dataclass
class ReplayReport:
    applied: int = 0
    conflicts: int = 0
    duplicates: int = 0
    unreadable: int = 0
    remaining: int = 0
    errors: list[str] = field(default_factory=list)


def keep(
    *,
    received: Received,
    group_slug: str,
    status: int,
    body: str,
    notes: str,
) -> bool:
    """Append the request to this process's spool file; return whether it is kept.

    Only parsed requests are kept (a well-formed CallSid): the others are
    answered 400 and have nothing to record.
    """
    endpoint, params = received.endpoint, received.params
    record = {
        "id": secrets.token_hex(16),
        "endpoint": endpoint,
        "received_at": timezone.now().isoformat(),
        "params": params,
        "group": group_slug[:MAX_SLUG],
        "status": status,
        "body": body[:MAX_BODY],
        "notes": notes[:MAX_NOTES],
        "ms": round((time.perf_counter() - received.started) * 1000, 1),
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    try:
        kept = _writer().append(line)
    except OSError as error:
        logger.error("cannot spool a %s request: %s", endpoint, error)
        kept = False
    if kept:
        metrics.SPOOLED.labels(endpoint=endpoint).inc()
    else:
        metrics.SPOOL_DROPPED.labels(endpoint=endpoint).inc()
    return kept


class _Writer:
    """Appends to one process's spool file: locked, fsync'd, capped."""

    def __init__(self, directory: Path):
        self.pid = os.getpid()
        self.directory = directory
        self.path = directory / (
            f"{SPOOL_PREFIX}{socket.gethostname()}-{self.pid}-"
            f"{secrets.token_hex(4)}{SUFFIX}"
        )
        self.lock = threading.Lock()

    def append(self, line: bytes) -> bool:
        limit = settings.DIALWHOM_SPOOL_MAX_BYTES
        with self.lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            while True:
                created = not self.path.exists()
                descriptor = os.open(
                    self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
                )
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX)
                    if not _is_current(descriptor, self.path):
                        continue  # a replayer took the file: start a new one
                    size = os.fstat(descriptor).st_size
                    if size + len(line) > limit:
                        logger.error(
                            "spool file %s is full (%d bytes): request not kept",
                            self.path,
                            size,
                        )
                        return False
                    os.write(descriptor, line)
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
                if created:
                    _sync_directory(self.directory)
                return True


def _is_current(descriptor: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(descriptor).st_ino
    except FileNotFoundError:
        return False


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_writer_lock = threading.Lock()
_the_writer: _Writer | None = None


def _writer() -> _Writer:
    global _the_writer
    directory = Path(settings.DIALWHOM_SPOOL_DIR)
    with _writer_lock:
        writer = _the_writer
        if writer is None or writer.pid != os.getpid() or writer.directory != directory:
            writer = _the_writer = _Writer(directory)
        return writer


def pending_records(directory: Path | None = None) -> int:
    """Return how many records wait in the spool files (complete lines)."""
    directory = Path(directory or settings.DIALWHOM_SPOOL_DIR)
    total = 0
    for path in _spool_files(directory):
        try:
            total += path.read_bytes().count(b"\n")
        except OSError:
            continue
    return total


def _spool_files(directory: Path) -> list[Path]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(
        directory / name
        for name in names
        if name.endswith(SUFFIX) and name.startswith((SPOOL_PREFIX, REPLAY_PREFIX))
    )


class _Claimed:
    """A spool file this replayer holds the lock of."""

    def __init__(self, path: Path, descriptor: int):
        self.path = path
        self.descriptor = descriptor

    def records(self, report: ReplayReport) -> list[dict]:
        with open(self.descriptor, "rb", closefd=False) as stream:
            stream.seek(0)
            lines = stream.read().split(b"\n")
        records = []
        # A last line without its newline was torn by a crash mid-write: the
        # request it held was never answered, so nothing was promised for it.
        for line in lines[:-1]:
            try:
                records.append(json.loads(line))
            except ValueError:
                report.unreadable += 1
                logger.error("unreadable spool record in %s: %r", self.path, line[:200])
        return records

    def release(self, *, delete: bool) -> None:
        if delete:
            self.path.unlink(missing_ok=True)
            _sync_directory(self.path.parent)
        os.close(self.descriptor)


def _claim_files(directory: Path) -> list[_Claimed]:
    """Take every spool file no other process is appending to or replaying."""
    claimed = []
    for path in _spool_files(directory):
        try:
            descriptor = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue  # busy: the next round takes it
        if not _is_current(descriptor, path):
            os.close(descriptor)
            continue
        if path.name.startswith(SPOOL_PREFIX):
            # The writer then sees its path is gone and starts a new file.
            replaying = directory / f"{REPLAY_PREFIX}{secrets.token_hex(8)}{SUFFIX}"
            os.rename(path, replaying)
            _sync_directory(directory)
            path = replaying
        claimed.append(_Claimed(path, descriptor))
    return claimed


_replay_lock = threading.Lock()


def replay_pending(directory: Path | None = None) -> ReplayReport:
    """Apply every spooled record this process can take, oldest first.

    Stops at the first database failure: what was not applied stays spooled.
    """
    report = ReplayReport()
    directory = Path(directory or settings.DIALWHOM_SPOOL_DIR)
    with _replay_lock:
        claimed = _claim_files(directory)
        entries = [
            (record.get("received_at", ""), index, order, record, file)
            for index, file in enumerate(claimed)
            for order, record in enumerate(file.records(report))
        ]
        entries.sort(key=lambda entry: entry[:3])
        done = {file.path: True for file in claimed}
        for position, (_, _, _, record, _file) in enumerate(entries):
            try:
                result = replay_record(record)
            except DatabaseError as error:
                report.errors.append(str(error))
                report.remaining = len(entries) - position
                for _, _, _, _, left in entries[position:]:
                    done[left.path] = False
                logger.warning(
                    "spool replay stopped, %d records left: %s", report.remaining, error
                )
                break
            except (ExotelRequestError, KeyError, TypeError, ValueError) as error:
                report.unreadable += 1
                logger.error("spool record dropped, cannot be replayed: %s", error)
                continue
            setattr(report, result, getattr(report, result) + 1)
            metrics.REPLAYED.labels(result=result).inc()
        for file in claimed:
            file.release(delete=done[file.path])
    if report.applied or report.conflicts or report.duplicates:
        logger.info(
            "spool replayed: %d applied, %d conflicts, %d already applied",
            report.applied,
            report.conflicts,
            report.duplicates,
        )
    return report


def replay_record(record: dict) -> str:
    """Apply one record; return "applied", "conflicts" or "duplicates"."""
    record_id = str(record["id"])[:32]
    received_at = dt.datetime.fromisoformat(record["received_at"])
    endpoint = str(record.get("endpoint", ""))
    received = Received.of(
        endpoint,
        record.get("params") or {},
        time.perf_counter() - float(record.get("ms", 0)) / 1000,
    )
    request = parse_exotel_request(received.params)
    tag = f"spool {record_id}"
    with transaction.atomic():
        _serialise(record_id)
        if WebhookRequest.objects.filter(
            call_sid=request.call_sid, notes__startswith=tag
        ).exists():
            return "duplicates"
        call = Call.objects.select_related("group").filter(sid=request.call_sid).first()
        conflict = _conflict(call, request)
        applied = _apply(endpoint, request, call, now=received_at)
        call = applied or call
        note = conflict or applied_note(endpoint, request, call)
        log_request(
            received,
            call=call,
            group_slug=(call.group.slug if call and call.group else "")
            or str(record.get("group", "")),
            status_code=int(record.get("status", 200)),
            body=str(record.get("body", ""))[:MAX_BODY],
            notes=f"{tag}: {note}; {record.get('notes', '')}",
            now=received_at,
            degraded=True,
        )
    if conflict:
        logger.warning("spool record %s for %s: %s", record_id, request.call_sid, note)
        return "conflicts"
    return "applied"


def _serialise(record_id: str) -> None:
    # SQLite's IMMEDIATE transactions already serialise writers.
    if connection.vendor == "postgresql":
        key = int.from_bytes(
            hashlib.blake2b(record_id.encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _reports_outcome(request) -> bool:
    return bool(request.dial_whom_number and request.dial_call_status)


def _conflict(call: Call | None, request) -> str:
    """Say how the record disagrees with what the database learnt since."""
    if call is None or not _reports_outcome(request):
        return ""
    attempt = (
        Attempt.objects.filter(call=call, number=request.dial_whom_number)
        .only("outcome", "outcome_at")
        .first()
    )
    if attempt is None or attempt.outcome == Outcome.PENDING:
        return ""
    return (
        f"conflict: {request.dial_whom_number} was already closed as "
        f"{attempt.outcome} at {attempt.outcome_at:%H:%M:%S}; kept"
    )


def _apply(endpoint: str, request, call: Call | None, *, now: dt.datetime):
    """Apply what the request reports, as the live endpoint would have."""
    if call is None:
        return None
    if endpoint == WebhookRequest.Endpoint.PASSTHRU:
        return services.record_call_end(request=request, now=now)
    if _reports_outcome(request):
        # The degraded answer went out long ago: record the outcome, claim no one.
        return services.record_reported_outcome(request=request, now=now)
    return None


def applied_note(endpoint: str, request, call: Call | None) -> str:
    if call is None:
        return "replayed: unknown CallSid, nothing to apply"
    if endpoint == WebhookRequest.Endpoint.PASSTHRU:
        return "replayed: call end recorded"
    if _reports_outcome(request):
        return f"replayed: {request.dial_call_status} recorded"
    return "replayed"


class _Replayer:
    """A background thread that replays the spool when the database is back."""

    def __init__(self):
        self.pid = os.getpid()
        self.wanted = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="dialwhom-spool-replayer", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        interval = settings.DIALWHOM_SPOOL_REPLAY_SECONDS
        self.wanted.set()  # a fresh worker looks for files of dead ones
        while True:
            self.wanted.wait(interval)
            self.wanted.clear()
            if breaker.state != CLOSED or not _spool_files(
                Path(settings.DIALWHOM_SPOOL_DIR)
            ):
                continue
            try:
                with database_deadline():
                    # Claim no file before the database answers: a claimed file
                    # makes its writer start a new one.
                    connection.ensure_connection()
                    replay_pending()
            except DatabaseError as error:
                logger.warning("spool replay failed: %s", error)
            except Exception:
                logger.exception("spool replay failed")
            finally:
                connection.close()  # this thread's own connection


_the_replayer: _Replayer | None = None


def start_replayer() -> None:
    """Start this process's replayer (gunicorn's post_worker_init calls this)."""
    global _the_replayer
    if _the_replayer is not None and _the_replayer.pid == os.getpid():
        return
    replayer = _the_replayer = _Replayer()
    breaker.on_change(lambda state: replayer.wanted.set() if state == CLOSED else None)
