"""The Connect applet's popup URL: each leg's events, busy/free never an outcome."""

import itertools

import pytest
from django.test import Client
from django.utils import timezone

from agents.models import Agent
from pages.reports.figures import answer_speed
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from tests.conftest import TOKEN

pytestmark = pytest.mark.django_db

EVENTS = {
    "dial": {"EventType": "Dial", "Status": "busy"},
    "ringing": {"EventType": "Ringing", "Status": "busy"},
    "answered": {"EventType": "Answered", "Status": "busy"},
    "terminal": {"EventType": "Terminal", "Status": "free"},
}


@pytest.fixture
def two_offers(make_group, make_agent, exotel):
    """A Dial Whom call that rings Asha and Ravi at once (a batch of two)."""
    group = make_group("support", batch_size=2, wrapup_seconds=30, hold_seconds=300)
    asha, ravi = make_agent("Asha", group), make_agent("Ravi", group)
    numbers = exotel.numbers("sid1", "support", CallFrom="09900000001")
    assert numbers == [str(asha.phone), str(ravi.phone)]
    return group, asha, ravi


def popup(number, event, sid="sid1", **extra):
    response = Client().get(
        f"/exotel/{TOKEN}/popup/",
        {
            "CallSid": sid,
            "DialWhomNumber": str(number),
            **EVENTS.get(event, {}),
            **extra,
        },
    )
    assert response.status_code == 200
    assert response.content == b""
    return response


def note():
    return WebhookRequest.objects.filter(endpoint="popup").latest("pk").notes


def test_ringing_and_answer_times_kept_and_the_other_offer_freed(two_offers):
    group, asha, ravi = two_offers
    popup(asha.phone, "dial")
    popup(asha.phone, "ringing")
    popup(asha.phone, "answered")

    mine = Attempt.objects.get(agent=asha)
    other = Attempt.objects.get(agent=ravi)
    assert mine.ringing_at is not None and mine.answered_at is not None
    assert mine.outcome == Outcome.PENDING  # the outcome is the Passthru's
    assert other.outcome == Outcome.CANCELED
    ravi.refresh_from_db()
    assert ravi.engaged_until <= timezone.now()
    call = Call.objects.get()
    assert call.result == CallResult.IN_PROGRESS
    assert call.answer_seconds is not None
    today = timezone.localdate()
    assert answer_speed(group=group, start=today, end=today).timed == 1


def test_terminal_after_the_answer_frees_the_agent_after_wrapup(two_offers):
    group, asha, _ = two_offers
    popup(asha.phone, "answered")
    popup(asha.phone, "terminal")
    asha.refresh_from_db()
    left = (asha.engaged_until - timezone.now()).total_seconds()
    assert 0 < left <= 30
    assert Attempt.objects.get(agent=asha).outcome == Outcome.PENDING
    assert note() == f"{asha.phone} free after the call"


def test_busy_and_free_are_never_outcomes(two_offers):
    _, asha, ravi = two_offers
    popup(ravi.phone, "dial")
    popup(ravi.phone, "terminal")
    popup(ravi.phone, "none", Status="free")
    popup(ravi.phone, "none", Status="busy", DialCallStatus="busy")
    assert Attempt.objects.get(agent=ravi).outcome == Outcome.PENDING
    assert Call.objects.get().result == CallResult.IN_PROGRESS
    assert note() == "popup event without an EventType: nothing to do"


def test_the_passthru_still_ends_the_call(two_offers, exotel):
    _, asha, ravi = two_offers
    popup(asha.phone, "answered")
    exotel.passthru("sid1", DialWhomNumber=str(asha.phone), DialCallStatus="completed")
    call = Call.objects.get()
    assert (call.result, call.answered_by) == (CallResult.ANSWERED, asha)


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(["dial", "ringing", "answered", "terminal"])),
    ids=lambda order: "-".join(order),
)
def test_any_order_and_repeats_come_to_one_state(two_offers, order):
    _, asha, ravi = two_offers
    for event in order + order:
        popup(asha.phone, event)
    mine = Attempt.objects.get(agent=asha)
    first_answer = Call.objects.get().answered_at
    popup(asha.phone, "answered")
    assert Call.objects.get().answered_at == first_answer == mine.answered_at
    assert mine.ringing_at is not None
    assert mine.outcome == Outcome.PENDING
    assert Attempt.objects.get(agent=ravi).outcome == Outcome.CANCELED
    asha.refresh_from_db()
    # Held no longer than the offer held them, whatever the order.
    assert asha.engaged_until <= mine.hold_until
    assert asha.engaged_call_sid == "sid1"
    assert Agent.objects.get(pk=ravi.pk).engaged_until <= timezone.now()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"CallSid": "unknown", "DialWhomNumber": "09900000009"}, "unknown CallSid"),
        ({"EventType": "Dial"}, "CallSid"),
        ({"CallSid": "sid1", "DialWhomNumber": "09100000000"}, "was never offered"),
        ({"CallSid": "sid1", "EventType": "Dial"}, "no number"),
    ],
    ids=["unknown-call", "no-callsid", "number-never-offered", "no-number"],
)
def test_what_cannot_be_used_is_200_and_logged(two_offers, params, expected):
    response = Client().get(f"/exotel/{TOKEN}/popup/", {"EventType": "Dial", **params})
    assert response.status_code == 200
    assert expected in note()


def test_wrong_token_is_404(two_offers):
    assert Client().get("/exotel/wrong/popup/", {"CallSid": "sid1"}).status_code == 404


def test_the_call_timeline_lists_the_popup_events(two_offers):
    from pages.supervisor.timeline import call_timeline

    _, asha, _ = two_offers
    popup(asha.phone, "ringing")
    popup(asha.phone, "answered")
    endpoints = [
        entry.request.endpoint
        for entry in call_timeline(Call.objects.get())
        if entry.request is not None
    ]
    assert endpoints.count("popup") == 2


def test_an_unknown_event_type_changes_nothing_and_says_why(two_offers):
    _, asha, _ = two_offers
    popup(asha.phone, "none", EventType="Hold", Status="busy")
    assert (
        note() == "popup EventType 'hold' is none of Dial, Ringing, Answered, Terminal"
    )
    assert Attempt.objects.get(agent=asha).outcome == Outcome.PENDING
