"""The request log: every Exotel request we accepted or rejected, and our answer."""

import datetime as dt
import time
from dataclasses import dataclass

from django.http import QueryDict

from routing.models import Call, WebhookRequest

MAX_PARAMS = 50
MAX_VALUE = 200


@dataclass(frozen=True)
class Received:
    """What the view knows of a request before any decision."""

    endpoint: str
    params: dict
    started: float  # time.perf_counter() when the request arrived

    @classmethod
    def of(cls, endpoint: str, query: QueryDict, started: float) -> "Received":
        # PostgreSQL stores no NUL character, neither in text nor in JSON.
        params = {
            key.replace("\x00", "")[:MAX_VALUE]: value[:MAX_VALUE].replace("\x00", "")
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
) -> WebhookRequest:
    """Keep a record of one webhook request and our answer to it."""
    return WebhookRequest.objects.create(
        endpoint=received.endpoint,
        params=received.params,
        call=call,
        call_sid=received.params.get("CallSid", "")[:64],
        group_slug=group_slug[:50],
        status_code=status_code,
        response_body=body,
        notes=notes[:200],
        degraded=degraded,
        duration_ms=(time.perf_counter() - received.started) * 1000,
        received_at=now,
    )
