import datetime as dt

import pytest

from routing.engine import (
    Offer,
    pick_fallback_numbers,
    settle,
    slots_to_fill,
    still_pending,
)
from routing.routes import route_rank

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
EARLIER = NOW - dt.timedelta(seconds=1)


def offer(position, outcome="pending", hold_until=LATER, number=None):
    return Offer(
        attempt_id=position,
        number=number or f"+9190000000{position:02d}",
        position=position,
        outcome=outcome,
        hold_until=hold_until,
        agent_id=position,
    )


@pytest.mark.parametrize(
    ("offers", "number", "status", "reported", "passed", "expired", "pending"),
    [
        ([offer(1)], "", "", None, [], [], [1]),
        ([offer(1)], "+919000000001", "no-answer", 1, [], [], []),
        ([offer(1), offer(2), offer(3)], "+919000000002", "busy", 2, [1], [], [3]),
        ([offer(1, "no-answer")], "+919000000001", "no-answer", None, [], [], []),
        ([offer(1)], "+919000000009", "no-answer", None, [], [], [1]),
        ([offer(1)], "+919000000001", "", None, [], [], [1]),
        ([offer(1, hold_until=EARLIER), offer(2)], "", "", None, [], [1], [2]),
        ([offer(1, hold_until=NOW)], "", "", None, [], [1], []),
        ([offer(1, hold_until=None)], "", "", None, [], [], [1]),
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
    ],
)
def test_settle(offers, number, status, reported, passed, expired, pending):
    settlement = settle(offers, number=number, status=status, now=NOW)
    assert (settlement.reported.position if settlement.reported else None) == reported
    assert [o.position for o in settlement.passed] == passed
    assert [o.position for o in settlement.expired] == expired
    assert [o.position for o in still_pending(offers, settlement)] == pending


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


def test_fallback_numbers_each_once_in_chain_order():
    chain = ["+911", "+912", "+911", "+913"]
    assert pick_fallback_numbers(chain, offered={"+912"}, slots=5) == ["+911", "+913"]
    assert pick_fallback_numbers(chain, offered=set(), slots=1) == ["+911"]


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
