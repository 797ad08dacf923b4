"""Answer Exotel: one service call per webhook request.

Each service reads what the decision needs (the call, its offers, the candidates
of each group the planner reaches; for a new call on PostgreSQL, the entry group's
candidates come with the call when the group is as this process last saw it), asks
`routing.decision.engine` what to answer, then writes everything the request changes in one
short transaction: the outcomes it reports, the claims, the new offers, and the
request's own log row. A committed
answer is final: nothing runs after the commit that could replace it.

Concurrent requests for one call are serialised optimistically: both may decide,
but the offers' unique (call, position) and (call, number), and the closing of
pending offers that must still be pending, let only one commit; the other decides
again from what the first wrote.
"""

import datetime as dt
from dataclasses import dataclass, field, replace

from django.db import IntegrityError

from agents.models import AgentGroup
from agents.skills import stored_needs
from routing.calls import call_state
from routing.calls.batch import CONFLICT_RETRIES, Batch, ClaimsLost
from routing.calls.call_state import UnknownGroup
from routing.calls.planner import (
    Pools,
    guess_entry_candidates,
    overflow_chain,
    plan_with_reads,
    remember_entry_group,
)
from routing.calls.requestlog import Received, log_request
from routing.decision import engine
from routing.exotel.requests import ExotelRequest
from routing.models import Call, CallResult

__all__ = [
    "CallContention",
    "RouteAnswer",
    "UnknownGroup",
    "record_call_end",
    "record_reported_outcome",
    "route_call",
]

# Each lost claim rules one more agent out, so the replanning ends by itself when
# the group runs out; this only bounds a pathological case.
CLAIM_RETRIES = 50


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
    # A request that reports nothing is most likely a call's first.
    reports = request.dial_whom_number or request.dial_call_status or request.hangup
    guess = (
        None
        if reports
        else guess_entry_candidates(group_slug, moment=now, caller=request.caller)
    )
    call, offers, guessed, known = call_state.load_call(
        request=request,
        group_slug=group_slug,
        now=now,
        guessed_candidates=guess.sql if guess else None,
    )
    chain = overflow_chain(call.group) if call.group else []
    settlement = engine.settle(
        offers,
        call_state.report_of(request),
        now=now,
        parallel_ringing=bool(chain) and chain[0].parallel_ringing,
    )
    is_new = call.pk is None
    if is_new and known.blocked:
        settlement = replace(settlement, result=CallResult.BLOCKED.value)
    needs = call_needs_now(call, now=now)
    vip_group = None
    if known.vip and call.group is not None and call.group.vip_group_id:
        vip_group = call.group.vip_group
    pools = Pools(
        chain,
        moment=now,
        caller=call.caller,
        call_id=call.pk,
        needs=needs,
        vip_group=vip_group,
    )
    if is_new:
        if guess and vip_group is None and guess.fits(call.group, needs):
            guess.fill(pools, guessed)
        remember_entry_group(group_slug, call.group, needs)
    return _plan_and_write(
        call,
        offers,
        settlement,
        chain,
        pools,
        request,
        received,
        now=now,
        needs=needs,
        known=known,
        vip_group=vip_group,
    )


def _plan_and_write(
    call: Call,
    offers: list[engine.Offer],
    settlement: engine.Settlement,
    chain: list[AgentGroup],
    pools: Pools,
    request: ExotelRequest,
    received: Received | None,
    *,
    now: dt.datetime,
    needs: engine.CallNeeds,
    known: engine.KnownCaller,
    vip_group: AgentGroup | None,
) -> RouteAnswer:
    """Plan, then write the plan's batch; plan again without agents claimed away."""
    lost: frozenset[int] = frozenset()
    call_over = call.result in (CallResult.ABANDONED, CallResult.BLOCKED)
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
            needs=needs,
            caller=known,
            vip_group=vip_group,
        )
        answer = RouteAnswer(
            numbers=plan.numbers,
            call=call,
            group=call.group,
            notes=[*settlement.notes, *plan.notes, *plan.reasons],
        )
        batch = _route_batch(
            call, settlement, plan, chain, offers, request, received, now=now
        )
        try:
            call_id = batch.run() if batch.steps or batch.new_call else call.pk
        except ClaimsLost as lost_claims:
            # Other calls were faster to some agents: plan again without them.
            lost |= lost_claims.agent_ids
            continue
        if is_new:
            call.pk, call._state.adding = call_id, False
        if settlement.result:
            call.result = settlement.result
        return answer
    raise CallContention(f"call {request.call_sid}: agents kept being claimed away")


def call_needs_now(call: Call, *, now: dt.datetime) -> engine.CallNeeds:
    """The call's needs at `now`: strict until they relax (DESIGN 10.2)."""
    skills = stored_needs(call.needs)
    if not skills:
        return engine.CallNeeds()
    relaxes_at = call.relaxes_at
    return engine.CallNeeds(
        skills=skills, strict=call.relax_after is None or now < relaxes_at
    )


def _route_batch(
    call: Call,
    settlement: engine.Settlement,
    plan: engine.Plan,
    chain: list[AgentGroup],
    offers: list[engine.Offer],
    request: ExotelRequest,
    received: Received | None,
    *,
    now: dt.datetime,
) -> Batch:
    """The writes of a Dial Whom request, its log row last."""
    batch = Batch(call_id=call.pk)
    if call.pk is None:
        batch.new_call = lambda _call: call_state.insert_call(
            call, result=settlement.result, now=now
        )
    batch.add_settlement(
        call, settlement, talk_seconds=request.dial_call_duration, now=now
    )
    batch.add_offers(
        call, plan.new, chain=chain, first_position=len(offers) + 1, now=now
    )
    batch.add_log(
        received,
        group_slug=call.group.slug if call.group else "",
        body=",".join(plan.numbers),
        notes="; ".join([*settlement.notes, *plan.notes, *plan.reasons]),
        now=now,
    )
    return batch


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
        # The call, its group and its offers in one statement.
        call, offers, *_ = call_state.load_call(
            request=request, group_slug=None, now=now
        )
        if call.pk is None:
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
            offers,
            call_state.report_of(request, ends_call=ends_call),
            now=now,
            parallel_ringing=bool(call.group and call.group.parallel_ringing),
        )
        batch = Batch(call_id=call.pk)
        batch.add_settlement(
            call, settlement, talk_seconds=request.dial_call_duration, now=now
        )
        batch.add_log(
            received,
            group_slug=call.group.slug if call.group else "",
            notes="; ".join(settlement.notes),
            now=now,
        )
        try:
            if batch.steps:
                batch.run()
        except IntegrityError:
            continue
        # As recorded (an answered call stays answered); the group is unchanged.
        call.refresh_from_db(
            fields=["result", "ended_at", "answered_by", "talk_seconds"]
        )
        return call
    raise CallContention(
        f"call {request.call_sid}: concurrent requests kept conflicting"
    )
