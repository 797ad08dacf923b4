"""The keypad endpoint over HTTP, with the request shapes Exotel really sends."""

import datetime as dt
import logging
from urllib.parse import quote

import pytest
from django.test import Client

from agents.models import Agent, AgentStatus, StatusChange
from routing.models import WebhookRequest
from tests.conftest import TOKEN

pytestmark = pytest.mark.django_db

PATH = f"/exotel/{TOKEN}/agent-status/"


def exotel_query(**params) -> dict:
    """A Passthru after a Gather, as in ../shared/exotel/requests.md."""
    query = {
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
        "ForwardedFrom": "null",
        "digits": '"1"',
    }
    query.update(params)
    return {key: value for key, value in query.items() if value is not None}


@pytest.fixture
def asha(make_agent):
    return make_agent("Asha", phone="+919901320691", status=AgentStatus.OFFLINE)


@pytest.fixture
def keypad():
    client = Client()

    def press(**params):
        return client.get(PATH, exotel_query(**params))

    return press


def assert_done(response):
    assert response.status_code == 200
    assert response.content == b""


def assert_not_done(response):
    assert response.status_code == 302
    assert response.content == b""
    assert response["Location"] == PATH


@pytest.mark.parametrize(
    ("digits", "status", "minutes"),
    [
        pytest.param('"1"', AgentStatus.AVAILABLE, None, id="1-available"),
        pytest.param('"2"', AgentStatus.BREAK, None, id="2-break-until-changed"),
        pytest.param('"215"', AgentStatus.BREAK, 15, id="215-break-of-15-minutes"),
        pytest.param('"3"', AgentStatus.OFFLINE, None, id="3-offline"),
        pytest.param("2", AgentStatus.BREAK, None, id="unquoted-digits-accepted"),
    ],
)
def test_the_agent_sets_their_status(asha, keypad, digits, status, minutes):
    if status == AgentStatus.OFFLINE:
        Agent.objects.filter(pk=asha.pk).update(status=AgentStatus.AVAILABLE)
    before = dt.datetime.now(dt.UTC)

    assert_done(keypad(digits=digits))

    asha.refresh_from_db()
    assert asha.status == status
    change = StatusChange.objects.get(agent=asha)
    assert (change.new_status, change.via, change.user) == (status, "keypad", None)
    if minutes is None:
        assert asha.status_until is None
    else:
        expected = before + dt.timedelta(minutes=minutes)
        assert abs(asha.status_until - expected) < dt.timedelta(seconds=5)
        assert change.until == asha.status_until


def test_already_so_is_done_and_writes_no_history(asha, keypad):
    assert_done(keypad(digits='"3"'))
    assert StatusChange.objects.count() == 0
    assert WebhookRequest.objects.get().notes == ("Asha: already Offline")


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param({"From": "09901320691"}, id="national-with-0"),
        pytest.param({"From": "9901320691"}, id="national-without-0"),
        pytest.param({"From": "919901320691"}, id="country-code-without-plus"),
        pytest.param({"From": "+919901320691"}, id="e164"),
        pytest.param(
            {"From": None, "CallFrom": "09901320691"}, id="callfrom-when-from-missing"
        ),
        pytest.param(
            {"From": "null", "CallFrom": "09901320691"}, id="from-null-means-absent"
        ),
        pytest.param(
            {"From": None, "CallFrom": None, "Callfrom": "09901320691"},
            id="callfrom-any-case",
        ),
    ],
)
def test_the_caller_is_found_in_any_format(asha, keypad, caller):
    assert_done(keypad(digits='"1"', **caller))
    asha.refresh_from_db()
    assert asha.status == AgentStatus.AVAILABLE


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        pytest.param(
            {"From": "09000000000", "CallFrom": "09000000000"},
            "unknown caller +919000000000",
            id="unknown-caller",
        ),
        pytest.param(
            {"From": None, "CallFrom": None}, "no caller number", id="no-caller"
        ),
        pytest.param(
            {"From": "anonymous", "CallFrom": "null"},
            "no caller number",
            id="unreadable-caller",
        ),
        pytest.param({"digits": None}, "Asha: no digits keyed", id="missing-digits"),
        pytest.param(
            {"digits": '""'}, "Asha: no digits keyed", id="empty-quoted-digits"
        ),
        pytest.param({"digits": "null"}, "Asha: no digits keyed", id="null-digits"),
        pytest.param(
            {"digits": '"4"'}, "Asha: digits '4' ask for no status", id="unknown-digit"
        ),
        pytest.param(
            {"digits": '"2999"'}, "Asha: a break of 999 minutes", id="break-too-long"
        ),
    ],
)
def test_nothing_recognised_is_a_302_and_changes_nothing(asha, keypad, params, reason):
    assert_not_done(keypad(**params))

    asha.refresh_from_db()
    assert asha.status == AgentStatus.OFFLINE
    assert StatusChange.objects.count() == 0
    logged = WebhookRequest.objects.get()
    assert (logged.endpoint, logged.status_code) == ("agent-status", 302)
    assert logged.notes.startswith(reason)


def test_an_inactive_agent_is_refused(asha, keypad):
    Agent.objects.filter(pk=asha.pk).update(active=False)

    assert_not_done(keypad(digits='"1"'))

    asha.refresh_from_db()
    assert asha.status == AgentStatus.OFFLINE
    assert (
        WebhookRequest.objects.get().notes == "Asha: inactive agent, status not changed"
    )


def test_a_break_never_undoes_the_engagement(asha, keypad):
    held = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    Agent.objects.filter(pk=asha.pk).update(
        status=AgentStatus.AVAILABLE, engaged_until=held, engaged_call_sid="call-1"
    )

    assert_done(keypad(digits='"2"'))

    asha.refresh_from_db()
    assert (asha.status, asha.engaged_until, asha.engaged_call_sid) == (
        AgentStatus.BREAK,
        held,
        "call-1",
    )


@pytest.mark.parametrize(
    "token", ["wrong-token", "x" * 300], ids=["wrong", "very-long"]
)
def test_a_wrong_token_is_a_404_and_writes_nothing(asha, token):
    response = Client().get(f"/exotel/{token}/agent-status/", exotel_query())
    assert response.status_code == 404
    assert WebhookRequest.objects.count() == 0
    asha.refresh_from_db()
    assert asha.status == AgentStatus.OFFLINE


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"CallSid": None}, id="missing-callsid"),
        pytest.param({"CallSid": "not a sid!"}, id="malformed-callsid"),
    ],
)
def test_a_request_exotel_would_not_send_is_a_400(asha, keypad, params):
    response = keypad(**params)
    assert response.status_code == 400
    assert b"CallSid" in response.content
    assert StatusChange.objects.count() == 0


def test_without_trailing_slash_and_other_methods(asha):
    client = Client()
    assert client.get(PATH.rstrip("/"), exotel_query()).status_code == 200
    assert client.post(PATH, exotel_query()).status_code == 405


def test_oversized_values_fit_their_columns(asha, keypad):
    """Every stored value within its column: PostgreSQL would refuse it (a 500)."""
    response = keypad(
        CallSid="a" * 64,
        digits='"' + "2" * 5000 + '"',
        From="0" * 300,
        **{"x" * 300: "y\x00" * 300},
    )
    assert response.status_code == 302
    logged = WebhookRequest.objects.get()
    assert len(logged.call_sid) == 64
    assert len(logged.notes) <= 200
    assert all(len(k) <= 200 and len(v) <= 200 for k, v in logged.params.items())
    assert "\x00" not in str(logged.params)


def test_the_log_line_has_the_reason_and_never_the_token(asha, keypad, caplog):
    caplog.set_level(logging.INFO)
    keypad(digits='"9"')
    keypad(digits='"1"')
    keypad(CallSid="bad sid!")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Asha: digits '9' ask for no status" in text
    assert "Asha: set Available" in text
    assert "malformed CallSid" in text
    assert TOKEN not in text
    assert TOKEN not in quote(text)
    assert not any(TOKEN in str(record.__dict__) for record in caplog.records)
