"""The Connect applet's popup URL ("agent pass-through") as Exotel sends it.

A GET per event of each leg: `EventType` Dial, Ringing, Answered or Terminal,
`DialWhomNumber` the agent's number, and `Status` busy or free, the agent's
line (`../shared/exotel/api.md` section 3). `Status` is never a call's outcome,
so it is left out of what the event says (the request log keeps it); the kind
comes from `EventType` alone. What an event does is
`routing.decision.events.apply_popup_event`.
"""

from collections.abc import Mapping
from dataclasses import replace

from routing.exotel.events import ConnectEvent, EventKind, parse_connect_event

LINE_STATE_FIELDS = frozenset({"status", "dialcallstatus", "callstatus"})
POPUP_KINDS = frozenset(
    {EventKind.DIAL, EventKind.RINGING, EventKind.ANSWERED, EventKind.TERMINAL}
)


def parse_popup_event(values: Mapping[str, str]) -> ConnectEvent:
    """Return the typed event; ConnectEventError when it names no call."""
    event = parse_connect_event(
        {
            key: value
            for key, value in values.items()
            if key.lower() not in LINE_STATE_FIELDS
        }
    )
    kind = event.kind if event.kind in POPUP_KINDS else EventKind.UNKNOWN
    return replace(event, kind=kind, status="", dial_call_duration=None)
