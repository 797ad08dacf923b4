"""Programmable Connect's JSON answer: the decision's numbers and the group's settings."""

import json

import pytest

from agents.models import AgentGroup
from routing.exotel.connect import (
    ConnectSettings,
    render_connect_answer,
)

URL = "https://dialwhom.example.com/exotel/t0ken/connect-events/"
A, B, C = "+919900000001", "+919900000002", "+919900000003"
EVERYTHING = ConnectSettings(
    ring_seconds=25,
    fetch_after_attempt=False,
    parallel_ringing=True,
    caller_id="+918047190001",
    record=True,
    recording_channels="dual",
    max_conversation_seconds=3600,
    music_on_hold="operator_tone",
    connect_message="This call may be recorded",
    connect_message_to="callee",
)
# What EVERYTHING adds to the answer.
EVERYTHING_FIELDS = {
    "outgoing_phone_number": "+918047190001",
    "record": True,
    "recording_channels": "dual",
    "max_conversation_duration": 3600,
    "music_on_hold": {"type": "operator_tone"},
    "start_call_playback": {
        "playback_to": "callee",
        "type": "text",
        "value": "This call may be recorded",
    },
}


@pytest.mark.parametrize(
    ("numbers", "group_settings", "expected"),
    [
        pytest.param(
            [A, B],
            ConnectSettings(ring_seconds=30),
            {
                "fetch_after_attempt": True,
                "destination": {"numbers": [A, B]},
                "max_ringing_duration": 30,
                "dial_passthru_event_url": URL,
            },
            id="defaults-leave-every-optional-field-out",
        ),
        pytest.param(
            [A, B, C],
            EVERYTHING,
            {
                "fetch_after_attempt": False,
                "destination": {"numbers": [A, B, C]},
                "max_ringing_duration": 25,
                "parallel_ringing": {"activate": True, "max_parallel_attempts": 3},
                "dial_passthru_event_url": URL,
                **EVERYTHING_FIELDS,
            },
            id="every-setting-a-group-sets",
        ),
        pytest.param(
            [A],
            ConnectSettings(ring_seconds=30, parallel_ringing=True, record=False),
            {
                "fetch_after_attempt": True,
                "destination": {"numbers": [A]},
                "max_ringing_duration": 30,
                "parallel_ringing": {"activate": True, "max_parallel_attempts": 1},
                "dial_passthru_event_url": URL,
                "record": False,
            },
            id="parallel-attempts-are-the-numbers-answered",
        ),
        pytest.param(
            [],
            EVERYTHING,
            {
                "fetch_after_attempt": False,
                "destination": {"numbers": []},
                "max_ringing_duration": 25,
                "dial_passthru_event_url": URL,
                **EVERYTHING_FIELDS,
            },
            id="nobody-left-no-parallel-ringing",
        ),
        pytest.param(
            [],
            ConnectSettings(),
            {
                "fetch_after_attempt": True,
                "destination": {"numbers": []},
                "dial_passthru_event_url": URL,
            },
            id="no-group-no-ringing-time",
        ),
    ],
)
def test_render_connect_answer(numbers, group_settings, expected):
    answer = render_connect_answer(
        numbers=numbers, settings=group_settings, events_url=URL
    )
    assert answer == expected
    assert json.loads(json.dumps(answer)) == expected


def test_numbers_keep_the_decision_order():
    answer = render_connect_answer(
        numbers=[C, A, B], settings=ConnectSettings(), events_url=URL
    )
    assert answer["destination"]["numbers"] == [C, A, B]


@pytest.mark.django_db
def test_settings_of_a_group():
    group = AgentGroup.objects.create(
        slug="sales",
        name="Sales",
        ring_seconds=25,
        fetch_after_attempt=False,
        parallel_ringing=True,
        caller_id="+918047190001",
        record=True,
        recording_channels="dual",
        max_conversation_seconds=3600,
        music_on_hold="operator_tone",
        connect_message="This call may be recorded",
        connect_message_to="callee",
    )
    assert ConnectSettings.of_group(group) == EVERYTHING
    assert ConnectSettings.of_group(None) == ConnectSettings()
