"""Programmable Connect's answer (DESIGN section 9): the routing decision as JSON.

A second renderer of the decision Dial Whom answers as text: the same numbers, in
the same order, with the group's Connect settings beside them. Plain data in, a
dict out; no ORM, no HTTP.
"""

import json
from dataclasses import dataclass

# The events URL as pages show it: the token is a secret.
DISPLAYED_EVENTS_URL = "/exotel/***/connect-events/"


@dataclass(frozen=True)
class ConnectSettings:
    """What a group says in the JSON beside the numbers; empty = left out."""

    ring_seconds: int | None = None
    fetch_after_attempt: bool = True
    parallel_ringing: bool = False
    caller_id: str = ""
    record: bool | None = None
    recording_channels: str = ""
    max_conversation_seconds: int | None = None
    music_on_hold: str = ""
    connect_message: str = ""
    connect_message_to: str = "both"

    @classmethod
    def of_group(cls, group) -> "ConnectSettings":
        """Return the settings of `group` (an AgentGroup), or the defaults for None."""
        if group is None:
            return cls()
        return cls(
            ring_seconds=group.ring_seconds,
            fetch_after_attempt=group.fetch_after_attempt,
            parallel_ringing=group.parallel_ringing,
            caller_id=group.caller_id,
            record=group.record,
            recording_channels=group.recording_channels,
            max_conversation_seconds=group.max_conversation_seconds,
            music_on_hold=group.music_on_hold,
            connect_message=group.connect_message,
            connect_message_to=group.connect_message_to,
        )


def render_connect_answer(
    *, numbers: list[str], settings: ConnectSettings, events_url: str
) -> dict:
    """Return the JSON object that tells the Connect applet whom to dial, and how.

    `numbers` are the decision, in order (empty: the applet's "not answered"
    branch). Parallel ringing is asked for only when the group rings in parallel
    and there is a number to ring.
    """
    answer: dict = {
        "fetch_after_attempt": settings.fetch_after_attempt,
        "destination": {"numbers": list(numbers)},
    }
    if settings.ring_seconds:
        answer["max_ringing_duration"] = settings.ring_seconds
    if settings.parallel_ringing and numbers:
        answer["parallel_ringing"] = {
            "activate": True,
            "max_parallel_attempts": len(numbers),
        }
    answer["dial_passthru_event_url"] = events_url
    if settings.caller_id:
        answer["outgoing_phone_number"] = settings.caller_id
    if settings.record is not None:
        answer["record"] = settings.record
    if settings.recording_channels:
        answer["recording_channels"] = settings.recording_channels
    if settings.max_conversation_seconds:
        answer["max_conversation_duration"] = settings.max_conversation_seconds
    if settings.music_on_hold:
        answer["music_on_hold"] = {"type": settings.music_on_hold}
    if settings.connect_message:
        answer["start_call_playback"] = {
            "playback_to": settings.connect_message_to,
            "type": "text",
            "value": settings.connect_message,
        }
    return answer


def displayed_answer(*, numbers: list[str], group) -> str:
    """Return the answer for `numbers` as supervisors see it: JSON, token masked."""
    answer = render_connect_answer(
        numbers=numbers,
        settings=ConnectSettings.of_group(group),
        events_url=DISPLAYED_EVENTS_URL,
    )
    return json.dumps(answer, indent=2)
