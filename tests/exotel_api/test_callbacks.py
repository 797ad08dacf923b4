"""Call-backs: an agent claimed like an inbound offer, Exotel connecting them."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pages.reports.callbacks import missed_callers
from pages.reports.figures import group_report
from routing.calls.callbacks import place_callback
from routing.models import Attempt, Call, CallBack, CallResult, Outcome
from tests.conftest import TOKEN
from tests.exotel_api.fake import Failure

pytestmark = pytest.mark.django_db

CALLER = "+919812345678"
URL = f"http://testserver/exotel/{TOKEN}/callback-events/"


@pytest.fixture
def group(make_group):
    return make_group(
        "support",
        callback_caller_id="+918047000000",
        wrapup_seconds=30,
        hold_seconds=300,
        ring_seconds=30,
    )


@pytest.fixture
def asha(group, make_agent):
    return make_agent("Asha", group)


@pytest.fixture
def ravi(group, make_agent):
    return make_agent("Ravi", group)


def place(group, caller=CALLER):
    return place_callback(
        group=group, caller=caller, status_callback_url=URL, now=timezone.now()
    )


def post(fields, *, as_json=True):
    client = Client()
    path = f"/exotel/{TOKEN}/callback-events/"
    if as_json:
        response = client.post(path, fields, content_type="application/json")
    else:
        response = client.post(path, fields)
    assert response.status_code == 200 and response.content == b""


def test_the_agent_is_claimed_and_exotel_rings_them_first(
    fake_exotel, group, asha, ravi
):
    placed = place(group)

    assert placed.ok, placed.message
    assert placed.message == f"Calling Asha first, then {CALLER}."
    call = Call.objects.get(is_callback=True)
    asha.refresh_from_db()
    assert asha.engaged_call_sid == call.sid
    assert asha.engaged_until > timezone.now() + dt.timedelta(seconds=300)
    (seen,) = fake_exotel.requests("POST")
    assert seen.form["From"] == str(asha.phone)
    assert seen.form["To"] == CALLER
    assert seen.form["CallerId"] == "+918047000000"
    assert seen.form["StatusCallback"] == URL
    assert seen.form["CustomField"] == call.sid
    assert call.exotel_sid.startswith("fake")
    attempt = call.attempts.get()
    assert (attempt.agent, attempt.outcome) == (asha, Outcome.PENDING)


def test_an_inbound_call_meanwhile_does_not_ring_the_claimed_agent(
    fake_exotel, group, asha, ravi, exotel
):
    place(group)
    assert exotel.numbers("inbound1", "support") == [str(ravi.phone)]


def test_the_agent_who_last_spoke_with_the_caller_goes_first(
    fake_exotel, group, asha, ravi, make_group
):
    other = make_group("sales")
    earlier = Call.objects.create(sid="old", caller=CALLER, group=other)
    Attempt.objects.create(
        call=earlier,
        agent=ravi,
        number=str(ravi.phone),
        position=1,
        outcome=Outcome.COMPLETED,
        outcome_at=timezone.now(),
    )
    assert place(group).message == f"Calling Ravi first, then {CALLER}."


def test_nobody_free_places_no_call(fake_exotel, group):
    placed = place(group)
    assert not placed.ok
    assert placed.message == f"Nobody in Support is free to call {CALLER}."
    assert fake_exotel.requests() == []


def test_a_refused_call_frees_the_agent_at_once_and_says_why(fake_exotel, group, asha):
    fake_exotel.fail_next(Failure(400, body={"RestException": {"Message": "Bad To"}}))
    placed = place(group)
    assert not placed.ok
    assert placed.message == (
        f"Call-back to {CALLER} failed: Exotel API POST Calls/connect.json: "
        "HTTP 400: Bad To"
    )
    asha.refresh_from_db()
    assert asha.engaged_until <= timezone.now()
    call = Call.objects.get(is_callback=True)
    assert call.result == CallResult.NOT_ANSWERED
    assert call.attempts.get().outcome == Outcome.FAILED


def test_a_double_click_places_one_call(fake_exotel, group, asha, ravi):
    first, second = place(group), place(group)
    assert second.ok and second.call == first.call
    assert second.message == f"{CALLER} is already being called back."
    assert len(fake_exotel.requests("POST")) == 1
    ravi.refresh_from_db()
    assert ravi.engaged_until is None or ravi.engaged_until <= timezone.now()


def test_off_without_the_account(settings, group, asha):
    settings.EXOTEL_API_TOKEN = ""
    placed = place(group)
    assert not placed.ok and placed.message.startswith("Call back is off.")
    assert not Call.objects.exists()


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
def test_an_answered_call_back_is_logged_marked_and_frees_after_wrapup(
    fake_exotel, group, asha, as_json
):
    placed = place(group)
    sid = placed.call.exotel_sid
    legs = [{"Status": "completed", "OnCallDuration": 80}, {"Status": "completed"}]
    post(
        {"CallSid": sid, "EventType": "answered", "Status": "in-progress"},
        as_json=as_json,
    )
    fields = {
        "CallSid": sid,
        "EventType": "terminal",
        "Status": "completed",
        "ConversationDuration": 75,
        "CustomField": placed.call.sid,
        "RecordingUrl": "https://recordings.example/cb.mp3",
    }
    if as_json:
        post({**fields, "Legs": legs})
    else:
        post(
            {**fields, "Legs[0][Status]": "completed", "Legs[1][Status]": "completed"},
            as_json=False,
        )

    call = Call.objects.get(pk=placed.call.pk)
    assert (call.result, call.answered_by, call.talk_seconds) == (
        CallResult.ANSWERED,
        asha,
        75,
    )
    assert call.answered_at is not None
    assert call.recording_url == "https://recordings.example/cb.mp3"
    assert call.attempts.get().outcome == Outcome.COMPLETED  # counts for sticky
    assert CallBack.objects.filter(caller=CALLER, group=group).exists()
    asha.refresh_from_db()
    assert 0 < (asha.engaged_until - timezone.now()).total_seconds() <= 30


def test_events_apply_once_in_any_order(fake_exotel, group, asha):
    placed = place(group)
    sid = placed.call.exotel_sid
    terminal = {"CallSid": sid, "EventType": "terminal", "Status": "no-answer"}
    post(terminal)
    post({"CallSid": sid, "EventType": "answered", "Status": "in-progress"})
    post(terminal | {"Status": "completed", "ConversationDuration": 40})
    call = Call.objects.get(pk=placed.call.pk)
    assert call.result == CallResult.NOT_ANSWERED
    assert call.answered_at is None
    assert call.attempts.get().outcome == "no-answer"
    assert not CallBack.objects.exists()
    asha.refresh_from_db()
    assert asha.engaged_until <= timezone.now()


def test_the_terminal_event_finds_the_call_by_custom_field(fake_exotel, group, asha):
    placed = place(group)
    Call.objects.filter(pk=placed.call.pk).update(exotel_sid="")
    post(
        {
            "CallSid": "exotelsid1",
            "Status": "busy",
            "CustomField": placed.call.sid,
            "Legs": [{"Status": "busy"}],
        }
    )
    call = Call.objects.get(pk=placed.call.pk)
    assert (call.result, call.exotel_sid) == (CallResult.NOT_ANSWERED, "exotelsid1")
    assert call.attempts.get().outcome == Outcome.BUSY


@pytest.mark.parametrize(
    "body",
    [{"CallSid": "unknown1", "Status": "completed"}, {"Status": "completed"}, []],
    ids=["unknown-call", "no-callsid", "not-an-object"],
)
def test_what_cannot_be_used_is_still_200(body):
    post(body)


def test_wrong_token_is_404():
    assert Client().post("/exotel/wrong/callback-events/", {}).status_code == 404


def test_callbacks_are_counted_apart_and_leave_the_missed_list(
    fake_exotel, group, asha
):
    now = timezone.now()
    Call.objects.create(
        sid="missed1",
        caller=CALLER,
        group=group,
        result=CallResult.NOT_ANSWERED,
        ended_at=now,
    )
    day = timezone.localdate(now)
    placed = place(group)
    post(
        {
            "CallSid": placed.call.exotel_sid,
            "Status": "completed",
            "ConversationDuration": 12,
        }
    )
    report = group_report(group=group, start=day, end=day, now=timezone.now())
    assert (
        report.total.calls,
        report.total.callbacks,
        report.total.callbacks_answered,
    ) == (
        1,
        1,
        1,
    )
    assert missed_callers(group=group, start=day, end=day, now=timezone.now()) == []


def test_the_fake_posts_status_callbacks_to_the_service(
    fake_exotel, group, asha, live_server
):
    placed = place_callback(
        group=group,
        caller=CALLER,
        status_callback_url=f"{live_server.url}/exotel/{TOKEN}/callback-events/",
        now=timezone.now(),
    )
    sid = placed.call.exotel_sid
    assert (
        fake_exotel.status_callback(
            sid, as_json=False, EventType="answered", Status="in-progress"
        ).status_code
        == 200
    )
    assert (
        fake_exotel.status_callback(
            sid,
            ConversationDuration=30,
            Legs=[{"Status": "completed"}, {"Status": "completed"}],
        ).status_code
        == 200
    )
    call = Call.objects.get(pk=placed.call.pk)
    assert (call.result, call.talk_seconds) == (CallResult.ANSWERED, 30)
    assert call.answered_at is not None


def test_the_page_has_the_button_and_says_how_it_went(
    fake_exotel, group, asha, admin_client
):
    Call.objects.create(
        sid="missed1",
        caller=CALLER,
        group=group,
        result=CallResult.NOT_ANSWERED,
        ended_at=timezone.now(),
    )
    page = reverse("supervisor-missed-callers", args=["support"])
    html = admin_client.get(page).content.decode()
    assert 'class="call-back-button"' in html
    response = admin_client.post(
        reverse("supervisor-call-back", args=["support"]),
        {"caller": CALLER, "next": page},
        follow=True,
    )
    assert f"Calling Asha first, then {CALLER}." in response.content.decode()


def test_the_page_says_call_back_is_off(settings, group, admin_client):
    settings.EXOTEL_API_KEY = ""
    Call.objects.create(
        sid="missed1",
        caller=CALLER,
        group=group,
        result=CallResult.NOT_ANSWERED,
        ended_at=timezone.now(),
    )
    html = admin_client.get(
        reverse("supervisor-missed-callers", args=["support"])
    ).content.decode()
    assert (
        "Call back is off. Exotel&#x27;s API is off" in html
        or "Call back is off. Exotel's API is off" in html
    )
    assert 'class="call-back-button"' not in html


def test_the_callers_owner_goes_first(fake_exotel, group, asha, ravi, make_agent):
    from agents.models import Caller

    owner = make_agent("Meera", group)
    Caller.objects.create(number=CALLER, owner=owner)
    earlier = Call.objects.create(sid="old", caller=CALLER, group=group)
    Attempt.objects.create(
        call=earlier,
        agent=ravi,
        number=str(ravi.phone),
        position=1,
        outcome=Outcome.COMPLETED,
        outcome_at=timezone.now(),
    )
    assert place(group).message == f"Calling Meera first, then {CALLER}."


def test_a_busy_owner_is_passed_over(fake_exotel, group, asha, make_agent):
    from agents.models import Caller

    owner = make_agent("Meera", group, status="break")
    Caller.objects.create(number=CALLER, owner=owner)
    assert place(group).message == f"Calling Asha first, then {CALLER}."
