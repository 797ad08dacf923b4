"""Answer Exotel: one service call per webhook request.

Each service reads what the decision needs (the call, its offers, the candidates
of each group the planner reaches), asks `routing.engine` what to answer, then
writes everything the request changes in one short transaction: the outcomes it
reports, the claims, the new offers, and the request's own log row. A committed
answer is final: nothing runs after the commit that could replace it.

Concurrent requests for one call are serialised optimistically: both may decide,
but the offers' unique (call, position) and (call, number), and the closing of
pending offers that must still be pending, let only one commit; the other decides
again from what the first wrote.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from agents.models import AgentGroup, Strategy
from routing import claims, engine, outcomes
from routing.chain import Pools, overflow_chain, plan_with_reads
from routing.exotel import ExotelRequest
from routing.models import Call, CallResult
from routing.outcomes import UnknownGroup
from routing.requestlog import Received, log_request

__all__ = [
    "CallContention",
    "RouteAnswer",
    "UnknownGroup",
    "record_call_end",
    "record_reported_outcome",
    "route_call",
]

CONFLICT_RETRIES = 5
CLAIM_RETRIES = 5


class CallContention(Exception):
    """Concurrent requests for one call kept conflicting; Exotel should retry."""


@dataclass
class RouteAnswer:
    numbers: list[str]
    call: Call | None = None
    group: AgentGroup | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return ",".join(self.numbers)


def route_call(
    *,
    request: ExotelRequest,
    group_slug: str | None,
    now: dt.datetime,
    received: Received | None = None,
) -> RouteAnswer:
    """Record what `request` reports for its call and return the numbers to dial.

    With `received`, the request's log row is written in the same transaction.
    """
    for _ in range(CONFLICT_RETRIES):
        try:
            return _route_once(request, group_slug, now, received)
        except IntegrityError:
            continue  # another request for this call committed first: decide again
    raise CallContention(
        f"call {request.call_sid}: concurrent requests kept conflicting"
    )


def _route_once(
    request: ExotelRequest,
    group_slug: str | None,
    now: dt.datetime,
    received: Received | None,
) -> RouteAnswer:
    call = outcomes.find_call(request=request, group_slug=group_slug, now=now)
    offers = outcomes.offers_of(call)
    chain = overflow_chain(call.group) if call.group else []
    settlement = engine.settle(
        offers,
        outcomes.report_of(request),
        now=now,
        parallel_ringing=bool(chain) and getattr(chain[0], "parallel_ringing", False),
    )
    pools = Pools(chain, moment=now, caller=call.caller, call_id=call.pk)
    lost: frozenset[int] = frozenset()
    call_over = call.result == CallResult.ABANDONED
    is_new = call.pk is None
    for _ in range(CLAIM_RETRIES):
        plan = plan_with_reads(
            offers=offers,
            settlement=settlement,
            chain=chain,
            pools=pools,
            now=now,
            call_over=call_over,
            lost_agent_ids=lost,
        )
        answer = RouteAnswer(
            numbers=plan.numbers,
            call=call,
            group=call.group,
            notes=[*plan.notes, *plan.reasons],
        )
        writes = is_new or settlement.closures or settlement.result or plan.new
        if not writes:
            # A repeat, or nothing more to offer: only the log row to write.
            _log(received, answer, now=now)
            return answer
        with transaction.atomic():
            if is_new:
                call.pk, call._state.adding = None, True
                # A concurrent first request that saved it first makes this fail:
                # the whole decision is then made again, for the stored call.
                call.save(force_insert=True)
            outcomes.write_settlement(call, settlement, request=request, now=now)
            agents = {offer.agent_id for offer in plan.new if offer.agent_id}
            won = claims.claim_agents(plan.new, call_sid=call.sid, now=now)
            if won != agents:
                # Other calls were faster to some agents: plan again without them.
                transaction.set_rollback(True)
                lost |= agents - won
                continue
            outcomes.log_offers(call, plan.new, first_position=len(offers) + 1, now=now)
            for group in chain:
                if group.strategy == Strategy.ROUND_ROBIN:
                    claims.advance_rotation(group, plan.new)
            _log(received, answer, now=now)
        return answer
    raise CallContention(f"call {request.call_sid}: agents kept being claimed away")


def _log(received: Received | None, answer: RouteAnswer, *, now: dt.datetime) -> None:
    if received is None:
        return
    log_request(
        received,
        call=answer.call if answer.call and answer.call.pk else None,
        group_slug=answer.group.slug if answer.group else "",
        status_code=200,
        body=answer.body,
        notes="; ".join(answer.notes),
        now=now,
    )


def record_call_end(
    *, request: ExotelRequest, now: dt.datetime, received: Received | None = None
) -> Call | None:
    """Record how a call ended (the Passthru applet after Connect).

    The reported number takes its status; every other pending offer of the call
    is closed as canceled and its agent freed.
    """
    return _record(request=request, now=now, received=received, ends_call=True)


def record_reported_outcome(
    *, request: ExotelRequest, now: dt.datetime, received: Received | None = None
) -> Call | None:
    """Record only the outcome a Dial Whom request reports, claiming no one.

    For a report that arrives late (a replay after an outage): the call may have
    moved on, so no new number is offered.
    """
    return _record(request=request, now=now, received=received, ends_call=False)


def _record(
    *,
    request: ExotelRequest,
    now: dt.datetime,
    received: Received | None,
    ends_call: bool,
) -> Call | None:
    for _ in range(CONFLICT_RETRIES):
        call = Call.objects.select_related("group").filter(sid=request.call_sid).first()
        if call is None:
            if received is not None:
                log_request(
                    received,
                    call=None,
                    group_slug="",
                    status_code=200,
                    body="",
                    notes="unknown CallSid: nothing to record",
                    now=now,
                )
            return None
        settlement = engine.settle(
            outcomes.offers_of(call),
            outcomes.report_of(request, ends_call=ends_call),
            now=now,
            parallel_ringing=getattr(call.group, "parallel_ringing", False),
        )
        try:
            with transaction.atomic():
                outcomes.write_settlement(call, settlement, request=request, now=now)
                if received is not None:
                    log_request(
                        received,
                        call=call,
                        group_slug=call.group.slug if call.group else "",
                        status_code=200,
                        body="",
                        notes="",
                        now=now,
                    )
        except IntegrityError:
            continue
        call.refresh_from_db()
        return call
    raise CallContention(
        f"call {request.call_sid}: concurrent requests kept conflicting"
    )
