"""Call Details as Exotel answers them -> whether and how the call ended."""

import datetime as dt

import pytest

from routing.exotel.call_details import IST, parse_call_details


@pytest.mark.parametrize(
    ("call", "settled", "answered", "talk"),
    [
        (
            {"Status": "completed", "Details": {"Leg2Status": "completed"}},
            True,
            True,
            None,
        ),
        (
            {"Status": "completed", "Details": {"ConversationDuration": "71"}},
            True,
            True,
            71,
        ),
        (
            {
                "Status": "completed",
                "Details": {"Leg2Status": "null", "ConversationDuration": 0},
            },
            True,
            False,
            None,
        ),
        ({"Status": "completed", "Details": {"Leg2Status": "busy"}}, True, False, None),
        ({"Status": "no-answer"}, True, False, None),
        ({"Status": "in-progress"}, False, False, None),
        ({"Status": "ringing", "Details": {}}, False, False, None),
        ({"Status": None, "Details": {"ConversationDuration": 12}}, True, True, 12),
        ({"Status": "", "Details": None}, False, False, None),
    ],
    ids=[
        "agent-leg-completed",
        "conversation-time-alone-means-answered",
        "caller-leg-completed-is-not-an-answer",
        "agent-declined",
        "no-answer",
        "still-in-progress",
        "still-ringing",
        "no-status-but-a-conversation",
        "no-status-no-details",
    ],
)
def test_outcome(call, settled, answered, talk):
    details = parse_call_details(call)
    assert (details.settled, details.answered, details.talk_seconds) == (
        settled,
        answered,
        talk,
    )


def test_fields():
    details = parse_call_details(
        {
            "Status": "completed",
            "To": "09900000001",
            "EndTime": "2024-07-31 16:44:31",
            "RecordingUrl": "https://x.example/r.mp3",
            "Details": {"Leg2Status": "completed", "ConversationDuration": 71},
        }
    )
    assert details.agent_number == "+919900000001"
    assert details.ended_at == dt.datetime(2024, 7, 31, 16, 44, 31, tzinfo=IST)
    assert details.recording_url == "https://x.example/r.mp3"


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("EndTime", "1970-01-01 05:30:00", "ended_at", None),
        ("EndTime", "garbage", "ended_at", None),
        ("To", "sip:agent1a2b3c", "agent_number", ""),
        ("To", "null", "agent_number", ""),
        ("RecordingUrl", "javascript:alert(1)", "recording_url", ""),
        ("RecordingUrl", None, "recording_url", ""),
    ],
    ids=[
        "placeholder-end-time",
        "unreadable-end-time",
        "sip-agent",
        "null-agent",
        "not-a-web-link",
        "no-recording",
    ],
)
def test_what_cannot_be_used_is_left_empty(field, value, attribute, expected):
    details = parse_call_details({"Status": "completed", field: value})
    assert getattr(details, attribute) == expected
