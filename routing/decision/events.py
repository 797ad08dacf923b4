"""Programmable Connect's live call events (DESIGN section 9), applied to a call.

`apply_event` says what a parsed event (`routing.exotel.events.ConnectEvent`) means
for the call's offers: which leg rang or was answered, which pending offers close
(and free their agents), and whether the call ends. Plain data in, plain data
out: no ORM, no HTTP, no clock.

Whether Exotel's terminal event is sent per leg or once per call is not known,
so a terminal event for one unanswered leg closes that leg, and ends the call
only when no other offer of it is still pending. A leg that rings or ends tells
that Exotel passed the pending offers dialled before it (not its round-mates
when the round rings in parallel): they close as failed and their agents are
free, as when a request reports a later number (`engine.passed_by`, DESIGN
section 5). Each event is applied at most
once: the service writes every change with a condition on the state it was
decided from (a pending offer, a time not yet recorded, a call not yet ended).
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from routing.decision.engine import passed_by
from routing.exotel import statuses
from routing.exotel.events import ConnectEvent, EventKind
from routing.exotel.statuses import (
    CANCELED,
    COMPLETED,
    DIAL_CALL_STATUSES,
    FAILED,
    PENDING,
)


@dataclass(frozen=True)
class Leg:
    """One offer of the call, as the log knows it."""

    attempt_id: int
    number: str
    outcome: str = PENDING
    agent_id: int | None = None
    offered_at: dt.datetime | None = None  # the offers of one answer are a round
    position: int = 0  # in call order
    ringing_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None


@dataclass(frozen=True)
class CallState:
    legs: tuple[Leg, ...]
    # Answered or abandoned: nothing changes it any more. A call that ended not
    # answered may still be answered by an offer made after that end.
    final: bool = False
    ended: bool = False
    # The entry group rings a round's numbers together: none of them is passed
    # when another rings.
    parallel_ringing: bool = False


class CallEnd(StrEnum):
    ANSWERED = statuses.ANSWERED
    NOT_ANSWERED = statuses.NOT_ANSWERED
    ABANDONED = statuses.ABANDONED


@dataclass(frozen=True)
class EventEffect:
    """What one event changes; empty when it changes nothing (`note` says why)."""

    note: str
    ringing: int | None = None  # the attempt whose ringing time is now
    answered: int | None = None  # the attempt answered now
    # Pending offers closed now, (attempt, outcome): their agents are freed.
    closed: tuple[tuple[int, str], ...] = ()
    ends: CallEnd | None = None
    completed: int | None = None  # who took the call, when it ends answered
    answer_seconds: float | None = None  # first offer to the answer
    # An answer for an offer made after the call had ended unanswered: it goes on.
    reopens: bool = False
    # Popup events: the answered leg's line is free again (its agent's wrap-up
    # starts); the call's outcome is left to the Passthru or Dial Whom request.
    line_free: int | None = None

    @property
    def changes(self) -> bool:
        return bool(
            self.ringing
            or self.answered
            or self.closed
            or self.ends
            or self.completed
            or self.line_free
        )


def apply_event(
    call: CallState | None, event: ConnectEvent, *, now: dt.datetime
) -> EventEffect:
    """Return what `event`, received at `now`, changes for `call` (None: unknown)."""
    if call is None:
        return EventEffect(note="unknown CallSid: nothing to apply")
    leg = None
    if event.number:
        leg = next((leg for leg in call.legs if leg.number == event.number), None)
        if leg is None:
            return EventEffect(note=f"number {event.number} was never offered")
    match event.kind:
        case EventKind.RINGING:
            passed = _passed(call, leg)
            if leg is None or (leg.ringing_at is not None and not passed):
                return EventEffect(note="ringing: nothing new")
            return EventEffect(
                note=f"{leg.number} ringing" + _passed_note(passed),
                ringing=leg.attempt_id if leg.ringing_at is None else None,
                closed=passed,
            )
        case EventKind.ANSWERED:
            return _answered(call, leg, now=now)
        case EventKind.TERMINAL:
            return _terminal(call, leg, event, now=now)
    return EventEffect(note=f"event {event.event_type or event.kind}: nothing to do")


def apply_popup_event(
    call: CallState | None, event: ConnectEvent, *, now: dt.datetime
) -> EventEffect:
    """Return what a Connect applet's popup event changes for `call`.

    Ringing and Answered are as Programmable Connect's events (ringing and
    answer times; an answer frees the other pending offers). The popup's
    `Status` is the agent's line (busy, free), never the call's outcome: a
    Terminal event frees the line of a leg that was answered (its wrap-up
    starts) and closes nothing; Dial changes nothing.
    """
    if call is None or event.kind in (EventKind.RINGING, EventKind.ANSWERED):
        return apply_event(call, event, now=now)
    leg = next((leg for leg in call.legs if leg.number == event.number), None)
    if not event.number:
        return EventEffect(note=f"popup {event.event_type or 'event'}: no number")
    if leg is None:
        return EventEffect(note=f"number {event.number} was never offered")
    if event.kind == EventKind.DIAL:
        return EventEffect(note=f"{leg.number} dialled")
    if event.kind == EventKind.TERMINAL:
        if leg.answered_at is not None and leg.agent_id is not None:
            return EventEffect(
                note=f"{leg.number} free after the call", line_free=leg.attempt_id
            )
        return EventEffect(note=f"{leg.number} free: not an outcome")
    if event.event_type:
        return EventEffect(
            note=f"popup EventType {event.event_type!r} is none of Dial, Ringing, "
            "Answered, Terminal"
        )
    return EventEffect(note="popup event without an EventType: nothing to do")


def _answered_call_ended(call: CallState, answerer: Leg) -> EventEffect:
    """The call `answerer` answered is over: the other pending offers are canceled."""
    return EventEffect(
        note=f"call answered by {answerer.number} ended",
        closed=tuple(
            (other.attempt_id, CANCELED) for other in _pending(call, but=answerer)
        ),
        ends=CallEnd.ANSWERED,
        completed=answerer.attempt_id,
    )


def _pending(call: CallState, *, but: Leg | None = None) -> list[Leg]:
    return [leg for leg in call.legs if leg.outcome == PENDING and leg is not but]


def _passed(call: CallState, leg: Leg | None) -> tuple[tuple[int, str], ...]:
    """Return the pending offers Exotel passed to reach `leg`, closed as failed."""
    if leg is None:
        return ()
    return tuple(
        (other.attempt_id, FAILED)
        for other in _pending(call, but=leg)
        if passed_by(other, leg, parallel_ringing=call.parallel_ringing)
    )


def _passed_note(passed: tuple[tuple[int, str], ...]) -> str:
    return f"; {len(passed)} earlier offer(s) passed" if passed else ""


def _answer_seconds(call: CallState, now: dt.datetime) -> float | None:
    offered = [leg.offered_at for leg in call.legs if leg.offered_at is not None]
    return max((now - min(offered)).total_seconds(), 0.0) if offered else None


def _answered_leg(call: CallState) -> Leg | None:
    return next((leg for leg in call.legs if leg.answered_at is not None), None)


def _answered(call: CallState, leg: Leg | None, *, now: dt.datetime) -> EventEffect:
    if call.final:
        return EventEffect(note="answered: the call has already ended")
    if leg is None:
        return EventEffect(note="answered: no number to say who")
    answered = _answered_leg(call)
    if answered is not None:
        return EventEffect(note=f"answered: already answered by {answered.number}")
    if leg.outcome != PENDING:
        return EventEffect(note=f"answered: {leg.number} was already {leg.outcome}")
    return EventEffect(
        note=f"{leg.number} answered",
        answered=leg.attempt_id,
        closed=tuple((other.attempt_id, CANCELED) for other in _pending(call, but=leg)),
        answer_seconds=_answer_seconds(call, now),
        reopens=call.ended,
    )


def _terminal(
    call: CallState, leg: Leg | None, event: ConnectEvent, *, now: dt.datetime
) -> EventEffect:
    if call.final:
        return EventEffect(note="terminal: the call has already ended")
    answered = _answered_leg(call)
    if answered is not None:
        if leg is not None and leg is not answered:
            closing = ((leg.attempt_id, CANCELED),) if leg.outcome == PENDING else ()
            return EventEffect(note=f"{leg.number} ended", closed=closing)
        return _answered_call_ended(call, answered)
    if leg is not None and leg.outcome == PENDING and event.status == COMPLETED:
        # Answered, and over, without an answered event: no answer time to keep.
        return _answered_call_ended(call, leg)
    if leg is None and event.status == COMPLETED and not event.caller_hung_up:
        # Someone answered, but without a number nobody can tell who: the
        # pending offers keep their agents until their hold runs out.
        return EventEffect(note="terminal: completed, but no number to say who")
    if event.caller_hung_up or leg is None:
        # The whole call is over (DESIGN 8.1 for a hang-up; else as a Passthru).
        closing = [(other.attempt_id, CANCELED) for other in _pending(call, but=leg)]
        if leg is not None and leg.outcome == PENDING:
            closing.insert(0, (leg.attempt_id, _leg_end(event.status)))
        end = CallEnd.ABANDONED if event.caller_hung_up else CallEnd.NOT_ANSWERED
        return EventEffect(
            note=f"call ended {end}",
            closed=tuple(closing),
            ends=None if call.ended and end == CallEnd.NOT_ANSWERED else end,
        )
    # One leg over, unanswered (and the offers passed to reach it): the call
    # goes on while another offer is pending.
    passed = _passed(call, leg)
    closing = passed
    if leg.outcome == PENDING:
        closing = ((leg.attempt_id, _leg_end(event.status)), *passed)
    closed_ids = {attempt_id for attempt_id, _ in closing}
    others = [
        other for other in _pending(call, but=leg) if other.attempt_id not in closed_ids
    ]
    ends = None if others or call.ended else CallEnd.NOT_ANSWERED
    return EventEffect(
        note=f"{leg.number} ended {_leg_end(event.status)}"
        + _passed_note(passed)
        + ("" if others else "; nobody answered"),
        closed=closing,
        ends=ends,
    )


def _leg_end(status: str) -> str:
    """Return the outcome of a leg that ended unanswered (canceled if unknown)."""
    return status if status in DIAL_CALL_STATUSES and status != COMPLETED else CANCELED
