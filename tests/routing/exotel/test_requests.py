import pytest

from routing.exotel.requests import ExotelRequestError, parse_exotel_request

FIRST_REQUEST = {
    "CallSid": "e12eb6e6fcd920019d7174b60099187v",
    "CallFrom": "09901320691",
    "CallTo": "08069891522",
    "Direction": "incoming",
    "Created": "Wed, 31 Jul 2024 16:42:56",
    "DialCallDuration": "0",
    "StartTime": "2024-07-31 16:42:56",
    "EndTime": "1970-01-01 05:30:00",
    "CallType": "call-attempt",
    "DialWhomNumber": "",
    "flow_id": "11754",
    "tenant_id": "1409",
    "From": "09901320691",
    "To": "08069891522",
    "CurrentTime": "2024-07-31 16:43:02",
    "digits": '"215250"',
}


def test_first_request_after_ivr():
    request = parse_exotel_request(FIRST_REQUEST)
    assert request.call_sid == "e12eb6e6fcd920019d7174b60099187v"
    assert request.caller == "+919901320691"
    assert request.exophone == "+918069891522"
    assert request.digits == "215250"
    assert request.dial_whom_number == ""
    assert request.dial_call_status == ""


@pytest.mark.parametrize(
    ("params", "field", "expected"),
    [
        ({"Callfrom": "9901320691"}, "caller", "+919901320691"),
        ({"CallFrom": "919901320691"}, "caller", "+919901320691"),
        ({"From": "+919901320691"}, "caller", "+919901320691"),
        ({"From": "null"}, "caller", ""),
        ({"From": "not-a-number"}, "caller", ""),
        ({"CallTo": "8039513882"}, "exophone", "+918039513882"),
        ({"DialWhomNumber": "09999999999"}, "dial_whom_number", "+919999999999"),
        ({"DialCallStatus": "no-answer"}, "dial_call_status", "no-answer"),
        ({"DialCallStatus": "null"}, "dial_call_status", ""),
        ({"DialCallStatus": "ringing"}, "dial_call_status", ""),
        ({"DialCallDuration": "183"}, "dial_call_duration", 183),
        ({"DialCallDuration": "x"}, "dial_call_duration", None),
        ({"digits": ""}, "digits", ""),
        ({"digits": '"1"'}, "digits", "1"),
    ],
    ids=[
        "lowercase-callfrom-national-without-zero",
        "country-code-without-plus",
        "e164-from",
        "null-is-absent",
        "unreadable-caller-is-absent",
        "callto-without-leading-zero",
        "dialwhomnumber-national",
        "known-status",
        "null-status-is-absent",
        "unknown-status-is-absent",
        "duration",
        "junk-duration-is-absent",
        "empty-digits",
        "quoted-digits-unwrapped",
    ],
)
def test_quirks(params, field, expected):
    request = parse_exotel_request({"CallSid": "abc", **params})
    assert getattr(request, field) == expected


@pytest.mark.parametrize(
    "sid",
    [
        "23c162077629863c1a2d7f29263a162m",
        "d96421addce69e24bdc7ce5880d1162l",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "a",
        "x" * 64,
        "A_b-9",
    ],
)
def test_accepted_call_sids(sid):
    assert parse_exotel_request({"CallSid": sid}).call_sid == sid


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "missing CallSid"),
        ({"CallSid": ""}, "missing CallSid"),
        ({"CallSid": "null"}, "missing CallSid"),
        ({"CallSid": "x" * 65}, "malformed CallSid"),
        ({"CallSid": "abc def"}, "malformed CallSid"),
        ({"CallSid": "abc;drop"}, "malformed CallSid"),
        ({"CallSid": "caf\u00e9"}, "malformed CallSid"),
    ],
)
def test_rejected(params, reason):
    with pytest.raises(ExotelRequestError, match=reason):
        parse_exotel_request(params)
