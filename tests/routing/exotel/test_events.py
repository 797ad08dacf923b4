"""Programmable Connect's events as Exotel sends them, parsed into typed values."""

import pytest

from routing.exotel.events import ConnectEventError, EventKind, parse_connect_event

SID = "23c162077629863c1a2d7f29263a162m"
NUMBERS = {
    "A": "+919900000001",
    "B": "+919900000002",
    "C": "+919900000003",
    "D": "+919900000004",
}


# Parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "kind", "number", "status"),
    [
        pytest.param(
            {"EventType": "Dial", "DialWhomNumber": "09900000001"},
            EventKind.DIAL,
            NUMBERS["A"],
            "",
            id="dial-national-number",
        ),
        pytest.param(
            {"eventtype": "ringing", "dialwhomnumber": "+919900000001"},
            EventKind.RINGING,
            NUMBERS["A"],
            "",
            id="names-in-lower-case",
        ),
        pytest.param(
            {"EVENTTYPE": "ANSWERED", "DialWhomNumber": "919900000001"},
            EventKind.ANSWERED,
            NUMBERS["A"],
            "",
            id="values-in-upper-case",
        ),
        pytest.param(
            {"EventType": "Terminal", "DialCallStatus": "completed"},
            EventKind.TERMINAL,
            "",
            "completed",
            id="terminal-of-the-call",
        ),
        pytest.param(
            {"EventType": "Completed", "DialCallStatus": "null"},
            EventKind.TERMINAL,
            "",
            "completed",
            id="completed-as-event-type",
        ),
        pytest.param(
            {"EventType": "Cancelled", "DialWhomNumber": "09900000002"},
            EventKind.TERMINAL,
            NUMBERS["B"],
            "canceled",
            id="cancelled-as-event-type",
        ),
        pytest.param(
            {"Status": "Cancelled", "DialWhomNumber": "09900000002"},
            EventKind.TERMINAL,
            NUMBERS["B"],
            "canceled",
            id="british-spelling-of-a-status",
        ),
        pytest.param(
            {"CallStatus": "ringing", "DialWhomNumber": "09900000001"},
            EventKind.RINGING,
            NUMBERS["A"],
            "",
            id="kind-from-the-call-status",
        ),
        pytest.param(
            {"Status": "in-progress", "DialWhomNumber": "09900000001"},
            EventKind.ANSWERED,
            NUMBERS["A"],
            "",
            id="in-progress-is-answered",
        ),
        pytest.param(
            {"EventType": "Terminal", "DialCallStatus": "busy", "Status": "completed"},
            EventKind.TERMINAL,
            "",
            "busy",
            id="the-leg-status-comes-first",
        ),
        pytest.param(
            {"EventType": "Queued", "CallStatus": "null"},
            EventKind.UNKNOWN,
            "",
            "",
            id="unknown-type-kept-as-information",
        ),
        pytest.param(
            {"EventType": "", "DialWhomNumber": "not a number"},
            EventKind.UNKNOWN,
            "",
            "",
            id="unreadable-number-is-absent",
        ),
    ],
)
def test_parse_connect_event(fields, kind, number, status):
    event = parse_connect_event({"CallSid": SID, **fields})
    assert (event.call_sid, event.kind, event.number, event.status) == (
        SID,
        kind,
        number,
        status,
    )


def test_parse_keeps_duration_hang_up_and_the_fields():
    event = parse_connect_event(
        {
            "CallSid": SID,
            "EventType": "Terminal",
            "CallType": "client-hangup",
            "DialCallDuration": "42",
            "RecordingUrl": "https://recordings.example.com/1.mp3",
        }
    )
    assert event.caller_hung_up
    assert event.dial_call_duration == 42
    assert event.event_type == "terminal"
    assert event.params["RecordingUrl"] == "https://recordings.example.com/1.mp3"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param({"EventType": "Answered"}, "missing CallSid", id="no-call-sid"),
        pytest.param(
            {"CallSid": "a b", "EventType": "Answered"},
            "malformed CallSid",
            id="malformed-call-sid",
        ),
    ],
)
def test_an_event_without_a_call_is_an_error(fields, reason):
    with pytest.raises(ConnectEventError, match=reason):
        parse_connect_event(fields)
