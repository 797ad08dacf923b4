"""Exotel's status callback of a call we placed (Connect two numbers).

POSTed as form data or JSON (`../shared/exotel/api.md` 2.1): `CallSid`,
`EventType` (`answered` or `terminal`), `Status`, `ConversationDuration`,
`RecordingUrl`, `CustomField` (ours, in the terminal event only) and `Legs`, as
a JSON array or flattened into `Legs[0][Status]` form keys. Leg 1 is the first
number dialled (the agent), leg 2 the second (the caller). Values may be
empty or the literal "null"; names are matched case-insensitively.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from routing.exotel.call_details import MAX_URL

FAILURES = frozenset({"busy", "no-answer", "failed", "canceled"})
LEG_KEY = re.compile(r"^legs\[(\d+)\]\[(\w+)\]$")


class StatusCallbackError(ValueError):
    """A callback naming no call; the message says why."""


@dataclass(frozen=True)
class StatusCallback:
    call_sid: str
    custom_field: str = ""
    event: str = ""  # "answered", "terminal", or "" (taken as terminal)
    status: str = ""
    talk_seconds: int | None = None
    recording_url: str = ""
    agent_leg: str = ""  # the first leg's status
    caller_leg: str = ""  # the second leg's status

    @property
    def answered(self) -> bool:
        """Return whether the caller and the agent talked (a terminal event)."""
        if self.talk_seconds:
            return True
        return self.status == "completed" and self.caller_leg == "completed"

    @property
    def agent_outcome(self) -> str:
        """Return the outcome of the agent's offer when the call-back failed."""
        for status in (self.agent_leg, self.status):
            if status in FAILURES:
                return status
        return "canceled"


def parse_status_callback(fields: Mapping) -> StatusCallback:
    values: dict[str, str] = {}
    legs: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        name = str(key).strip().lower()
        if name == "legs" and isinstance(value, list):
            for index, leg in enumerate(value):
                if isinstance(leg, Mapping):
                    leg = (
                        leg.get("Leg", leg)
                        if isinstance(leg.get("Leg"), Mapping)
                        else leg
                    )
                    legs[index] = {str(k).lower(): _text(v) for k, v in leg.items()}
            continue
        match = LEG_KEY.match(name)
        if match:
            legs.setdefault(int(match[1]), {})[match[2]] = _text(value)
            continue
        if isinstance(value, str | int | float) or value is None:
            values[name] = _text(value)
    call_sid = values.get("callsid", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", call_sid):
        raise StatusCallbackError("no valid CallSid")
    talk = values.get("conversationduration", "")
    recording = values.get("recordingurl", "")
    if not recording.startswith(("https://", "http://")) or len(recording) > MAX_URL:
        recording = ""
    return StatusCallback(
        call_sid=call_sid,
        custom_field=values.get("customfield", "")[:128],
        event=values.get("eventtype", "").lower(),
        status=values.get("status", "").lower().replace("cancelled", "canceled"),
        talk_seconds=_seconds(talk),
        recording_url=recording,
        agent_leg=legs.get(0, {}).get("status", "").lower(),
        caller_leg=legs.get(1, {}).get("status", "").lower(),
    )


def _text(value) -> str:
    text = "" if value is None else str(value).strip()
    return "" if text.lower() == "null" else text


def _seconds(text: str) -> int | None:
    try:
        return max(int(float(text)), 0) if text else None
    except ValueError:
        return None
