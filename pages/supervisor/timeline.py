"""One call's history: every Exotel request, every offer and every outcome."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import formats, timezone

from agents.models import Caller
from agents.skills import describe_needs, stored_needs
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


def route_lines(call: Call) -> list[str]:
    """Say, in plain words, the call's route, its needs and when they relaxed,
    and what its caller is known for (DESIGN 10.4)."""
    lines = []
    if call.route is not None:
        lines.append(f"Route {call.route.slug}.")
    needs = stored_needs(call.needs)
    if needs:
        text = describe_needs(needs)
        text = text[0].upper() + text[1:]
        if call.relax_after is None:
            lines.append(f"{text}; only agents who meet them, never relaxed.")
        elif call.relax_after == 0:
            lines.append(f"{text}; a preference from the start.")
        else:
            at = formats.date_format(
                timezone.localtime(call.relaxes_at), "DATETIME_FORMAT"
            )
            lines.append(
                f"{text}; only agents who meet them for {call.relax_after} s, "
                f"relaxed at {at}."
            )
    if call.direction and call.direction != "incoming":
        lines.append(f"A call Exotel placed ({call.direction}).")
    known = Caller.objects.filter(number=call.caller).first() if call.caller else None
    if known is not None:
        facts = [
            fact
            for fact, present in (
                ("VIP", known.vip),
                ("blocked", known.blocked),
                (f"owner {known.owner}", known.owner_id),
            )
            if present
        ]
        about = f" ({', '.join(facts)})" if facts else ""
        notes = f": {known.notes}" if known.notes else ""
        lines.append(f"Known caller{about}{notes}")
    return lines
