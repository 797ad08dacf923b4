"""Routing semantics (DESIGN section 5), driven through the service with `now`."""

import datetime as dt
import zoneinfo

import pytest
from django.db import OperationalError

from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentStatus,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)
from routing.calls import batch
from routing.calls.services import UnknownGroup, record_call_end, route_call
from routing.exotel.requests import parse_exotel_request
from routing.models import Attempt, Call, CallResult, Outcome
from tests.conftest import at

pytestmark = pytest.mark.django_db

NOON = at(12)


def route(sid, group="support", now=NOON, **params):
    request = parse_exotel_request({"CallSid": sid, **params})
    return route_call(request=request, group_slug=group, now=now).numbers


def report(sid, agent, status, group="support", now=NOON):
    return route(
        sid, group, now, DialWhomNumber=str(agent.phone), DialCallStatus=status
    )


def end(sid, agent, status="completed", now=NOON, duration="60"):
    request = parse_exotel_request(
        {
            "CallSid": sid,
            "DialWhomNumber": str(agent.phone),
            "DialCallStatus": status,
            "DialCallDuration": duration,
        }
    )
    return record_call_end(request=request, now=now)


def phones(*agents):
    return [str(agent.phone) for agent in agents]


def test_sequential_walks_the_group_then_answers_empty(make_group, make_agent):
    group = make_group()
    a, b, c = (make_agent(n, group) for n in ["Asha", "Bala", "Chen"])
    assert route("c1") == phones(a)
    assert report("c1", a, "no-answer") == phones(b)
    assert report("c1", b, "busy") == phones(c)
    assert report("c1", c, "failed") == []
    assert Attempt.objects.filter(call__sid="c1").count() == 3


def test_tier_two_only_after_tier_one_exhausted(make_group, make_agent):
    group = make_group()
    backup = make_agent("Aaron", group, priority=2)
    first = make_agent("Zed", group, priority=1)
    assert route("c1") == phones(first)
    assert report("c1", first, "no-answer") == phones(backup)


def test_position_then_name_within_a_tier(make_group, make_agent):
    group = make_group()
    b = make_agent("Bala", group)
    a = make_agent("Asha", group)
    Membership.objects.filter(agent=a).update(position=0)
    Membership.objects.filter(agent=b).update(position=0)
    assert route("c1") == phones(a)


def test_repeated_request_gets_same_answer_and_no_new_attempt(make_group, make_agent):
    group = make_group()
    a = make_agent("Asha", group)
    make_agent("Bala", group)
    assert route("c1") == phones(a)
    assert route("c1") == phones(a)
    assert route("c1", now=NOON + dt.timedelta(seconds=5)) == phones(a)
    assert Attempt.objects.count() == 1


def test_repeated_report_changes_nothing(make_group, make_agent):
    group = make_group(missed_to_pause=3)
    a, b = make_agent("Asha", group), make_agent("Bala", group)
    route("c1")
    assert report("c1", a, "no-answer") == phones(b)
    assert report("c1", a, "no-answer") == phones(b)
    a.refresh_from_db()
    assert a.missed_in_row == 1
    assert Attempt.objects.count() == 2


def test_batch_answers_pending_first_then_tops_up(make_group, make_agent):
    group = make_group(batch_size=2)
    a, b, c, d = (make_agent(n, group) for n in ["A", "B", "C", "D"])
    assert route("c1") == phones(a, b)
    assert report("c1", a, "no-answer") == phones(b, c)
    # Exotel reports C: B was dialled before it and passed.
    assert report("c1", c, "no-answer") == phones(d)
    assert Attempt.objects.get(agent=b).outcome == Outcome.FAILED


def test_max_attempts_caps_the_call(make_group, make_agent):
    group = make_group(max_attempts=2, fallback_numbers="+919812345678")
    a, b, _ = (make_agent(n, group) for n in ["A", "B", "C"])
    route("c1")
    assert report("c1", a, "no-answer") == phones(b)
    assert report("c1", b, "no-answer") == []


@pytest.mark.parametrize(
    "make_ineligible",
    [
        lambda agent: Agent.objects.filter(pk=agent.pk).update(
            status=AgentStatus.BREAK
        ),
        lambda agent: Agent.objects.filter(pk=agent.pk).update(
            status=AgentStatus.OFFLINE
        ),
        lambda agent: Agent.objects.filter(pk=agent.pk).update(active=False),
        lambda agent: Membership.objects.filter(agent=agent).update(active=False),
        lambda agent: AgentHours.objects.create(
            agent=agent, weekday=0, starts=dt.time(14), ends=dt.time(18)
        ),
        lambda agent: TimeOff.objects.create(
            agent=agent,
            starts_at=NOON - dt.timedelta(hours=1),
            ends_at=NOON + dt.timedelta(hours=1),
        ),
        lambda agent: Agent.objects.filter(pk=agent.pk).update(
            engaged_until=NOON + dt.timedelta(seconds=1), engaged_call_sid="other"
        ),
    ],
    ids=[
        "on-break-skipped",
        "offline-skipped",
        "inactive-agent-skipped",
        "inactive-membership-skipped",
        "off-shift-agent-skipped",
        "time-off-skipped",
        "engaged-agent-skipped",
    ],
)
def test_ineligible_agent_skipped(make_group, make_agent, make_ineligible):
    group = make_group()
    first, second = make_agent("Asha", group), make_agent("Bala", group)
    make_ineligible(first)
    assert route("c1") == phones(second)


def test_hours_crossing_midnight_in_agent_timezone(make_group, make_agent):
    group = make_group()
    night = make_agent("Night", group, timezone="Europe/London")
    AgentHours.objects.create(
        agent=night, weekday=0, starts=dt.time(22), ends=dt.time(6)
    )
    # Tuesday 04:00 in London is 09:30 IST: Monday's night shift covers it.
    tuesday_early = dt.datetime(2026, 11, 3, 4, 0, tzinfo=dt.UTC)
    assert route("c1", now=tuesday_early) == phones(night)
    assert route("c2", now=tuesday_early + dt.timedelta(hours=3)) == []


@pytest.mark.parametrize(
    "close",
    [
        lambda group: Holiday.objects.create(group=group, date=NOON.date()),
        lambda group: GroupHours.objects.create(
            group=group, weekday=0, starts=dt.time(9), ends=dt.time(11)
        ),
    ],
    ids=["holiday-overflows", "outside-opening-hours-overflows"],
)
def test_closed_group_overflows(make_group, make_agent, close):
    spare = make_group("spare")
    group = make_group(overflow=spare, fallback_numbers="+919812345678")
    make_agent("Asha", group)
    helper = make_agent("Helper", spare)
    close(group)
    assert route("c1") == phones(helper)
    assert report("c1", helper, "no-answer") == ["+919812345678"]
    assert route("c1", DialWhomNumber="+919812345678", DialCallStatus="no-answer") == []


def test_overflow_chain_cycle_and_fallback_order(make_group, make_agent):
    entry = make_group("support", fallback_numbers="+919811111111;+919822222222")
    second = make_group("second", fallback_numbers="+919822222222;+919833333333")
    entry.overflow = second
    entry.save()
    second.overflow = entry
    second.save()
    a = make_agent("A", entry)
    b = make_agent("B", second)
    assert route("c1") == phones(a)
    assert report("c1", a, "no-answer") == phones(b)
    numbers = []
    last = b
    for _ in range(3):
        answer = route(
            "c1",
            DialWhomNumber=str(getattr(last, "phone", last)),
            DialCallStatus="no-answer",
        )
        numbers += answer
        last = answer[0] if answer else None
    assert numbers == ["+919811111111", "+919822222222", "+919833333333"]
    assert route("c1", DialWhomNumber=last or "", DialCallStatus="no-answer") == []


def test_two_calls_never_get_the_same_agent(make_group, make_agent):
    group = make_group()
    a, b = make_agent("Asha", group), make_agent("Bala", group)
    assert route("c1") == phones(a)
    assert route("c2") == phones(b)
    assert route("c3") == []


def test_failed_attempt_frees_agent_at_once(make_group, make_agent):
    group = make_group()
    a = make_agent("Asha", group)
    route("c1")
    assert route("c2") == []
    report("c1", a, "no-answer")
    assert route("c2") == phones(a)


def test_hold_time_frees_agent_and_expires_offer(make_group, make_agent):
    group = make_group(hold_seconds=60)
    a, b = make_agent("Asha", group), make_agent("Bala", group)
    route("c1")
    later = NOON + dt.timedelta(seconds=61)
    assert route("c2", now=later) == phones(a)
    # c1's offer of Asha lapsed: it is not answered again.
    assert route("c1", now=later) == phones(b)
    assert Attempt.objects.get(call__sid="c1", agent=a).outcome == Outcome.EXPIRED


def test_hold_zero_engages_no_one(make_group, make_agent):
    group = make_group(hold_seconds=0)
    a = make_agent("Asha", group)
    assert route("c1") == phones(a)
    assert route("c2") == phones(a)
    assert route("c1") == phones(a)


def test_answered_call_frees_after_wrapup(make_group, make_agent):
    group = make_group(wrapup_seconds=30)
    a = make_agent("Asha", group)
    route("c1")
    call = end("c1", a, now=NOON + dt.timedelta(minutes=3))
    assert call.result == CallResult.ANSWERED
    assert call.answered_by == a
    assert call.talk_seconds == 60
    after_call = NOON + dt.timedelta(minutes=3, seconds=10)
    assert route("c2", now=after_call) == []
    assert route("c3", now=after_call + dt.timedelta(seconds=30)) == phones(a)


def test_completed_on_dial_whom_counts_as_answered(make_group, make_agent):
    group = make_group(wrapup_seconds=0)
    a = make_agent("Asha", group)
    route("c1")
    report("c1", a, "completed")
    a.refresh_from_db()
    assert a.last_answered_at == NOON
    assert Call.objects.get(sid="c1").result == CallResult.ANSWERED


def test_passthru_closes_other_pending_offers(make_group, make_agent):
    group = make_group(batch_size=3)
    a, b, c = (make_agent(n, group) for n in ["A", "B", "C"])
    route("c1")
    end("c1", a)
    outcomes = dict(Attempt.objects.values_list("agent__name", "outcome"))
    assert outcomes == {
        "A": Outcome.COMPLETED,
        "B": Outcome.CANCELED,
        "C": Outcome.CANCELED,
    }
    assert route("c2") == phones(b, c)


def test_passthru_for_unanswered_call(make_group, make_agent):
    group = make_group()
    a = make_agent("Asha", group)
    route("c1")
    call = end("c1", a, status="no-answer")
    assert call.result == CallResult.NOT_ANSWERED
    assert route("c2") == phones(a)


def test_missed_calls_pause_agent_and_answer_resets(make_group, make_agent):
    group = make_group(missed_to_pause=2)
    a = make_agent("Asha", group)
    make_agent("Bala", group)
    route("c1")
    report("c1", a, "no-answer")
    route("c2")
    end("c2", a, status="completed")
    a.refresh_from_db()
    assert a.missed_in_row == 0
    for sid in ["c3", "c4"]:
        route(sid, now=NOON + dt.timedelta(minutes=5))
        report(sid, a, "no-answer", now=NOON + dt.timedelta(minutes=5))
    a.refresh_from_db()
    assert (a.status, a.status_reason) == (AgentStatus.BREAK, "missed 2 calls")


def test_round_robin_rotates_and_skips_the_ineligible(make_group, make_agent):
    group = make_group(strategy="round-robin")
    a, b, c, d = (make_agent(n, group) for n in ["A", "B", "C", "D"])
    firsts = []
    for number in range(3):
        sid = f"r{number}"
        firsts += route(sid)
        end(sid, Agent.objects.get(phone=firsts[-1]), status="no-answer")
    assert firsts == phones(a, b, c)
    Agent.objects.filter(pk=a.pk).update(status=AgentStatus.BREAK)
    assert route("r3") == phones(d)
    end("r3", d, status="no-answer")
    # A is skipped while on break; the rotation goes on from D to B.
    assert route("r4") == phones(b)


def test_round_robin_keeps_one_rotation_per_tier(make_group, make_agent):
    group = make_group(strategy="round-robin")
    a, b = make_agent("A", group), make_agent("B", group)
    x, y = make_agent("X", group, priority=2), make_agent("Y", group, priority=2)
    route("r1")
    for agent in (a, b):
        route("r1") and report("r1", agent, "no-answer")
    assert Attempt.objects.filter(call__sid="r1").last().agent == x
    end("r1", x, status="no-answer")
    assert route("r2") == phones(a)
    report("r2", a, "no-answer")
    report("r2", b, "no-answer")
    assert Attempt.objects.filter(call__sid="r2").last().agent == y


def test_longest_idle_prefers_never_called_then_oldest(make_group, make_agent):
    group = make_group(strategy="longest-idle")
    recent = make_agent("A", group, last_answered_at=NOON - dt.timedelta(minutes=5))
    old = make_agent("B", group, last_answered_at=NOON - dt.timedelta(hours=5))
    never = make_agent("C", group)
    assert route("c1") == phones(never)
    assert report("c1", never, "no-answer") == phones(old)
    assert report("c1", old, "no-answer") == phones(recent)


def test_fewest_calls_counts_answered_calls_today(make_group, make_agent):
    group = make_group(strategy="fewest-calls", wrapup_seconds=0)
    busy_bee, quiet = make_agent("A", group), make_agent("B", group)
    morning = at(9)
    for sid in ["m1", "m2"]:
        route(sid, now=morning)
        end(sid, busy_bee, now=morning)
    yesterday = at(12, day=1)
    for sid in ["y1", "y2", "y3"]:
        route(sid, now=yesterday)
        Agent.objects.filter(pk=quiet.pk).update(engaged_until=None)
        Attempt.objects.filter(call__sid=sid).update(
            agent=quiet, outcome=Outcome.COMPLETED, outcome_at=yesterday
        )
    assert route("c1") == phones(quiet)


def counts(agent):
    """Each of the agent's memberships' count: {group slug: (day, answered)}."""
    return {
        m.group.slug: (m.answered_on, m.answered_today)
        for m in agent.memberships.select_related("group")
    }


def test_fewest_calls_counts_by_the_groups_local_day(make_group, make_agent):
    group = make_group(
        strategy="fewest-calls", wrapup_seconds=0, timezone="America/New_York"
    )
    a, b = make_agent("A", group), make_agent("B", group)
    ny = zoneinfo.ZoneInfo("America/New_York")
    evening = dt.datetime(2026, 11, 2, 23, 0, tzinfo=ny)  # 04:00 on the 3rd in UTC
    for sid, agent, minutes in (("e1", a, 0), ("e2", b, 10), ("e3", a, 30)):
        now = evening + dt.timedelta(minutes=minutes)
        assert route(sid, now=now) == phones(agent)
        end(sid, agent, now=now)
    nov_2, nov_3 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    assert counts(a) == {"support": (nov_2, 2)}
    assert counts(b) == {"support": (nov_2, 1)}
    # 23:30 still counted the 2nd: B has the fewest calls today.
    assert route("e4", now=evening + dt.timedelta(minutes=50)) == phones(b)
    # Past local midnight everyone starts again at 0; A's answer starts a new count.
    midnight = dt.datetime(2026, 11, 3, 0, 30, tzinfo=ny)
    assert route("n1", now=midnight) == phones(a)
    end("n1", a, now=midnight)
    assert counts(a) == {"support": (nov_3, 1)}
    assert route("n2", now=midnight + dt.timedelta(minutes=5)) == phones(b)


def test_fewest_calls_counts_answers_in_every_group(make_group, make_agent):
    sales = make_group("sales", wrapup_seconds=0, timezone="Asia/Kolkata")
    support = make_group(
        strategy="fewest-calls", wrapup_seconds=0, timezone="Europe/London"
    )
    both, other = make_agent("A", sales, support), make_agent("B", support)
    late = at(2, day=3)  # the 3rd in Kolkata, still the 2nd in London
    route("s1", "sales", now=late)
    end("s1", both, now=late)
    assert counts(both) == {
        "sales": (dt.date(2026, 11, 3), 1),
        "support": (dt.date(2026, 11, 2), 1),
    }
    assert counts(other) == {"support": (None, 0)}
    assert route("c1", now=late + dt.timedelta(minutes=1)) == phones(other)


@pytest.mark.django_db(transaction=True)
def test_an_answer_counts_in_autocommit(make_group, make_agent):
    """On PostgreSQL in autocommit the count is part of the one-statement write."""
    sales = make_group("sales", wrapup_seconds=0, timezone="Asia/Kolkata")
    support = make_group(wrapup_seconds=0, timezone="Europe/London")
    agent = make_agent("A", sales, support)
    route("s1", "sales")
    end("s1", agent)
    route("s2", "support", now=NOON + dt.timedelta(minutes=1))
    end("s2", agent, now=NOON + dt.timedelta(minutes=1))
    assert counts(agent) == {"sales": (NOON.date(), 2), "support": (NOON.date(), 2)}
    assert {m.idle_since for m in agent.memberships.all()} == {
        NOON + dt.timedelta(minutes=1)
    }


def test_random_stays_within_tiers(make_group, make_agent):
    group = make_group(strategy="random")
    tier_one = {str(make_agent(n, group).phone) for n in ["A", "B", "C"]}
    make_agent("Z", group, priority=2)
    assert set(route("c1")) <= tier_one


def test_sticky_sends_caller_to_last_answerer(make_group, make_agent):
    group = make_group(sticky_days=7, wrapup_seconds=0)
    make_agent("A", group)
    b = make_agent("B", group)
    caller = {"From": "09901320691"}
    route("c1", **caller)
    report("c1", Agent.objects.get(name="A"), "no-answer")
    end("c1", b)
    assert route("c2", now=NOON + dt.timedelta(minutes=1), **caller) == phones(b)
    assert Attempt.objects.get(call__sid="c2").reason.startswith(
        "support: answered this caller last"
    )
    assert route("c3", now=NOON + dt.timedelta(days=8), **caller) != phones(b)


def test_unpinned_call_follows_the_most_specific_route(make_group, make_agent):
    default = make_group("default", exophones="*")
    sales = make_group("sales", exophones="+918069891522", digits="2")
    a = make_agent("Default", default)
    s = make_agent("Sales", sales)
    exo = {"To": "08069891522"}
    assert route("c1", None, **exo, digits='"2"') == phones(s)
    assert route("c2", None, **exo, digits='"1"') == phones(a)


def test_unpinned_call_without_route_gets_empty_answer(make_group, make_agent):
    make_agent("Asha", make_group("sales", exophones="+918069891522"))
    assert route("c1", None, To="08000000000") == []
    assert Call.objects.get(sid="c1").group is None


def test_unknown_pinned_group_is_rejected(make_group):
    make_group()
    with pytest.raises(UnknownGroup):
        route("c1", "nope")
    assert not Call.objects.exists()


def test_call_keeps_its_first_group(make_group, make_agent):
    support, sales = make_group("support"), make_group("sales")
    a = make_agent("Asha", support)
    make_agent("Sam", sales)
    assert route("c1", "support") == phones(a)
    assert route("c1", "sales") == phones(a)
    assert AgentGroup.objects.get(calls__sid="c1") == support


def hang_up(sid, agent, status="canceled", now=NOON):
    return route(
        sid,
        now=now,
        CallType="client-hangup",
        DialWhomNumber=str(agent.phone),
        DialCallStatus=status,
    )


def test_caller_hanging_up_abandons_the_call_and_frees_everyone(make_group, make_agent):
    group = make_group(batch_size=2)
    a, b, c = (make_agent(n, group) for n in ["Asha", "Bala", "Chen"])
    assert route("c1") == phones(a, b)
    assert hang_up("c1", a) == []
    call = Call.objects.get(sid="c1")
    assert call.result == CallResult.ABANDONED and call.ended_at == NOON
    outcomes = dict(Attempt.objects.values_list("agent__name", "outcome"))
    assert outcomes == {"Asha": Outcome.CANCELED, "Bala": Outcome.CANCELED}
    assert not Agent.objects.exclude(pk=c.pk).filter(engaged_until__gt=NOON).exists()
    # Nobody new is claimed for it, now or later; the freed agents take calls.
    assert route("c1") == []
    assert report("c1", a, "no-answer") == []
    assert route("c2") == phones(a, b)


def test_hang_up_reported_by_the_passthru_abandons_the_call(make_group, make_agent):
    group = make_group()
    a = make_agent("Asha", group)
    route("c1")
    request = parse_exotel_request(
        {
            "CallSid": "c1",
            "CallType": "client-hangup",
            "DialWhomNumber": str(a.phone),
            "DialCallStatus": "canceled",
        }
    )
    assert record_call_end(request=request, now=NOON).result == CallResult.ABANDONED


def test_missed_call_pause_is_kept_in_the_status_history(make_group, make_agent):
    group = make_group(missed_to_pause=1)
    a = make_agent("Asha", group)
    make_agent("Bala", group)
    route("c1")
    report("c1", a, "no-answer")
    change = a.status_changes.get()
    assert (change.old_status, change.new_status, change.via, change.reason) == (
        AgentStatus.AVAILABLE,
        AgentStatus.BREAK,
        "missed-calls",
        "missed 1 calls",
    )


def test_break_with_an_end_counts_as_available_from_then(make_group, make_agent):
    group = make_group()
    a = make_agent("Asha", group)
    a.status, a.status_until = AgentStatus.BREAK, NOON + dt.timedelta(minutes=15)
    a.save()
    assert route("c1") == []
    assert route("c2", now=NOON + dt.timedelta(minutes=15)) == phones(a)


def test_parallel_round_closes_together_then_offers_the_next(make_group, make_agent):
    group = make_group(batch_size=2)
    AgentGroup.objects.filter(pk=group.pk).update(parallel_ringing=True)
    a, b, c, d = (make_agent(n, group) for n in ["A", "B", "C", "D"])
    assert route("c1") == phones(a, b)
    later = NOON + dt.timedelta(seconds=30)
    assert report("c1", a, "no-answer", now=later) == phones(c, d)
    outcomes = dict(Attempt.objects.values_list("agent__name", "outcome"))
    assert outcomes["B"] == Outcome.NO_ANSWER


def test_longest_idle_counts_an_answer_in_another_group(make_group, make_agent):
    sales = make_group("sales")
    support = make_group("support", strategy="longest-idle")
    a = make_agent("Asha", sales, support)
    b = make_agent("Bala", support, last_answered_at=NOON - dt.timedelta(hours=1))
    assert route("c1", "support") == phones(a)  # never answered: idle longest
    end("c1", a, status="no-answer")
    assert route("c2", "sales") == phones(a)
    end("c2", a)  # Asha answers for sales
    later = NOON + dt.timedelta(minutes=10)
    assert route("c3", "support", now=later) == phones(b)


def test_a_deadlock_is_decided_again_not_answered_as_an_outage(
    make_group, make_agent, monkeypatch
):
    group = make_group()
    a = make_agent("Asha", group)
    run, failures = batch.Batch._run, []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlock_once(batch):
        if not failures:
            failures.append(1)
            raise OperationalError("deadlock detected") from Deadlock()
        return run(batch)

    monkeypatch.setattr(batch.Batch, "_run", deadlock_once)
    assert route("c1") == phones(a)
    assert failures == [1]
