"""A Programmable Connect call's timeline: the JSON answer, ringing and answer times."""

import json

import pytest
from django.urls import reverse

from pages.supervisor.timeline import call_timeline
from routing.models import Call
from tests.routing.http.test_connect import Connect, national

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(roster):
    support = roster["support"]
    support.batch_size, support.parallel_ringing = 2, True
    support.caller_id = "+918047190001"
    support.save()
    connect = Connect()
    asha, bala = (national(str(roster[name].phone)) for name in ("asha", "bala"))
    connect.numbers("call-c", "support")
    connect.event("call-c", EventType="Ringing", DialWhomNumber=asha)
    connect.event("call-c", EventType="Ringing", DialWhomNumber=bala)
    connect.event("call-c", EventType="Answered", DialWhomNumber=bala)
    connect.event(
        "call-c",
        "post",
        EventType="Terminal",
        DialWhomNumber=bala,
        DialCallStatus="completed",
        DialCallDuration="75",
    )
    return Call.objects.get(sid="call-c")


def test_timeline_has_the_events_in_order(call):
    steps = [
        (
            event.kind,
            event.attempt.position if event.attempt else event.request.endpoint,
        )
        for event in call_timeline(call)
    ]
    assert steps == [
        ("request", "connect"),
        ("offer", 1),
        ("offer", 2),
        ("request", "connect-events"),
        ("ringing", 1),
        ("request", "connect-events"),
        ("ringing", 2),
        ("request", "connect-events"),
        ("answered", 2),
        ("outcome", 1),
        ("request", "connect-events"),
        ("outcome", 2),
    ]


def test_timeline_page_shows_the_json_answer(supervisor_client, call, roster):
    html = supervisor_client.get(
        reverse("supervisor-call-timeline", args=[call.pk])
    ).content.decode()
    assert "Programmable Connect request" in html
    assert "Ringing #1" in html and "Answered #2" in html
    assert "answered after" in html and "talked 75 s" in html
    start = html.index('<pre class="connect-json">') + len('<pre class="connect-json">')
    answer = json.loads(
        html[start : html.index("</pre>", start)].replace("&quot;", '"')
    )
    assert answer["destination"]["numbers"] == [
        str(roster["asha"].phone),
        str(roster["bala"].phone),
    ]
    assert answer["parallel_ringing"] == {"activate": True, "max_parallel_attempts": 2}
    assert answer["outgoing_phone_number"] == "+918047190001"
    assert answer["dial_passthru_event_url"] == "/exotel/***/connect-events/"
