import datetime as dt
from dataclasses import replace

import pytest

from routing.calls.entry_group import route_rank
from routing.decision.engine import (
    Candidate,
    GroupSettings,
    Offer,
    Pool,
    Report,
    plan,
    settle,
    slots_to_fill,
    still_pending,
)

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
EARLIER = NOW - dt.timedelta(seconds=1)
N1, N2 = "+919000000001", "+919000000002"


def offer(position, outcome="pending", hold_until=LATER, number=None):
    return Offer(
        attempt_id=position,
        number=number or f"+9190000000{position:02d}",
        position=position,
        outcome=outcome,
        hold_until=hold_until,
        agent_id=position,
    )


ROUND = NOW - dt.timedelta(seconds=30)
NEXT_ROUND = NOW - dt.timedelta(seconds=10)


def in_round(position, offered_at=ROUND):
    return replace(offer(position), offered_at=offered_at)


@pytest.mark.parametrize(
    ("offers", "report", "parallel", "closes", "pending", "result"),
    [
        ([offer(1)], Report(), False, {}, [1], ""),
        ([offer(1)], Report(N1, "no-answer"), False, {1: "no-answer"}, [], ""),
        (
            [offer(1), offer(2), offer(3)],
            Report(N2, "busy"),
            False,
            {2: "busy", 1: "failed"},
            [3],
            "",
        ),
        ([offer(1, "no-answer")], Report(N1, "no-answer"), False, {}, [], ""),
        ([offer(1)], Report("+919000000009", "no-answer"), False, {}, [1], ""),
        ([offer(1)], Report(N1, ""), False, {}, [1], ""),
        (
            [offer(1, hold_until=EARLIER), offer(2)],
            Report(),
            False,
            {1: "expired"},
            [2],
            "",
        ),
        ([offer(1, hold_until=NOW)], Report(), False, {1: "expired"}, [], ""),
        ([offer(1, hold_until=None)], Report(), False, {}, [1], ""),
        (
            [offer(1), offer(2)],
            Report(N1, "canceled", hangup=True),
            False,
            {1: "canceled", 2: "canceled"},
            [],
            "abandoned",
        ),
        (
            [offer(1), offer(2)],
            Report(N1, "", hangup=True),
            False,
            {1: "canceled", 2: "canceled"},
            [],
            "abandoned",
        ),
        (
            [offer(1)],
            Report("", "", hangup=True),
            False,
            {1: "canceled"},
            [],
            "abandoned",
        ),
        (
            [offer(1), offer(2)],
            Report(N1, "completed"),
            False,
            {1: "completed", 2: "canceled"},
            [],
            "answered",
        ),
        (
            [offer(1), offer(2)],
            Report(N2, "no-answer", ends_call=True),
            False,
            {2: "no-answer", 1: "canceled"},
            [],
            "not-answered",
        ),
        (
            [in_round(1), in_round(2), in_round(3, NEXT_ROUND)],
            Report(N1, "no-answer"),
            True,
            {1: "no-answer", 2: "no-answer"},
            [3],
            "",
        ),
    ],
    ids=[
        "first-look-keeps-pending",
        "reported-number-closed",
        "earlier-pending-of-same-answer-passed",
        "report-on-closed-number-changes-nothing",
        "report-on-unknown-number-changes-nothing",
        "number-without-status-records-nothing",
        "hold-run-out-expires",
        "hold-ending-now-expires",
        "no-hold-never-expires",
        "hang-up-cancels-every-pending-offer",
        "hang-up-without-status-cancels-the-ringing-number",
        "hang-up-before-any-report-abandons-the-call",
        "answer-ends-the-call-and-cancels-the-rest",
        "passthru-ends-the-call-not-answered",
        "parallel-round-closes-as-no-answer-together",
    ],
)
def test_settle(offers, report, parallel, closes, pending, result):
    settlement = settle(offers, report, now=NOW, parallel_ringing=parallel)
    assert {c.offer.position: c.outcome for c in settlement.closures} == closes
    missed = {c.offer.position for c in settlement.closures if c.missed}
    assert missed == {p for p, outcome in closes.items() if outcome == "no-answer"}
    assert [o.position for o in still_pending(offers, settlement)] == pending
    assert settlement.result == result


@pytest.mark.parametrize(
    ("pending", "offered", "batch_size", "max_attempts", "slots"),
    [
        (0, 0, 1, 0, 1),
        (1, 1, 1, 0, 0),
        (1, 3, 3, 0, 2),
        (0, 5, 2, 6, 1),
        (0, 6, 2, 6, 0),
        (0, 9, 2, 6, 0),
        (4, 4, 2, 0, 0),
    ],
    ids=[
        "first-request-fills-batch",
        "pending-fills-batch",
        "top-up-to-batch",
        "cap-limits-top-up",
        "cap-reached",
        "cap-exceeded",
        "more-pending-than-batch",
    ],
)
def test_slots_to_fill(pending, offered, batch_size, max_attempts, slots):
    assert (
        slots_to_fill(
            pending=pending,
            offered=offered,
            batch_size=batch_size,
            max_attempts=max_attempts,
        )
        == slots
    )


def group(gid, batch=1, cap=0, fallbacks=(), hold=300):
    return GroupSettings(
        id=gid,
        slug=f"g{gid}",
        strategy="Sequential",
        batch_size=batch,
        max_attempts=cap,
        hold_seconds=hold,
        fallback_numbers=tuple(fallbacks),
    )


def member(agent_id, priority=1, sticky=False):
    return Candidate(
        membership_id=agent_id,
        agent_id=agent_id,
        number=f"+9180000000{agent_id:02d}",
        name=f"Agent {agent_id}",
        priority=priority,
        position=agent_id,
        sticky=sticky,
    )


def pool(*agent_ids, complete=True):
    return Pool(tuple(member(a) for a in agent_ids), complete=complete)


@pytest.mark.parametrize(
    ("chain", "pools", "offers", "lost", "numbers", "needs"),
    [
        ([group(1)], {1: pool(1, 2)}, [], set(), [member(1).number], None),
        (
            [group(1, batch=3)],
            {1: pool(1, 2)},
            [],
            set(),
            [member(1).number, member(2).number],
            None,
        ),
        ([group(1), group(2)], {1: pool()}, [], set(), [], 2),
        (
            [group(1), group(2)],
            {1: pool(), 2: pool(5)},
            [],
            set(),
            [member(5).number],
            None,
        ),
        (
            [
                group(1, batch=2, fallbacks=["+911"]),
                group(2, fallbacks=["+912", "+911"]),
            ],
            {1: pool(), 2: pool()},
            [],
            set(),
            ["+911", "+912"],
            None,
        ),
        (
            [group(1, batch=2, cap=1)],
            {1: pool(1, 2)},
            [],
            set(),
            [member(1).number],
            None,
        ),
        (
            [group(1, batch=2, cap=1)],
            {1: pool(1, 2)},
            [offer(1, "no-answer")],
            set(),
            [],
            None,
        ),
        ([group(1)], {1: pool(1, 2)}, [], {1}, [member(2).number], None),
        ([group(1)], {1: pool(1, complete=False)}, [], {1}, [], 1),
        (
            [group(1, batch=2), group(2)],
            {1: pool(1), 2: pool(1, 3)},
            [],
            set(),
            [member(1).number, member(3).number],
            None,
        ),
        (
            [group(1, batch=2)],
            {1: pool(1, 2)},
            [replace(offer(1), number=member(1).number)],
            set(),
            [member(1).number, member(2).number],
            None,
        ),
    ],
    ids=[
        "first-in-strategy-order",
        "batch-takes-what-the-group-has",
        "empty-group-reads-the-overflow-next",
        "overflow-gives-the-agent",
        "fallbacks-entry-group-first-each-once",
        "cap-limits-the-batch",
        "cap-reached-answers-empty",
        "agent-lost-to-another-call-skipped",
        "short-of-candidates-reads-more",
        "agent-in-two-groups-offered-once",
        "pending-number-first-then-top-up",
    ],
)
def test_plan(chain, pools, offers, lost, numbers, needs):
    settlement = settle(offers, Report(), now=NOW)
    planned = plan(
        offers=offers,
        settlement=settlement,
        chain=chain,
        pools=pools,
        now=NOW,
        lost_agent_ids=frozenset(lost),
    )
    assert planned.needs == needs
    if needs is None:
        assert planned.numbers == numbers


def test_plan_reasons_and_holds():
    chain = [group(1, batch=2, fallbacks=["+911"], hold=60)]
    sticky = replace(member(1), sticky=True)
    planned = plan(
        offers=[],
        settlement=settle([], Report(), now=NOW),
        chain=chain,
        pools={1: Pool((sticky,), complete=True)},
        now=NOW,
    )
    assert planned.reasons == [
        "g1: answered this caller last; tier 1, sequential",
        "g1: fallback number",
    ]
    assert [o.hold_until for o in planned.new] == [NOW + dt.timedelta(seconds=60), None]


def test_abandoned_call_gets_nothing_new():
    planned = plan(
        offers=[],
        settlement=settle([], Report(), now=NOW),
        chain=[group(1)],
        pools={1: pool(1)},
        now=NOW,
        call_over=True,
    )
    assert planned.numbers == []


EXO = "+918069891522"


@pytest.mark.parametrize(
    ("exophones", "digits", "call_exophone", "call_digits", "rank"),
    [
        ([EXO], "2", EXO, "2", 0),
        ([EXO], "", EXO, "2", 1),
        (["*"], "2", EXO, "2", 2),
        (["*"], "", EXO, "", 3),
        ([EXO], "2", EXO, "3", None),
        ([EXO], "", "+918000000000", "", None),
        (["*"], "2", EXO, "", None),
    ],
    ids=[
        "exophone-and-digits",
        "exophone-any-digits",
        "default-route-with-digits",
        "default-route",
        "other-digits-do-not-match",
        "other-exophone-does-not-match",
        "digits-route-needs-digits",
    ],
)
def test_route_rank(exophones, digits, call_exophone, call_digits, rank):
    assert (
        route_rank(
            exophones=exophones,
            digits=digits,
            call_exophone=call_exophone,
            call_digits=call_digits,
        )
        == rank
    )
