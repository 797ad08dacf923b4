"""Exotel's Call Details (`Calls/<sid>.json?details=true`): what one call became.

The fields and their doubts are `../shared/exotel/api.md` 1.2-1.3. `Status` says
only how the caller's leg ended (`completed` even when no agent answered), so an
inbound call counts as answered when the agent's leg (`Leg2Status`) completed
or both parties were connected (`ConversationDuration` > 0). Numbers and
durations may come as strings or numbers; empty values and the literal "null"
are absent; an `EndTime` in 1970 is Exotel's placeholder. Times carry no zone
and are read as IST.
"""

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from agents.phones import normalize_phone

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
UNSETTLED = frozenset({"queued", "ringing", "in-progress"})
MAX_URL = 500


@dataclass(frozen=True)
class CallDetails:
    settled: bool  # False: the call is not over yet (or Exotel does not say)
    answered: bool = False
    status: str = ""
    talk_seconds: int | None = None
    recording_url: str = ""
    agent_number: str = ""  # E.164 of `To`, when it is a phone number
    ended_at: dt.datetime | None = None

    def describe(self) -> str:
        if not self.settled:
            return f"not over yet (status {self.status or 'none'})"
        result = "answered" if self.answered else "not answered"
        talk = f", {self.talk_seconds} s talk" if self.talk_seconds else ""
        return f"{result} (status {self.status}{talk})"


def parse_call_details(call: Mapping) -> CallDetails:
    """Return what the `Call` object of a Call Details answer says of the call."""
    details = call.get("Details")
    details = details if isinstance(details, Mapping) else {}
    status = _text(call.get("Status")).lower()
    leg2 = _text(details.get("Leg2Status")).lower()
    talk = _seconds(details.get("ConversationDuration"))
    answered = leg2 == "completed" or bool(talk)
    settled = answered or (status != "" and status not in UNSETTLED)
    recording = _text(call.get("RecordingUrl"))
    if not recording.startswith(("https://", "http://")) or len(recording) > MAX_URL:
        recording = ""
    return CallDetails(
        settled=settled,
        answered=answered,
        status=status,
        talk_seconds=talk if answered else None,
        recording_url=recording,
        agent_number=_phone(_text(call.get("To"))),
        ended_at=_moment(_text(call.get("EndTime"))),
    )


def _text(value) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text.lower() == "null" else text


def _seconds(value) -> int | None:
    text = _text(value)
    try:
        return max(int(float(text)), 0) if text else None
    except ValueError:
        return None


def _phone(text: str) -> str:
    if not text or text.lower().startswith("sip:"):
        return ""
    try:
        return normalize_phone(text, strict=False)
    except ValidationError:
        return ""


def _moment(text: str) -> dt.datetime | None:
    if not text or text.startswith("1970-01-01"):
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
    except ValueError:
        return None
