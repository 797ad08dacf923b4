"""The request log: every Exotel request we accepted or rejected, and our answer."""

import datetime as dt
import re
import time
from dataclasses import dataclass

from django.db import connection
from django.http import QueryDict

from agents.sql import COMMA, Sql, execute
from routing.models import Call, WebhookRequest

MAX_PARAMS = 50
MAX_VALUE = 200
# What no database stores: NUL (PostgreSQL, in text or JSON) and a lone UTF-16
# surrogate (not UTF-8: PostgreSQL's DataError, SQLite's UnicodeEncodeError). A
# JSON body's "\ud800" decodes to one; a pair decodes to one character.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Return `text` without NUL, each lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE.sub(lambda found: "" if found[0] == "\x00" else "\ufffd", text)


@dataclass(frozen=True)
class Received:
    """What the view knows of a request before any decision."""

    endpoint: str
    params: dict
    started: float  # time.perf_counter() when the request arrived

    @classmethod
    def of(cls, endpoint: str, query: QueryDict, started: float) -> "Received":
        params = {
            storable(key)[:MAX_VALUE]: storable(value[:MAX_VALUE])
            for key, value in list(query.items())[:MAX_PARAMS]
        }
        return cls(endpoint=endpoint, params=params, started=started)


def log_request(
    received: Received,
    *,
    call: Call | None,
    group_slug: str,
    status_code: int,
    body: str,
    notes: str,
    now: dt.datetime,
    degraded: bool = False,
) -> None:
    """Keep a record of one webhook request and our answer to it, on its own."""
    execute(
        insert_log(
            received,
            Sql.param(call.pk if call else None),
            group_slug=group_slug,
            status_code=status_code,
            body=body,
            notes=notes,
            now=now,
            degraded=degraded,
        )
    )


def insert_log(
    received: Received,
    call_id: Sql,
    *,
    group_slug: str,
    status_code: int,
    body: str,
    notes: str,
    now: dt.datetime,
    degraded: bool = False,
) -> Sql:
    """The request's log row, every value within its column."""
    ops = connection.ops
    values = [
        received.params.get("CallSid", "")[:64],
        received.endpoint,
        group_slug[:50],
        ops.adapt_json_value(received.params, None),
        status_code,
        body,
        notes[:200],
        degraded,
        (time.perf_counter() - received.started) * 1000,
        ops.adapt_datetimefield_value(now),
    ]
    return (
        f"INSERT INTO {WebhookRequest._meta.db_table} (call_id, call_sid, endpoint,"
        " group_slug, params, status_code, response_body, notes, degraded,"
        " duration_ms, received_at) VALUES ("
        + call_id
        + ", "
        + COMMA.join(Sql.param(value) for value in values)
        + ")"
    )
