"""Programmable Connect over HTTP: the JSON answer and the events, as Exotel sends them."""

import datetime as dt
import json
import logging

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from agents.models import Agent
from routing.calls import services
from routing.http import connect as connect_views
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from tests.conftest import TOKEN
from tests.routing.decision.test_events import CASES, NUMBERS, SID
from tests.routing.exotel.test_requests import FIRST_REQUEST

pytestmark = pytest.mark.django_db

EVENTS_URL = f"http://testserver/exotel/{TOKEN}/connect-events/"


class Connect:
    """Plays Exotel's side of Programmable Connect."""

    def __init__(self):
        self.client = Client()

    def get(self, sid, group=None, headers=None, **params):
        path = f"/exotel/{TOKEN}/connect/" + (f"{group}/" if group else "")
        return self.client.get(
            path,
            {"CallSid": sid, **params},
            headers={"Exotel-Version": "1.0", **(headers or {})},
        )

    def answer(self, sid, group=None, **params) -> dict:
        response = self.get(sid, group, **params)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return json.loads(response.content)

    def numbers(self, sid, group=None, **params) -> list[str]:
        return self.answer(sid, group, **params)["destination"]["numbers"]

    def event(self, sid, method="get", **fields):
        send = getattr(self.client, method)
        response = send(f"/exotel/{TOKEN}/connect-events/", {"CallSid": sid, **fields})
        assert response.status_code == 200, response.content
        assert response.content == b""
        return response


@pytest.fixture
def connect():
    return Connect()


def national(number: str) -> str:
    return "0" + number.removeprefix("+91")


def no_answer(number: str) -> dict[str, str]:
    return {
        "DialWhomNumber": national(number),
        "DialCallStatus": "no-answer",
        "CallType": "incomplete",
        "ForwardedFrom": "null",
    }


# The answer ----------------------------------------------------------------------


def test_first_request_answers_json(connect, make_group, make_agent):
    group = make_group(exophones="08069891522", digits="215250", batch_size=2)
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen")]

    first = dict(FIRST_REQUEST)
    answer = connect.answer(first.pop("CallSid"), **first)

    assert answer == {
        "fetch_after_attempt": True,
        "destination": {"numbers": [str(agents[0].phone), str(agents[1].phone)]},
        "max_ringing_duration": 30,
        "dial_passthru_event_url": EVENTS_URL,
    }
    call = Call.objects.get()
    assert (call.group, call.caller, call.digits) == (group, "+919901320691", "215250")


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([{}], id="first-request"),
        pytest.param([{}, {}], id="repeat-of-the-first-request"),
        pytest.param([{}, "no-answer", "no-answer", "no-answer"], id="every-agent"),
        pytest.param([{}, "no-answer", "busy", {}], id="busy-then-a-repeat"),
    ],
)
def test_decides_exactly_what_dial_whom_decides(
    connect, exotel, make_group, make_agent, steps
):
    # Hold 0: the two calls do not take agents from each other.
    group = make_group(batch_size=2, hold_seconds=0, fallback_numbers="09812345678")
    for name in ("Asha", "Bala", "Chen"):
        make_agent(name, group)
    text, json_answer = [], []
    for step in steps:
        params = {}
        if step in ("no-answer", "busy"):
            params = {**no_answer(text[-1][0]), "DialCallStatus": step}
        text.append(exotel.numbers("sid-text", "support", **params))
        if step in ("no-answer", "busy"):
            params["DialWhomNumber"] = national(json_answer[-1][0])
        json_answer.append(connect.numbers("sid-json", "support", **params))
    assert json_answer == text


def test_group_settings_shape_the_answer(connect, make_group, make_agent):
    group = make_group(
        batch_size=3,
        ring_seconds=20,
        parallel_ringing=True,
        fetch_after_attempt=False,
        caller_id="+918047190001",
        record=False,
        recording_channels="dual",
        max_conversation_seconds=600,
        music_on_hold="default_tone",
        connect_message="A call for support",
        connect_message_to="callee",
    )
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen")]

    answer = connect.answer("sid1", "support")

    assert answer == {
        "fetch_after_attempt": False,
        "destination": {"numbers": [str(agent.phone) for agent in agents]},
        "max_ringing_duration": 20,
        "parallel_ringing": {"activate": True, "max_parallel_attempts": 3},
        "dial_passthru_event_url": EVENTS_URL,
        "outgoing_phone_number": "+918047190001",
        "record": False,
        "recording_channels": "dual",
        "max_conversation_duration": 600,
        "music_on_hold": {"type": "default_tone"},
        "start_call_playback": {
            "playback_to": "callee",
            "type": "text",
            "value": "A call for support",
        },
    }


def test_nobody_left_is_an_empty_destination(connect, make_group):
    make_group(parallel_ringing=True, batch_size=3)
    answer = connect.answer("sid1", "support")
    assert answer["destination"] == {"numbers": []}
    assert "parallel_ringing" not in answer


def test_no_route_is_an_empty_destination(connect, make_group):
    make_group(exophones="08069891522")
    answer = connect.answer("sid1", To="08011111111")
    assert answer == {
        "fetch_after_attempt": True,
        "destination": {"numbers": []},
        "dial_passthru_event_url": EVENTS_URL,
    }


def test_events_url_from_the_public_url(connect, make_group, settings):
    settings.DIALWHOM_PUBLIC_URL = "https://dialwhom.example.com/"
    make_group()
    answer = connect.answer("sid1", "support")
    assert answer["dial_passthru_event_url"] == (
        f"https://dialwhom.example.com/exotel/{TOKEN}/connect-events/"
    )


def test_events_url_carries_the_token_the_request_came_with(
    connect, make_group, settings
):
    # A rotation must not hand the new token to whoever holds the previous one.
    settings.DIALWHOM_WEBHOOK_TOKENS = ["new-token-0123456789", TOKEN]
    make_group()
    answer = connect.answer("sid1", "support")  # Exotel still uses the old URL
    assert answer["dial_passthru_event_url"] == (
        f"http://testserver/exotel/{TOKEN}/connect-events/"
    )
    assert "new-token" not in json.dumps(answer)


def test_the_log_keeps_the_decision_never_the_token(
    connect, make_group, make_agent, caplog
):
    group = make_group()
    agent = make_agent("Asha", group)
    with caplog.at_level(logging.INFO, logger="routing.requests"):
        connect.answer("sid1", "support")
    logged = WebhookRequest.objects.get()
    assert logged.endpoint == WebhookRequest.Endpoint.CONNECT
    assert logged.response_body == str(agent.phone)  # the numbers, as Dial Whom's
    assert logged.params["header Exotel-Version"] == "1.0"
    assert TOKEN not in json.dumps(list(WebhookRequest.objects.values()), default=str)
    assert caplog.records and TOKEN not in caplog.text


def test_unknown_version_is_still_answered(connect, make_group, make_agent):
    group = make_group()
    agent = make_agent("Asha", group)
    response = connect.get("sid1", "support", headers={"Exotel-Version": "9.9"})
    assert response.status_code == 200
    assert json.loads(response.content)["destination"]["numbers"] == [str(agent.phone)]
    assert WebhookRequest.objects.get().params["header Exotel-Version"] == "9.9"


@pytest.mark.parametrize(
    ("path", "params", "status", "reason"),
    [
        pytest.param(
            "connect/support/", {}, 400, "missing CallSid", id="missing-call-sid"
        ),
        pytest.param(
            "connect/support/",
            {"CallSid": "not a sid!"},
            400,
            "malformed CallSid",
            id="malformed-call-sid",
        ),
        pytest.param(
            "connect/nosuch/",
            {"CallSid": "sid1"},
            404,
            "unknown group 'nosuch'",
            id="unknown-group",
        ),
        pytest.param(
            "connect/" + "s" * 200 + "/",
            {"CallSid": "sid1"},
            404,
            "unknown group",
            id="slug-longer-than-any-column",
        ),
    ],
)
def test_bad_requests_have_a_one_line_reason(
    connect, make_group, path, params, status, reason
):
    make_group()
    response = connect.client.get(f"/exotel/{TOKEN}/{path}", params)
    assert response.status_code == status
    body = response.content.decode()
    assert reason in body and "\n" not in body
    assert WebhookRequest.objects.get().status_code == status


def test_wrong_token_is_a_404_and_logs_nothing(connect, make_group):
    make_group()
    for path in ("connect/support/", "connect/", "connect-events/"):
        response = connect.client.get(f"/exotel/wrong/{path}", {"CallSid": "sid1"})
        assert response.status_code == 404
    assert not WebhookRequest.objects.exists()


def test_connect_takes_only_get(connect, make_group):
    make_group()
    response = connect.client.post(
        f"/exotel/{TOKEN}/connect/support/", {"CallSid": "s"}
    )
    assert response.status_code == 405


# Parallel ringing: rounds ----------------------------------------------------------


def test_a_follow_up_closes_the_round_and_offers_the_next(
    connect, make_group, make_agent
):
    group = make_group(batch_size=2, parallel_ringing=True, missed_to_pause=1)
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen", "Dev")]
    phones = [str(agent.phone) for agent in agents]

    first = connect.answer("sid1", "support")
    assert first["destination"]["numbers"] == phones[:2]
    assert first["parallel_ringing"] == {"activate": True, "max_parallel_attempts": 2}
    engaged = Agent.objects.filter(
        engaged_call_sid="sid1", engaged_until__gt=timezone.now()
    )
    assert set(engaged) == set(agents[:2])  # both engaged while they ring

    second = connect.numbers("sid1", "support", **no_answer(phones[1]))

    assert second == phones[2:]
    round_one = Attempt.objects.filter(number__in=phones[:2])
    assert {attempt.outcome for attempt in round_one} == {Outcome.NO_ANSWER}
    # Each no-answer counts toward the missed-call pause.
    assert {
        agent.status
        for agent in Agent.objects.filter(pk__in=[a.pk for a in agents[:2]])
    } == {"break"}


# Events ------------------------------------------------------------------------


@pytest.fixture
def ringing(connect, make_group, make_agent):
    """A call whose first round (Asha, Bala, Chen) rings in parallel."""
    group = make_group(batch_size=3, parallel_ringing=True, wrapup_seconds=45)
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen")]
    connect.numbers(SID, "support")
    return agents


def test_answered_event_frees_the_others_at_once(connect, ringing):
    asha, bala, chen = ringing
    connect.event(SID, EventType="Ringing", DialWhomNumber=national(str(bala.phone)))
    connect.event(SID, EventType="Answered", DialWhomNumber=national(str(bala.phone)))

    now = timezone.now()
    attempts = {a.number: a for a in Attempt.objects.all()}
    assert attempts[str(bala.phone)].outcome == Outcome.PENDING
    assert attempts[str(bala.phone)].answered_at is not None
    assert attempts[str(bala.phone)].ringing_at is not None
    for other in (asha, chen):
        assert attempts[str(other.phone)].outcome == Outcome.CANCELED
        other.refresh_from_db()
        assert other.engaged_until <= now  # free for the next call
    bala.refresh_from_db()
    # Held for the conversation, not only for the offer's hold time.
    assert bala.engaged_until > now + dt.timedelta(hours=3)
    call = Call.objects.get()
    assert call.answered_at is not None and call.answer_seconds >= 0
    assert call.result == CallResult.IN_PROGRESS


@pytest.mark.parametrize("method", ["get", "post"])
def test_terminal_after_the_answer_completes_the_call(connect, ringing, method):
    _, bala, _ = ringing
    number = national(str(bala.phone))
    connect.event(SID, method, EventType="Answered", DialWhomNumber=number)
    connect.event(
        SID,
        method,
        EventType="Terminal",
        DialWhomNumber=number,
        DialCallStatus="completed",
        DialCallDuration="183",
        CallType="completed",
    )

    call = Call.objects.get()
    assert (call.result, call.answered_by, call.talk_seconds) == (
        CallResult.ANSWERED,
        bala,
        183,
    )
    answered = Attempt.objects.get(number=str(bala.phone))
    assert (answered.outcome, answered.talk_seconds) == (Outcome.COMPLETED, 183)
    bala.refresh_from_db()
    wrapup_ends = bala.engaged_until - timezone.now()
    assert dt.timedelta(seconds=40) < wrapup_ends <= dt.timedelta(seconds=45)


def test_terminal_without_an_answer_is_a_passthru(connect, ringing):
    connect.event(SID, EventType="Terminal", DialCallStatus="no-answer")
    call = Call.objects.get()
    assert call.result == CallResult.NOT_ANSWERED and call.ended_at is not None
    assert set(Attempt.objects.values_list("outcome", flat=True)) == {Outcome.CANCELED}
    now = timezone.now()
    assert all(agent.engaged_until <= now for agent in Agent.objects.all())


def test_events_are_fields_in_any_case_and_form_posts(connect, ringing):
    _, bala, _ = ringing
    response = connect.client.post(
        f"/exotel/{TOKEN}/connect-events/",
        f"callsid={SID}&eventtype=answered&dialwhomnumber={national(str(bala.phone))}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Attempt.objects.get(number=str(bala.phone)).answered_at is not None
    logged = WebhookRequest.objects.filter(endpoint="connect-events").get()
    assert logged.call == Call.objects.get()
    assert logged.notes == f"{bala.phone} answered"


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        pytest.param(
            {"CallSid": "no-such-call", "EventType": "Answered"},
            "unknown CallSid",
            id="unknown-call-sid",
        ),
        pytest.param({"EventType": "Answered"}, "missing CallSid", id="no-call-sid"),
        pytest.param(
            {"CallSid": "a b", "EventType": "Answered"},
            "malformed CallSid",
            id="malformed-call-sid",
        ),
        pytest.param(
            {"CallSid": SID, "EventType": "Answered", "DialWhomNumber": "09999999999"},
            "never offered",
            id="number-never-offered",
        ),
    ],
)
def test_events_that_change_nothing_are_logged_and_answered_200(
    connect, ringing, fields, note
):
    before = list(Attempt.objects.values())
    response = connect.client.get(f"/exotel/{TOKEN}/connect-events/", fields)
    assert response.status_code == 200 and response.content == b""
    assert list(Attempt.objects.values()) == before
    logged = WebhookRequest.objects.filter(endpoint="connect-events").get()
    assert note in logged.notes and logged.status_code == 200


@pytest.mark.parametrize(("call", "events", "expected", "call_ends"), CASES)
def test_the_event_table_over_http(
    connect, make_group, make_agent, call, events, expected, call_ends
):
    """The behaviour table of the pure logic, replayed against the endpoint."""
    group = make_group(batch_size=len(call.legs), parallel_ringing=True)
    names = {number: name for name, number in NUMBERS.items()}
    for leg in call.legs:
        make_agent(names[leg.number], group, phone=leg.number)
    connect.numbers(SID, "support")
    closed = {leg.number: leg.outcome for leg in call.legs if leg.outcome != "pending"}
    Attempt.objects.filter(number__in=closed).update(outcome=Outcome.NO_ANSWER)
    for item in events:
        fields = {key: value for key, value in item.params.items() if value}
        connect.event(SID, **{k: v for k, v in fields.items() if k != "CallSid"})

    got = {}
    for attempt in Attempt.objects.all():
        got[names[attempt.number]] = " ".join(
            [attempt.outcome]
            + (["rang"] if attempt.ringing_at else [])
            + (["answered"] if attempt.answered_at else [])
        )
    assert got == expected
    result = Call.objects.get().result
    assert result == (call_ends[-1] if call_ends else CallResult.IN_PROGRESS)


# The database unreachable -----------------------------------------------------


def database_down(monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "route_call", unreachable)
    monkeypatch.setattr(connect_views, "record_connect_event", unreachable)


def test_database_down_answers_the_last_known_list(
    connect, make_group, make_agent, settings, tmp_path, monkeypatch, caplog
):
    settings.DIALWHOM_LAST_KNOWN_DIR = tmp_path
    settings.DIALWHOM_SPOOL_DIR = tmp_path / "spool"
    settings.DIALWHOM_LAST_KNOWN_REFRESH_SECONDS = 0
    group = make_group(parallel_ringing=True, batch_size=2, caller_id="08047190001")
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen")]
    connect.numbers("sid-up", "support")  # writes the group's last-known list
    database_down(monkeypatch)

    answer = connect.answer("sid-down", "support")

    # The whole list, without the group's settings (they are in the database).
    assert answer == {
        "fetch_after_attempt": True,
        "destination": {"numbers": [str(agent.phone) for agent in agents]},
        "dial_passthru_event_url": EVENTS_URL,
    }
    assert "degraded=True" in caplog.text and TOKEN not in caplog.text
    # Kept in the spool for the call log: the numbers, never the JSON and its token
    # (tests/routing/test_spool.py replays such records).
    lines = [
        json.loads(line)
        for path in (tmp_path / "spool").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert [(r["endpoint"], r["params"]["CallSid"]) for r in lines] == [
        ("connect", "sid-down")
    ]
    assert lines[0]["body"] == ",".join(str(agent.phone) for agent in agents)
    assert TOKEN not in json.dumps(lines)


def test_database_down_without_a_list_is_a_503(
    connect, settings, tmp_path, monkeypatch
):
    settings.DIALWHOM_LAST_KNOWN_DIR = tmp_path
    database_down(monkeypatch)
    response = connect.get("sid-down", "never-seen")
    assert response.status_code == 503
    assert response.content == b"database unavailable"


def test_database_down_still_answers_events_200(connect, monkeypatch, caplog):
    database_down(monkeypatch)
    connect.event("sid-down", EventType="Answered", DialWhomNumber="09900000001")
    assert "event not recorded" in caplog.text


def test_events_as_a_json_post(connect, ringing):
    _, bala, _ = ringing
    response = connect.client.post(
        f"/exotel/{TOKEN}/connect-events/",
        json.dumps(
            {"CallSid": SID, "EventType": "Answered", "DialWhomNumber": str(bala.phone)}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Attempt.objects.get(number=str(bala.phone)).answered_at is not None
    for junk in ("not json", "[1, 2]"):
        response = connect.client.post(
            f"/exotel/{TOKEN}/connect-events/", junk, content_type="application/json"
        )
        assert response.status_code == 200


def post_event(connect, body: str):
    response = connect.client.post(
        f"/exotel/{TOKEN}/connect-events/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:200]
    assert response.content == b""
    return response


def test_json_nested_too_deep_is_refused_with_a_reason(connect, caplog):
    with caplog.at_level(logging.INFO, logger="routing.requests"):
        post_event(connect, "[" * 100_000 + "]" * 100_000)
        post_event(connect, '{"a":' * 5_000 + "1" + "}" * 5_000)
    notes = list(WebhookRequest.objects.values_list("notes", flat=True))
    assert notes == ["JSON body nested too deep to read"] * 2
    assert caplog.text.count("JSON body nested too deep to read") == 2


@pytest.mark.parametrize(
    "body",
    [
        f'{{"CallSid": "{SID}", "EventType": "Answered\\ud800", "x\\udfff": "1"}}',
        f'{{"CallSid": "{SID}", "\\ud800": "\\udc00\\ud800"}}',
        '{"CallSid": "bad\\ud800"}',
    ],
    ids=["value-and-key", "lone-halves", "in-the-call-sid"],
)
def test_lone_surrogates_are_stored_as_replacement_characters(connect, ringing, body):
    post_event(connect, body)
    logged = WebhookRequest.objects.filter(endpoint="connect-events").get()
    stored = json.dumps(logged.params, ensure_ascii=False)
    assert "\ufffd" in stored
    assert all(not "\ud800" <= c <= "\udfff" for c in stored)


def test_a_nul_in_the_version_header_is_stored_without_it(connect, make_group):
    make_group()
    connect.answer("sid-nul", "support", headers={"Exotel-Version": "1.\x000"})
    logged = WebhookRequest.objects.get()
    assert logged.params["header Exotel-Version"] == "1.0"


def test_a_sequential_round_frees_the_agent_it_passed(connect, make_group, make_agent):
    # Issue 18, item 9: two numbers rung one after the other; the second rings and
    # ends unanswered; the first was passed, so the next call may ring them.
    group = make_group(batch_size=2, hold_seconds=300)
    asha, bala = make_agent("Asha", group), make_agent("Bala", group)
    phones = [str(asha.phone), str(bala.phone)]
    assert connect.numbers(SID, "support") == phones
    connect.event(SID, EventType="Ringing", DialWhomNumber=phones[0])
    connect.event(SID, EventType="Ringing", DialWhomNumber=phones[1])
    assert Attempt.objects.get(number=phones[0]).outcome == Outcome.FAILED
    connect.event(
        SID, EventType="Terminal", DialWhomNumber=phones[1], DialCallStatus="no-answer"
    )
    assert Call.objects.get(sid=SID).result == CallResult.NOT_ANSWERED
    assert connect.numbers("next-call", "support") == phones
