"""One call's history: every Exotel request, every offer and every outcome."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from routing.models import Attempt, Call, Outcome, WebhookRequest


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str  # "request", "outcome" or "offer"
    request: WebhookRequest | None = None
    attempt: Attempt | None = None


# A request's outcomes are written before the offers it answers with, at the same
# instant: show them in that order.
_ORDER = {"request": 0, "outcome": 1, "offer": 2}


def call_timeline(call: Call) -> list[Event]:
    """Return the call's requests, offers and outcomes in the order they happened."""
    events = [
        Event(at=request.received_at, kind="request", request=request)
        for request in WebhookRequest.objects.filter(
            Q(call=call) | Q(call_sid=call.sid)
        )
    ]
    for attempt in Attempt.objects.filter(call=call).select_related("agent", "group"):
        events.append(Event(at=attempt.offered_at, kind="offer", attempt=attempt))
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
