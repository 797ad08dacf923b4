"""reconcile_calls: outcomes nobody reported, looked up in the fake Exotel."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from routing.calls.reconcile import reconcile_calls, record_details
from routing.exotel.call_details import CallDetails
from routing.exotel_api.client import ExotelClient
from routing.exotel_api.ratelimit import RateLimiter
from routing.models import Attempt, Call, CallResult, Outcome
from tests.exotel_api.fake import Failure
from tests.exotel_api.test_client import VirtualClock

pytestmark = pytest.mark.django_db

ANSWERED = {
    "ConversationDuration": 71,
    "Leg1Status": "completed",
    "Leg2Status": "completed",
    "Legs": [{"Leg": {"Id": 1, "OnCallDuration": 95}}],
}
NOT_ANSWERED = {
    "ConversationDuration": 0,
    "Leg1Status": "completed",
    "Leg2Status": "null",
}


@pytest.fixture
def group(make_group):
    return make_group("support")


def make_call(group, sid, *, minutes_ago=10, agents=(), outcome=Outcome.EXPIRED):
    now = timezone.now()
    call = Call.objects.create(
        sid=sid,
        caller="+919900000001",
        group=group,
        first_seen_at=now - dt.timedelta(minutes=minutes_ago),
    )
    for position, agent in enumerate(agents, start=1):
        Attempt.objects.create(
            call=call,
            agent=agent,
            group=group,
            number=str(agent.phone),
            position=position,
            offered_at=call.first_seen_at,
            hold_until=call.first_seen_at + dt.timedelta(minutes=1),
            outcome=outcome,
        )
    if not agents:
        # A fallback number nobody reported on: "no outcome reported".
        Attempt.objects.create(
            call=call, group=group, number="+919700000001", position=1
        )
    return call


def run(**options) -> str:
    out = io.StringIO()
    call_command("reconcile_calls", stdout=out, stderr=out, **options)
    return out.getvalue()


def test_answered_call_gets_result_talk_time_recording_and_agent(
    fake_exotel, group, make_agent
):
    asha = make_agent("Asha", group)
    call = make_call(group, "sid1", agents=[asha])
    fake_exotel.add_call(
        "sid1",
        details=ANSWERED,
        RecordingUrl="https://recordings.example/sid1.mp3",
        EndTime="2026-11-02 12:02:00",
    )

    output = run()

    call.refresh_from_db()
    assert call.result == CallResult.ANSWERED
    assert call.talk_seconds == 71
    assert call.recording_url == "https://recordings.example/sid1.mp3"
    assert call.answered_by == asha
    assert call.outcome_from_api
    assert call.ended_at == dt.datetime(2026, 11, 2, 6, 32, tzinfo=dt.UTC)
    attempt = call.attempts.get()
    assert (attempt.outcome, attempt.talk_seconds) == (Outcome.COMPLETED, 71)
    assert fake_exotel.requests()[0].query == {"details": "true"}
    assert "Recorded 1 of 1 calls (1 answered, 0 not answered)" in output


def test_a_second_run_asks_nothing_and_changes_nothing(fake_exotel, group, make_agent):
    make_call(group, "sid1", agents=[make_agent("Asha", group)])
    fake_exotel.add_call("sid1", details=ANSWERED)
    run()
    assert "Recorded 0 of 0 calls" in run()
    assert len(fake_exotel.requests()) == 1


def test_not_answered_when_the_agent_leg_never_completed(
    fake_exotel, group, make_agent
):
    call = make_call(group, "sid1", agents=[make_agent("Asha", group)])
    fake_exotel.add_call("sid1", details=NOT_ANSWERED)
    run()
    call.refresh_from_db()
    assert (call.result, call.answered_by, call.talk_seconds) == (
        CallResult.NOT_ANSWERED,
        None,
        None,
    )
    assert call.attempts.get().outcome == Outcome.EXPIRED


def test_the_agent_is_the_number_exotel_names(fake_exotel, group, make_agent):
    asha, ravi = make_agent("Asha", group), make_agent("Ravi", group)
    call = make_call(group, "sid1", agents=[asha, ravi])
    fake_exotel.add_call("sid1", details=ANSWERED, To=str(ravi.phone))
    run()
    call.refresh_from_db()
    assert call.answered_by == ravi


def test_two_unreported_offers_and_no_number_leave_the_agent_unknown(
    fake_exotel, group, make_agent
):
    call = make_call(
        group, "sid1", agents=[make_agent("Asha", group), make_agent("Ravi", group)]
    )
    fake_exotel.add_call("sid1", details=ANSWERED, To="sip:agent1")
    run()
    call.refresh_from_db()
    assert (call.result, call.answered_by) == (CallResult.ANSWERED, None)


def test_a_call_not_over_is_asked_again_next_run(fake_exotel, group):
    call = make_call(group, "sid1")
    fake_exotel.add_call("sid1", Status="in-progress", details={})
    assert "1 not over" in run()
    call.refresh_from_db()
    assert call.result == CallResult.IN_PROGRESS
    run()
    assert len(fake_exotel.requests()) == 2


def test_404_is_not_yet_for_an_hour_then_never(fake_exotel, group):
    young = make_call(group, "young", minutes_ago=30)
    old = make_call(group, "old", minutes_ago=61)
    output = run()
    assert "1 not at Exotel yet, 1 never found" in output
    young.refresh_from_db()
    old.refresh_from_db()
    assert (young.api_not_found, old.api_not_found) == (False, True)
    run()
    assert [seen.path.rsplit("/", 1)[1] for seen in fake_exotel.requests()] == [
        "old.json",
        "young.json",
        "young.json",
    ]


def test_only_unreported_calls_between_older_than_and_a_day(fake_exotel, group):
    make_call(group, "too-young", minutes_ago=1)
    make_call(group, "too-old", minutes_ago=24 * 60 + 1)
    ended = make_call(group, "ended")
    Call.objects.filter(pk=ended.pk).update(result=CallResult.NOT_ANSWERED)
    callback = make_call(group, "cb-callback")
    Call.objects.filter(pk=callback.pk).update(is_callback=True)
    make_call(group, "wanted", minutes_ago=4)
    run(older_than=2)
    assert [seen.path.rsplit("/", 1)[1] for seen in fake_exotel.requests()] == [
        "wanted.json"
    ]


def test_dry_run_asks_but_records_nothing(fake_exotel, group, make_agent):
    call = make_call(group, "sid1", agents=[make_agent("Asha", group)])
    fake_exotel.add_call("sid1", details=ANSWERED)
    assert "Would record 1 of 1" in run(dry_run=True)
    call.refresh_from_db()
    assert call.result == CallResult.IN_PROGRESS
    assert call.attempts.get().outcome == Outcome.EXPIRED


def test_refused_credentials_stop_the_run(fake_exotel, group, settings):
    make_call(group, "sid1")
    make_call(group, "sid2")
    settings.EXOTEL_API_TOKEN = "wrong"
    with pytest.raises(CommandError, match="stopped: .*HTTP 401") as raised:
        run()
    assert "wrong" not in str(raised.value)
    assert len(fake_exotel.requests()) == 1


def test_a_failed_lookup_is_counted_and_the_run_goes_on(fake_exotel, group, settings):
    make_call(group, "sid1", minutes_ago=20)
    make_call(group, "sid2")
    fake_exotel.add_call("sid2", details=NOT_ANSWERED)
    fake_exotel.fail_next(Failure(400))
    output = run()
    assert "1 failed" in output
    assert Call.objects.get(sid="sid2").result == CallResult.NOT_ANSWERED


def test_off_without_the_account(settings, group):
    settings.EXOTEL_API_KEY = ""
    with pytest.raises(CommandError, match="Exotel's API is off"):
        run()


def test_a_run_cut_off_loses_nothing_and_the_next_goes_on(fake_exotel, group):
    for index in range(6):
        make_call(group, f"sid{index}", minutes_ago=20 - index)
        fake_exotel.add_call(f"sid{index}", details=NOT_ANSWERED)

    class CutOff(ExotelClient):
        asked = 0

        def call_details(self, call_sid, **options):
            if self.asked == 3:
                raise KeyboardInterrupt
            self.asked += 1
            return super().call_details(call_sid, **options)

    with CutOff.from_settings() as client, pytest.raises(KeyboardInterrupt):
        reconcile_calls(client=client, now=timezone.now())
    recorded = Call.objects.filter(outcome_from_api=True)
    assert sorted(recorded.values_list("sid", flat=True)) == ["sid0", "sid1", "sid2"]

    assert "Recorded 3 of 3" in run()
    assert recorded.count() == 6


def test_an_end_reported_meanwhile_is_kept(group):
    call = make_call(group, "sid1")
    Call.objects.filter(pk=call.pk).update(result=CallResult.ABANDONED)
    done = record_details(
        call_id=call.pk,
        details=CallDetails(settled=True, answered=True, talk_seconds=5),
        now=timezone.now(),
    )
    assert done == "ended"
    call.refresh_from_db()
    assert (call.result, call.outcome_from_api) == (CallResult.ABANDONED, False)


def test_a_thousand_calls_stay_under_the_rate_limit(fake_exotel, group):
    clock = VirtualClock()
    fake_exotel.clock = clock
    fake_exotel.per_minute = 200
    now = timezone.now()
    Call.objects.bulk_create(
        Call(
            sid=f"bulk{index:04d}",
            group=group,
            caller="+919900000001",
            first_seen_at=now - dt.timedelta(minutes=10, seconds=index),
        )
        for index in range(1000)
    )
    Attempt.objects.bulk_create(
        Attempt(call=call, group=group, number="+919700000001", position=1)
        for call in Call.objects.all()
    )
    for index in range(1000):
        fake_exotel.add_call(f"bulk{index:04d}", details=NOT_ANSWERED)
    limiter = RateLimiter(per_minute=200, clock=clock, sleep=clock.sleep)
    started = clock.now

    with ExotelClient.from_settings(limiter=limiter, sleep=clock.sleep) as client:
        tally = reconcile_calls(client=client, now=now)

    assert tally.not_answered == 1000
    statuses = [seen.status for seen in fake_exotel.requests()]
    assert statuses.count(200) == 1000
    assert 429 not in statuses
    # 20 at once, then 180 a minute: about 5.4 minutes, not faster.
    assert (clock.now - started) / 60 == pytest.approx(980 / 180, abs=0.05)
