"""Exotel's Dial Whom and Passthru requests, parsed into typed values.

Query parameters in, an `ExotelRequest` or an `ExotelRequestError` with a one-line
reason out. No ORM, no clock: the quirks of real traffic are handled here once.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from agents.phones import normalize_phone
from routing.exotel.statuses import DIAL_CALL_STATUSES

CALL_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_DIGITS = 50
MAX_LOGGED_VALUE = 200
MAX_NOTED_VALUE = 40


class ExotelRequestError(ValueError):
    """A request we cannot act on; the message is the one-line reason we answer."""


@dataclass(frozen=True)
class ExotelRequest:
    call_sid: str
    caller: str = ""  # E.164, or "" when absent or unreadable
    exophone: str = ""  # E.164 of the number the call landed on
    digits: str = ""
    dial_whom_number: str = ""  # E.164 of the number Exotel dialled last
    dial_call_status: str = ""  # one of DIAL_CALL_STATUSES, or ""
    dial_call_duration: int | None = None
    hangup: bool = False  # CallType=client-hangup: the caller gave up
    direction: str = ""  # Exotel's Direction, lower-cased ("incoming", ...)
    route: str = ""  # CustomField's route=<slug> (DESIGN 10.5)
    params: dict[str, str] = field(default_factory=dict, compare=False)
    # What the request reports that we cannot read, for the request log's notes.
    ignored: tuple[str, ...] = ()


def parse_exotel_request(query: Mapping[str, str]) -> ExotelRequest:
    """Return the typed request for Exotel's query parameters.

    Names are matched case-insensitively (`CallFrom`/`Callfrom`); `""` and `"null"`
    mean absent; unknown and deprecated parameters are ignored.
    """
    values = _present_values(query)
    call_sid = values.get("callsid", "")
    if not call_sid:
        raise ExotelRequestError("missing CallSid")
    if not CALL_SID.fullmatch(call_sid):
        raise ExotelRequestError("malformed CallSid: expected 1-64 of A-Z a-z 0-9 _ -")
    status = values.get("dialcallstatus", "").lower()
    number = values.get("dialwhomnumber", "")
    ignored = []
    if status and status not in DIAL_CALL_STATUSES:
        ignored.append(
            f"DialCallStatus {status[:MAX_NOTED_VALUE]!r} unknown: not recorded"
        )
    if number and not _phone(number):
        ignored.append(
            f"DialWhomNumber {number[:MAX_NOTED_VALUE]!r} is no phone number: "
            "not recorded"
        )
    direction = values.get("direction", "").lower()[:30]
    caller = _phone(values.get("from") or values.get("callfrom", ""))
    exophone = _phone(values.get("to") or values.get("callto", ""))
    if direction and direction != "incoming":
        # A call Exotel placed: the customer is From, the ExoPhone is CallFrom.
        exophone = _phone(values.get("callfrom", ""))
    return ExotelRequest(
        call_sid=call_sid,
        caller=caller,
        exophone=exophone,
        digits=values.get("digits", "").strip('"').strip()[:MAX_DIGITS],
        dial_whom_number=_phone(number),
        dial_call_status=status if status in DIAL_CALL_STATUSES else "",
        dial_call_duration=_seconds(values.get("dialcallduration", "")),
        hangup=values.get("calltype", "").lower() == "client-hangup",
        direction=direction,
        route=custom_route(values.get("customfield", "")),
        params={key: value[:MAX_LOGGED_VALUE] for key, value in query.items()},
        ignored=tuple(ignored),
    )


ROUTE_PAIR = re.compile(r"(?:^|[;&])\s*route\s*=\s*([-a-zA-Z0-9_]{1,50})\s*(?=[;&]|$)")


def custom_route(text: str) -> str:
    """Return the slug of `route=<slug>` in a CustomField, alone or among `;`- or
    `&`-separated `key=value` pairs; "" when there is none."""
    match = ROUTE_PAIR.search(text)
    return match.group(1) if match else ""


def _present_values(query: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for key, value in query.items():
        # A NUL means nothing in a parameter, and PostgreSQL cannot store one.
        value = value.replace("\x00", "").strip()
        if value and value.lower() != "null":
            values[key.lower()] = value
    return values


def _phone(text: str) -> str:
    if not text:
        return ""
    try:
        return normalize_phone(text, strict=False)
    except ValidationError:
        return ""


def _seconds(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else None
