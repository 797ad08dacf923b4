"""One call's history: every Exotel request, every offer and every outcome."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from routing.exotel.connect import displayed_answer
from routing.models import Attempt, Call, Outcome, WebhookRequest


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str  # "request", "outcome", "offer", or "ringing"/"answered" (events)
    request: WebhookRequest | None = None
    attempt: Attempt | None = None
    connect_json: str = ""  # a Programmable Connect answer, as JSON


# A request's outcomes are written before the offers it answers with, at the same
# instant: show them in that order.
_ORDER = {"request": 0, "ringing": 1, "answered": 1, "outcome": 2, "offer": 3}


def call_timeline(call: Call) -> list[Event]:
    """Return the call's requests, offers and outcomes in the order they happened."""
    events = [
        Event(
            at=request.received_at,
            kind="request",
            request=request,
            connect_json=_connect_json(call, request),
        )
        for request in WebhookRequest.objects.filter(
            Q(call=call) | Q(call_sid=call.sid)
        )
    ]
    for attempt in Attempt.objects.filter(call=call).select_related("agent", "group"):
        events.append(Event(at=attempt.offered_at, kind="offer", attempt=attempt))
        for kind, moment in (
            ("ringing", attempt.ringing_at),
            ("answered", attempt.answered_at),
        ):
            if moment is not None:
                events.append(Event(at=moment, kind=kind, attempt=attempt))
        if attempt.outcome != Outcome.PENDING and attempt.outcome_at is not None:
            events.append(Event(at=attempt.outcome_at, kind="outcome", attempt=attempt))
    return sorted(
        events,
        key=lambda event: (
            event.at,
            _ORDER[event.kind],
            event.attempt.position if event.attempt else 0,
        ),
    )


def _connect_json(call: Call, request: WebhookRequest) -> str:
    """Render a Connect request's answer as JSON, from the numbers the log keeps.

    The log keeps the decision, not the JSON (whose events URL holds the token):
    the other fields are the group's settings as they are now.
    """
    if (
        request.endpoint != WebhookRequest.Endpoint.CONNECT
        or request.status_code != 200
    ):
        return ""
    numbers = request.response_body.split(",") if request.response_body else []
    return displayed_answer(numbers=numbers, group=call.group)
