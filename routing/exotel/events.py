"""Programmable Connect's live call events as Exotel sends them (DESIGN section 9).

What Exotel sends to `dial_passthru_event_url` (GET or form POST) becomes a
`ConnectEvent`, or a `ConnectEventError` with a one-line reason. What an event
means for the call is `routing.decision.events`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from routing.exotel.requests import (
    ExotelRequest,
    ExotelRequestError,
    parse_exotel_request,
)
from routing.exotel.statuses import CANCELED, COMPLETED, DIAL_CALL_STATUSES

# A leg's Status while it is answered (its end is one of DIAL_CALL_STATUSES).
ANSWERED_STATUSES = frozenset({"answered", "in-progress"})
MAX_LOGGED_TEXT = 40


class EventKind(StrEnum):
    DIAL = "dial"
    RINGING = "ringing"
    ANSWERED = "answered"
    TERMINAL = "terminal"
    UNKNOWN = "unknown"


# EventType values as written, lowercased; anything else falls back on the status.
EVENT_TYPES = {
    "dial": EventKind.DIAL,
    "dialing": EventKind.DIAL,
    "ringing": EventKind.RINGING,
    "answered": EventKind.ANSWERED,
    "answer": EventKind.ANSWERED,
    "terminal": EventKind.TERMINAL,
    "completed": EventKind.TERMINAL,
    "cancelled": EventKind.TERMINAL,
    "canceled": EventKind.TERMINAL,
}


class ConnectEventError(ValueError):
    """An event that names no call we could look up; the message says why."""


@dataclass(frozen=True)
class ConnectEvent:
    call_sid: str
    kind: EventKind
    number: str = ""  # E.164 of the leg (DialWhomNumber), "" for the whole call
    status: str = ""  # the leg's end: one of DIAL_CALL_STATUSES, or ""
    dial_call_duration: int | None = None
    caller_hung_up: bool = False  # CallType=client-hangup
    event_type: str = ""  # as sent, for the log
    params: dict[str, str] = field(default_factory=dict, compare=False)
    # The same fields read as a Dial Whom request, for the core's writes.
    request: ExotelRequest | None = field(default=None, compare=False)


def parse_connect_event(values: Mapping[str, str]) -> ConnectEvent:
    """Return the typed event for the fields Exotel sent (query or form).

    Names are matched case-insensitively; the event type and statuses are free
    text: what is not recognised is kept for the log and changes nothing.
    """
    try:
        request = parse_exotel_request(values)
    except ExotelRequestError as error:
        raise ConnectEventError(str(error)) from error
    lowered = {
        key.lower(): value.strip().lower()
        for key, value in values.items()
        if value.strip().lower() not in ("", "null")
    }
    event_type = lowered.get("eventtype", "")
    statuses = [
        lowered.get(name, "").replace("cancelled", "canceled")
        for name in ("dialcallstatus", "status", "callstatus")
    ]
    kind = EVENT_TYPES.get(event_type) or _kind_of_status(statuses)
    status = next((status for status in statuses if status in DIAL_CALL_STATUSES), "")
    if not status and event_type in ("completed", "cancelled", "canceled"):
        status = COMPLETED if event_type == "completed" else CANCELED
    return ConnectEvent(
        call_sid=request.call_sid,
        kind=kind,
        number=request.dial_whom_number,
        status=status,
        dial_call_duration=request.dial_call_duration,
        caller_hung_up=request.hangup,
        event_type=event_type[:MAX_LOGGED_TEXT],
        params=request.params,
        request=request,
    )


def _kind_of_status(statuses: list[str]) -> EventKind:
    for status in statuses:
        if status == "ringing":
            return EventKind.RINGING
        if status in ANSWERED_STATUSES:
            return EventKind.ANSWERED
        if status in DIAL_CALL_STATUSES:
            return EventKind.TERMINAL
    return EventKind.UNKNOWN
