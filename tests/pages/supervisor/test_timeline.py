"""A call's timeline: every request with its parameters, answers, offers, outcomes."""

import pytest
from django.urls import reverse

from agents.models import AgentStatus
from pages.supervisor.timeline import call_timeline
from routing.models import Call

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(roster, exotel):
    roster["support"].batch_size = 1
    roster["support"].save()
    asha, bala = roster["asha"], roster["bala"]
    assert exotel.numbers("call-t", "support", CallFrom="09876543210") == [
        str(asha.phone)
    ]
    assert exotel.numbers(
        "call-t",
        "support",
        DialWhomNumber=str(asha.phone),
        DialCallStatus="no-answer",
    ) == [str(bala.phone)]
    exotel.passthru(
        "call-t", DialWhomNumber=str(bala.phone), DialCallStatus="completed"
    )
    return Call.objects.get(sid="call-t")


def test_timeline_orders_requests_outcomes_and_offers(call):
    steps = [
        (e.kind, e.attempt.position if e.attempt else e.request.endpoint)
        for e in call_timeline(call)
    ]
    assert steps == [
        ("request", "dial-whom"),
        ("offer", 1),
        ("request", "dial-whom"),
        ("outcome", 1),
        ("offer", 2),
        ("request", "passthru"),
        ("outcome", 2),
    ]


def test_timeline_page_shows_parameters_answers_reasons_outcomes(
    supervisor_client, call, roster
):
    html = supervisor_client.get(
        reverse("supervisor-call-timeline", args=[call.pk])
    ).content.decode()
    assert "CallFrom=09876543210" in html
    assert f"DialWhomNumber={roster['asha'].phone}" in html
    assert f"<code>{roster['bala'].phone}</code>" in html  # the second answer
    assert "support: tier 1, sequential (position order)" in html
    assert "No answer" in html and "Answered" in html


def test_timeline_page_for_an_empty_answer(supervisor_client, roster, exotel):
    for agent in ("asha", "bala"):
        roster[agent].status = AgentStatus.OFFLINE
        roster[agent].save()
    assert exotel.numbers("call-empty", "support") == []
    call = Call.objects.get(sid="call-empty")
    html = supervisor_client.get(
        reverse("supervisor-call-timeline", args=[call.pk])
    ).content.decode()
    assert "(empty: nobody to dial)" in html
