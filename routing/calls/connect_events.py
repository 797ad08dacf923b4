"""Programmable Connect's writes: a connect event applied to its call, once.

The decision is `routing.decision.events.apply_event` (plain data); this module
reads what it needs and writes what it says, through the routing core's own
writes (`routing.calls.batch.Batch.add_settlement`: outcomes, freed agents, wrap-up,
the call's end), in one short transaction with the request's log row.

Events of one call are serialised by a lock on the call's row (SQLite's writers
take turns anyway); against a concurrent Connect or Passthru request, every
write is conditional on the state it was decided from, and a write that finds
the state changed makes the event decide again.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from agents.sql import execute
from routing.calls import call_state, claims
from routing.calls.batch import CONFLICT_RETRIES, Batch, Conflict
from routing.calls.requestlog import Received, log_request
from routing.decision import engine, events
from routing.decision.events import CallEnd, CallState, EventEffect, Leg
from routing.exotel import statuses
from routing.exotel.events import ConnectEvent
from routing.models import Attempt, Call, CallResult, Outcome

FINAL_RESULTS = (CallResult.ANSWERED, CallResult.ABANDONED)


@dataclass(frozen=True)
class EventRecord:
    call: Call | None
    effect: EventEffect


def record_connect_event(
    *,
    event: ConnectEvent,
    now: dt.datetime,
    received: Received | None = None,
    popup: bool = False,
) -> EventRecord:
    """Apply `event` to its call; return the call (None: unknown) and the effect.

    With `received`, the request's log row is written in the same transaction.
    With `popup`, the event is the Connect applet's popup event
    (`events.apply_popup_event`): an answer holds the agent no longer than the
    offer did, and the leg's Terminal event frees them.
    """
    for _ in range(CONFLICT_RETRIES):
        try:
            with transaction.atomic():
                return _record_once(event, now=now, received=received, popup=popup)
        except IntegrityError:
            continue  # a concurrent request changed the call's offers: again
    effect = EventEffect(note="concurrent requests kept conflicting: not applied")
    _log(received, None, effect, now=now)
    return EventRecord(call=None, effect=effect)


def _record_once(
    event: ConnectEvent, *, now: dt.datetime, received: Received | None, popup: bool
) -> EventRecord:
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("group")
        .filter(sid=event.call_sid)
        .first()
    )
    if call is None:
        effect = events.apply_event(None, event, now=now)
        _log(received, None, effect, now=now)
        return EventRecord(call=None, effect=effect)
    offers = {offer.attempt_id: offer for offer in call_state.offers_of(call)}
    times = {
        row["pk"]: row
        for row in call.attempts.values("pk", "ringing_at", "answered_at")
    }
    state = CallState(
        legs=tuple(
            Leg(
                attempt_id=offer.attempt_id,
                number=offer.number,
                outcome=offer.outcome,
                agent_id=offer.agent_id,
                offered_at=offer.offered_at,
                position=offer.position,
                ringing_at=times[offer.attempt_id]["ringing_at"],
                answered_at=times[offer.attempt_id]["answered_at"],
            )
            for offer in sorted(offers.values(), key=lambda offer: offer.position)
        ),
        final=call.result in FINAL_RESULTS,
        ended=call.ended_at is not None,
        parallel_ringing=bool(call.group and call.group.parallel_ringing),
    )
    apply = events.apply_popup_event if popup else events.apply_event
    effect = apply(state, event, now=now)
    if effect.changes:
        _write(call, effect, offers, event=event, now=now, popup=popup)
    _log(received, call, effect, now=now)
    return EventRecord(call=call, effect=effect)


def _write(
    call: Call,
    effect: EventEffect,
    offers: dict[int, engine.Offer],
    *,
    event: ConnectEvent,
    now: dt.datetime,
    popup: bool = False,
) -> None:
    if effect.line_free:
        offer = offers[effect.line_free]
        execute(
            claims.free_after_conversation(
                agent_id=offer.agent_id,
                call_sid=call.sid,
                wrapup_seconds=offer.wrapup_seconds,
                now=now,
            )
        )
    if effect.ringing:
        Attempt.objects.filter(pk=effect.ringing, ringing_at__isnull=True).update(
            ringing_at=now
        )
    if effect.answered:
        _record_answer(call, effect, offers, now=now, popup=popup)
    closures = [
        engine.Closure(
            offers[attempt_id], outcome, missed=outcome == statuses.NO_ANSWER
        )
        for attempt_id, outcome in effect.closed
    ]
    answerer = None
    if effect.ends == CallEnd.ANSWERED:
        answerer = offers[effect.completed]
        if answerer.outcome == statuses.PENDING:
            closures.append(engine.Closure(answerer, statuses.COMPLETED))
    if closures or effect.ends:
        batch = Batch(call_id=call.pk)
        batch.add_settlement(
            call,
            engine.Settlement(
                closures=tuple(closures),
                answered=answerer,
                result=str(effect.ends) if effect.ends else "",
            ),
            talk_seconds=event.request.dial_call_duration,
            now=now,
        )
        # Inside this transaction the batch runs statement by statement, each
        # checked; a check that fails raises Conflict and the event decides again.
        batch.run()


def _record_answer(
    call: Call,
    effect: EventEffect,
    offers: dict[int, engine.Offer],
    *,
    now: dt.datetime,
    popup: bool = False,
) -> None:
    """Record the answer: its time, the conversation's hold, a call reopened.

    Not the conversation's hold for a popup event: its Terminal event frees the
    agent, in whichever order it comes, and the offer's hold stands meanwhile.
    """
    answered = Attempt.objects.filter(
        pk=effect.answered, outcome=Outcome.PENDING, answered_at__isnull=True
    ).update(answered_at=now)
    first = Call.objects.filter(pk=call.pk, answered_at__isnull=True).update(
        answered_at=now, answer_seconds=effect.answer_seconds
    )
    if not (answered and first):
        raise Conflict(f"call {call.sid}: answered meanwhile")
    agent_id = offers[effect.answered].agent_id
    if agent_id and not popup:
        execute(
            claims.hold_for_conversation(
                agent_id=agent_id,
                call_sid=call.sid,
                max_seconds=call.group.max_conversation_seconds if call.group else None,
                now=now,
            )
        )
    if effect.reopens:
        Call.objects.filter(pk=call.pk, result=CallResult.NOT_ANSWERED).update(
            result=CallResult.IN_PROGRESS, ended_at=None
        )


def _log(
    received: Received | None,
    call: Call | None,
    effect: EventEffect,
    *,
    now: dt.datetime,
) -> None:
    if received is None:
        return
    log_request(
        received,
        call=call,
        group_slug=call.group.slug if call and call.group else "",
        status_code=200,
        body="",
        notes=effect.note,
        now=now,
    )
