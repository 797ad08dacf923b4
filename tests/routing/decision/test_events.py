"""Programmable Connect's events applied to a call, as a table of sequences."""

import datetime as dt
from dataclasses import replace

import pytest

from routing.decision.events import CallEnd, CallState, EventEffect, Leg, apply_event
from routing.exotel.events import parse_connect_event
from routing.exotel.statuses import COMPLETED, PENDING

SID = "23c162077629863c1a2d7f29263a162m"
T0 = dt.datetime(2026, 11, 2, 6, 30, tzinfo=dt.UTC)
NUMBERS = {
    "A": "+919900000001",
    "B": "+919900000002",
    "C": "+919900000003",
    "D": "+919900000004",
}
NATIONAL = {name: "0" + number[3:] for name, number in NUMBERS.items()}


def advance(call: CallState, effect: EventEffect, *, now: dt.datetime) -> CallState:
    """Return `call` once `effect` is applied: the plain-data twin of the writes
    (`routing.calls.connect_events`)."""
    closed = dict(effect.closed)
    legs = []
    for leg in call.legs:
        if leg.attempt_id == effect.ringing and leg.ringing_at is None:
            leg = replace(leg, ringing_at=now)
        if leg.attempt_id == effect.answered:
            leg = replace(leg, answered_at=now)
        if leg.outcome == PENDING and leg.attempt_id in closed:
            leg = replace(leg, outcome=closed[leg.attempt_id])
        if leg.outcome == PENDING and leg.attempt_id == effect.completed:
            leg = replace(leg, outcome=COMPLETED)
        legs.append(leg)
    return CallState(
        legs=tuple(legs),
        final=call.final or effect.ends in (CallEnd.ANSWERED, CallEnd.ABANDONED),
        ended=(call.ended and not effect.reopens) or effect.ends is not None,
        parallel_ringing=call.parallel_ringing,
    )


# Applying events: sequences as a table -------------------------------------------


def call_of(*names: str, parallel: bool = True, **outcomes: str) -> CallState:
    """Return a call whose offers are `names`, one round (pending unless `outcomes`
    says), rung in parallel unless `parallel` is False."""
    return CallState(
        legs=tuple(
            Leg(
                attempt_id=index,
                number=NUMBERS[name],
                outcome=outcomes.get(name, "pending"),
                agent_id=100 + index,
                offered_at=T0,
                position=index,
            )
            for index, name in enumerate(names, start=1)
        ),
        parallel_ringing=parallel,
    )


def event(event_type: str, leg: str = "", **fields: str):
    return parse_connect_event(
        {
            "CallSid": SID,
            "EventType": event_type,
            "DialWhomNumber": NATIONAL[leg] if leg else "",
            **fields,
        }
    )


def play(call: CallState | None, events, *, step=dt.timedelta(seconds=5)):
    """Apply `events` one by one, 5 s apart; return the call, the effects."""
    effects = []
    now = T0
    for item in events:
        now += step
        effect = apply_event(call, item, now=now)
        effects.append(effect)
        if call is not None:
            call = advance(call, effect, now=now)
    return call, effects


def summary(call: CallState) -> dict[str, str]:
    """Return each offer as 'outcome[ rang][ answered]'."""
    names = {number: name for name, number in NUMBERS.items()}
    return {
        names[leg.number]: " ".join(
            [leg.outcome]
            + (["rang"] if leg.ringing_at else [])
            + (["answered"] if leg.answered_at else [])
        )
        for leg in call.legs
    }


def ends(effects) -> list[str]:
    return [str(effect.ends) for effect in effects if effect.ends]


DONE = "completed rang answered"
CASES = [
    pytest.param(
        call_of("A", "B", "C"),
        [
            event("Dial", "A"),
            event("Ringing", "A"),
            event("Ringing", "B"),
            event("Ringing", "C"),
            event("Answered", "B"),
            event("Terminal", "B", DialCallStatus="completed", DialCallDuration="90"),
        ],
        {"A": "canceled rang", "B": DONE, "C": "canceled rang"},
        ["answered"],
        id="answered-then-terminal-cancels-the-round",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Ringing", "A"),
            event("Answered", "A"),
            event("Cancelled", "B"),
            event("Terminal", "A", DialCallStatus="completed"),
        ],
        {"A": DONE, "B": "canceled"},
        ["answered"],
        id="terminal-of-each-leg-after-the-answer",
    ),
    pytest.param(
        call_of("A", "B"),
        [event("Ringing", "A"), event("Answered", "A"), event("Terminal")],
        {"A": DONE, "B": "canceled"},
        ["answered"],
        id="terminal-without-a-number-ends-the-answered-call",
    ),
    pytest.param(
        call_of("A", "B"),
        [event("Ringing", "A"), event("Terminal", DialCallStatus="no-answer")],
        {"A": "canceled rang", "B": "canceled"},
        ["not-answered"],
        id="terminal-without-answered-ends-the-call-as-a-passthru",
    ),
    pytest.param(
        call_of("A"),
        [event("Ringing", "A"), event("Terminal", "A", DialCallStatus="no-answer")],
        {"A": "no-answer rang"},
        ["not-answered"],
        id="terminal-without-answered-for-the-last-leg",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Terminal", "A", DialCallStatus="busy"),
            event("Ringing", "B"),
            event("Answered", "B"),
            event("Terminal", "B", DialCallStatus="completed"),
        ],
        {"A": "busy", "B": DONE},
        ["answered"],
        id="one-leg-busy-while-another-rings-on",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Ringing", "A"),
            event("Cancelled", "B"),
            event("Answered", "A"),
            event("Terminal", "A", DialCallStatus="completed"),
        ],
        {"A": DONE, "B": "canceled"},
        ["answered"],
        id="out-of-order-the-other-leg-cancelled-before-the-answer",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Terminal", "A", DialCallStatus="completed", DialCallDuration="30"),
            event("Answered", "A"),
            event("Ringing", "A"),
        ],
        {"A": "completed rang", "B": "canceled"},
        ["answered"],
        id="out-of-order-terminal-before-answered",
    ),
    pytest.param(
        call_of("A", "B"),
        [event("Answered", "A"), event("Ringing", "A"), event("Ringing", "B")],
        {"A": "pending rang answered", "B": "canceled rang"},
        [],
        id="out-of-order-ringing-after-the-answer",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Ringing", "A"),
            event("Ringing", "A"),
            event("Answered", "A"),
            event("Answered", "A"),
            event("Answered", "B"),
            event("Terminal", "A", DialCallStatus="completed"),
            event("Terminal", "A", DialCallStatus="completed"),
            event("Terminal"),
        ],
        {"A": DONE, "B": "canceled"},
        ["answered"],
        id="duplicate-events-apply-once",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Answered", "D"),
            event("Terminal", "D", DialCallStatus="completed"),
        ],
        {"A": "pending", "B": "pending"},
        [],
        id="number-never-offered-changes-nothing",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Ringing", "A"),
            event("Terminal", "A", CallType="client-hangup", DialCallStatus="canceled"),
            event("Answered", "B"),
        ],
        {"A": "canceled rang", "B": "canceled"},
        ["abandoned"],
        id="caller-hung-up-while-ringing",
    ),
    pytest.param(
        call_of("A", "B"),
        [event("Answered", "A"), event("Terminal", "A", CallType="client-hangup")],
        {"A": "completed answered", "B": "canceled"},
        ["answered"],
        id="caller-hanging-up-after-the-answer-ends-it-answered",
    ),
    pytest.param(
        call_of("A", "B", A="no-answer"),
        [event("Answered", "A"), event("Terminal", "B", DialCallStatus="no-answer")],
        {"A": "no-answer", "B": "no-answer"},
        ["not-answered"],
        id="answer-for-an-offer-already-closed-changes-nothing",
    ),
    pytest.param(
        call_of("A", "B"),
        [
            event("Queued", "A"),
            event("Terminal", DialCallStatus="completed"),
        ],
        {"A": "pending", "B": "pending"},
        [],
        id="unknown-event-and-anonymous-completion-change-nothing",
    ),
]


SEQUENTIAL_CASES = [
    pytest.param(
        call_of("A", "B", parallel=False),
        [event("Ringing", "A"), event("Ringing", "B")],
        {"A": "failed rang", "B": "pending rang"},
        [],
        id="sequential-second-ringing-passes-the-first",
    ),
    pytest.param(
        call_of("A", "B", parallel=False),
        [
            event("Ringing", "A"),
            event("Ringing", "B"),
            event("Terminal", "B", DialCallStatus="no-answer"),
        ],
        {"A": "failed rang", "B": "no-answer rang"},
        ["not-answered"],
        id="sequential-round-ends-unanswered-with-every-offer-closed",
    ),
    pytest.param(
        call_of("A", "B", parallel=False),
        [event("Ringing", "A"), event("Terminal", "B", DialCallStatus="busy")],
        {"A": "failed rang", "B": "busy"},
        ["not-answered"],
        id="sequential-second-ending-passes-the-first",
    ),
    pytest.param(
        call_of("A", "B", "C", parallel=False),
        [event("Ringing", "B"), event("Answered", "B")],
        {"A": "failed", "B": "pending rang answered", "C": "canceled"},
        [],
        id="sequential-answer-on-the-second-after-the-first-was-passed",
    ),
    pytest.param(
        call_of("A", "B", parallel=False),
        [event("Ringing", "A"), event("Ringing", "A")],
        {"A": "pending rang", "B": "pending"},
        [],
        id="sequential-first-ringing-passes-nobody",
    ),
    pytest.param(
        call_of("A", "B"),
        [event("Ringing", "A"), event("Ringing", "B")],
        {"A": "pending rang", "B": "pending rang"},
        [],
        id="parallel-round-mates-are-never-passed",
    ),
]


@pytest.mark.parametrize(
    ("call", "events", "expected", "call_ends"), CASES + SEQUENTIAL_CASES
)
def test_events_in_sequence(call, events, expected, call_ends):
    call, effects = play(call, events)
    assert summary(call) == expected
    assert ends(effects) == call_ends


def test_each_event_is_applied_once():
    call = call_of("A", "B")
    sequence = [
        event("Ringing", "A"),
        event("Answered", "A"),
        event("Terminal", "A", DialCallStatus="completed"),
    ]
    once, _ = play(call, sequence)
    twice, effects = play(call, [e for e in sequence for _ in range(2)])
    assert summary(twice) == summary(once)
    assert [effect.changes for effect in effects] == [True, False] * 3


def test_unknown_call_sid_changes_nothing():
    _, effects = play(None, [event("Answered", "A"), event("Terminal")])
    assert [effect.changes for effect in effects] == [False, False]
    assert effects[0].note == "unknown CallSid: nothing to apply"


def test_answer_time_is_from_the_first_offer():
    call = call_of("A", "B")
    effect = apply_event(call, event("Answered", "B"), now=T0 + dt.timedelta(seconds=7))
    assert effect.answered == 2
    assert effect.closed == ((1, "canceled"),)
    assert effect.answer_seconds == 7.0


def test_an_answer_reopens_a_call_ended_before_its_offer():
    # The call ended unanswered; a later request offered C, who answers.
    ended = CallState(legs=call_of("A", "C", A="no-answer").legs, ended=True)
    effect = apply_event(ended, event("Answered", "C"), now=T0)
    assert effect.answered == 2 and effect.reopens
    after = advance(ended, effect, now=T0)
    assert not after.ended
    terminal = apply_event(after, event("Terminal", "C"), now=T0)
    assert terminal.ends == CallEnd.ANSWERED and terminal.completed == 2


def test_terminal_completed_says_which_attempt_completes():
    call = call_of("A", "B")
    effect = apply_event(
        call,
        event("Terminal", "B", DialCallStatus="completed", DialCallDuration="61"),
        now=T0,
    )
    assert (effect.ends, effect.completed, effect.closed) == (
        CallEnd.ANSWERED,
        2,
        ((1, "canceled"),),
    )
    assert effect.answer_seconds is None  # no answered event: no answer time
