"""Answer Exotel: record what a request reports, claim agents, log the offers.

Reads come first and outside any transaction; the writes of one request (its
outcomes, its claims, its new offers) are one short transaction. Concurrent
requests for one call are serialised optimistically: both may decide, but the
offers' unique (call, position) and (call, number) let only one commit, and the
other decides again from what the first wrote.
"""

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Value, When

from agents.models import (
    Agent,
    AgentGroup,
    AgentStatus,
    Strategy,
    agent_timezones,
    not_engaged_q,
)
from routing import engine
from routing.exotel import ExotelRequest
from routing.models import Attempt, Call, CallResult, Outcome, WebhookRequest
from routing.routes import resolve_group
from routing.selection import Candidate, pick_candidates

CONFLICT_RETRIES = 5
# Extra candidates fetched beyond the open slots, so that losing a claim race to
# another call rarely costs a second query.
CANDIDATE_SLACK = 2


class UnknownGroup(Exception):
    """The pinned URL names a group that does not exist."""


class CallContention(Exception):
    """Concurrent requests for one call kept conflicting; Exotel should retry."""


@dataclass
class RouteAnswer:
    numbers: list[str]
    call: Call | None = None
    group: AgentGroup | None = None
    notes: list[str] = field(default_factory=list)


def route_call(
    *, request: ExotelRequest, group_slug: str | None, now: dt.datetime
) -> RouteAnswer:
    """Record what `request` reports for its call and return the numbers to dial."""
    for _ in range(CONFLICT_RETRIES):
        call = find_call(request=request, group_slug=group_slug, now=now)
        try:
            return _answer_call(call, request=request, now=now)
        except IntegrityError:
            # Another request for this call committed first: decide again.
            continue
    raise CallContention(
        f"call {request.call_sid}: concurrent requests kept conflicting"
    )


def find_call(
    *, request: ExotelRequest, group_slug: str | None, now: dt.datetime
) -> Call:
    """Return the request's call: the stored one, or a new one not yet saved.

    A new call gets its group now, from the pinned slug or the routes; it keeps
    that group for the rest of the call.
    """
    call = Call.objects.select_related("group").filter(sid=request.call_sid).first()
    if call is not None:
        if group_slug and (call.group is None or call.group.slug != group_slug):
            # The call keeps the group of its first request; the slug must exist.
            if not AgentGroup.objects.filter(slug=group_slug).exists():
                raise UnknownGroup(group_slug)
        return call
    if group_slug:
        group = AgentGroup.objects.filter(slug=group_slug).first()
        if group is None:
            raise UnknownGroup(group_slug)
    else:
        group = resolve_group(exophone=request.exophone, digits=request.digits)
    return Call(
        sid=request.call_sid,
        caller=request.caller,
        exophone=request.exophone,
        digits=request.digits,
        group=group,
        first_seen_at=now,
    )


def _answer_call(
    call: Call, *, request: ExotelRequest, now: dt.datetime
) -> RouteAnswer:
    is_new = call.pk is None
    offers = [] if is_new else _offers(call)
    settlement = engine.settle(
        offers,
        number=request.dial_whom_number,
        status=request.dial_call_status,
        now=now,
    )
    pending = engine.still_pending(offers, settlement)
    answer = RouteAnswer(numbers=[offer.number for offer in pending], call=call)
    group = answer.group = call.group
    slots = 0
    if group is not None:
        slots = engine.slots_to_fill(
            pending=len(pending),
            offered=len(offers),
            batch_size=group.batch_size,
            max_attempts=group.max_attempts,
        )
    else:
        answer.notes.append("no group: no route matches this call")
    picker = _Picker(call=call, now=now, offered={offer.number for offer in offers})
    if slots:
        picker.prefetch(group, slots=slots)
    if not (is_new or settlement.closed or slots):
        return answer  # a repeat, or nothing more to offer: nothing to write
    with transaction.atomic():
        if is_new:
            # A concurrent first request that saved it first makes this fail:
            # the whole decision is then made again, for the stored call.
            call.save(force_insert=True)
        _write_settlement(call, settlement, request=request, now=now)
        if slots:
            new_offers = picker.claim(group, slots=slots)
            _log_offers(call, new_offers, first_position=len(offers) + 1, now=now)
            answer.numbers += [offer.number for offer in new_offers]
            answer.notes += [offer.reason for offer in new_offers]
    return answer


def _offers(call: Call) -> list[engine.Offer]:
    rows = call.attempts.values(
        "pk",
        "number",
        "position",
        "outcome",
        "hold_until",
        "agent_id",
        "group__missed_to_pause",
        "group__wrapup_seconds",
    )
    return [
        _GroupOffer(
            attempt_id=row["pk"],
            number=row["number"],
            position=row["position"],
            outcome=row["outcome"],
            hold_until=row["hold_until"],
            agent_id=row["agent_id"],
            missed_to_pause=row["group__missed_to_pause"] or 0,
            wrapup_seconds=row["group__wrapup_seconds"] or 0,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class _GroupOffer(engine.Offer):
    """An offer with the rules of the group that gave it."""

    missed_to_pause: int = 0
    wrapup_seconds: int = 0


@dataclass(frozen=True)
class _NewOffer:
    number: str
    group: AgentGroup
    reason: str
    agent_id: int | None = None
    hold_until: dt.datetime | None = None


class _Picker:
    """Claims agents for one call, walking the group's overflow chain."""

    def __init__(self, *, call: Call, now: dt.datetime, offered: set[str]):
        self.call = call
        self.now = now
        self.offered = set(offered)
        self.claimed_agent_ids: list[int] = []
        self.timezones = None
        self.prefetched: tuple[AgentGroup, list[Candidate], int] | None = None

    def prefetch(self, group: AgentGroup, *, slots: int) -> None:
        """Read the entry group's best candidates before the write transaction."""
        self.timezones = agent_timezones()
        limit = slots + CANDIDATE_SLACK
        self.prefetched = (group, self._candidates(group, limit=limit), limit)

    def claim(self, entry_group: AgentGroup, *, slots: int) -> list[_NewOffer]:
        """Claim up to `slots` agents, then fallback numbers, along the chain."""
        offers: list[_NewOffer] = []
        chain = list(overflow_chain(entry_group))
        for group in chain:
            offers += self._claim_in_group(group, slots=slots - len(offers))
            if len(offers) == slots:
                return offers
        owners = fallback_owners(chain)
        numbers = engine.pick_fallback_numbers(
            owners, offered=self.offered, slots=slots - len(offers)
        )
        offers += [
            _NewOffer(
                number=number,
                group=owners[number],
                reason=f"{owners[number].slug}: fallback number",
            )
            for number in numbers
        ]
        return offers

    def _claim_in_group(self, group: AgentGroup, *, slots: int) -> list[_NewOffer]:
        hold_until = (
            self.now + dt.timedelta(seconds=group.hold_seconds)
            if group.hold_seconds
            else None
        )
        claimed: list[Candidate] = []
        if self.prefetched and self.prefetched[0] == group:
            _, candidates, limit = self.prefetched
        else:
            limit = slots + CANDIDATE_SLACK
            candidates = self._candidates(group, limit=limit)
        while True:
            for candidate in candidates:
                if len(claimed) == slots:
                    break
                if candidate.number not in self.offered and _claim_agent(
                    candidate.agent_id,
                    call_sid=self.call.sid,
                    until=hold_until or self.now,
                    now=self.now,
                ):
                    claimed.append(candidate)
                    self.offered.add(candidate.number)
                    self.claimed_agent_ids.append(candidate.agent_id)
            if len(claimed) == slots or len(candidates) < limit:
                break  # done, or the group has no one else eligible
            # Other calls won some of these agents: read the next best.
            candidates = self._candidates(group, limit=limit)
        if group.strategy == Strategy.ROUND_ROBIN and claimed:
            _advance_rotation(group, claimed)
        return [
            _NewOffer(
                number=candidate.number,
                group=group,
                agent_id=candidate.agent_id,
                hold_until=hold_until,
                reason=_reason(group, candidate),
            )
            for candidate in claimed
        ]

    def _candidates(self, group: AgentGroup, *, limit: int) -> list[Candidate]:
        return pick_candidates(
            group,
            moment=self.now,
            call_id=self.call.pk,
            caller=self.call.caller,
            limit=limit,
            timezones=self.timezones,
            exclude_agent_ids=self.claimed_agent_ids,
        )


def overflow_chain(group: AgentGroup):
    """Yield the group, then its overflow groups, each once (cycles are cut)."""
    seen = set()
    while group is not None and group.pk not in seen:
        seen.add(group.pk)
        yield group
        group = group.overflow


def fallback_owners(chain: list[AgentGroup]) -> dict[str, AgentGroup]:
    """Map each fallback number to the group giving it: the entry group's first."""
    owners: dict[str, AgentGroup] = {}
    for group in chain:
        for number in group.fallback_number_list:
            owners.setdefault(number, group)
    return owners


def _claim_agent(
    agent_id: int, *, call_sid: str, until: dt.datetime, now: dt.datetime
) -> bool:
    """Engage the agent for the call if still free: a compare-and-set UPDATE."""
    return bool(
        Agent.objects.filter(pk=agent_id, active=True, status=AgentStatus.AVAILABLE)
        .filter(not_engaged_q(now))
        .update(engaged_until=until, engaged_call_sid=call_sid)
    )


def _reason(group: AgentGroup, candidate: Candidate) -> str:
    """Say why the candidate was chosen, for the supervisor reading the log."""
    why = f"tier {candidate.priority}, {group.get_strategy_display().lower()}"
    if candidate.sticky:
        why = f"answered this caller last; {why}"
    return f"{group.slug}: {why}"


def _advance_rotation(group: AgentGroup, claimed: list[Candidate]) -> None:
    """Move each tier's round-robin pointer to the member offered last in it."""
    rotation = dict(group.rotation)
    for candidate in claimed:
        rotation[str(candidate.priority)] = [candidate.position, candidate.name]
    AgentGroup.objects.filter(pk=group.pk).update(rotation=rotation)
    group.rotation = rotation


def _log_offers(
    call: Call, offers: list[_NewOffer], *, first_position: int, now: dt.datetime
) -> None:
    Attempt.objects.bulk_create(
        Attempt(
            call=call,
            agent_id=offer.agent_id,
            group=offer.group,
            number=offer.number,
            position=first_position + index,
            reason=offer.reason,
            offered_at=now,
            hold_until=offer.hold_until,
        )
        for index, offer in enumerate(offers)
    )


class _StaleOffers(IntegrityError):
    """The offers changed since we read them: another request recorded first."""


def _write_settlement(
    call: Call,
    settlement: engine.Settlement,
    *,
    request: ExotelRequest,
    now: dt.datetime,
) -> None:
    """Write the outcomes `settlement` gives and free the agents they release."""
    reported = settlement.reported
    freed = [offer.agent_id for offer in settlement.passed if offer.agent_id]
    if reported is not None:
        changed = Attempt.objects.filter(
            pk=reported.attempt_id, outcome=Outcome.PENDING
        ).update(
            outcome=settlement.reported_outcome,
            outcome_at=now,
            talk_seconds=request.dial_call_duration
            if settlement.reported_outcome == Outcome.COMPLETED
            else None,
        )
        if not changed:
            raise _StaleOffers(f"attempt {reported.attempt_id} was already closed")
        if settlement.reported_outcome == Outcome.COMPLETED:
            _record_answer(call, reported, request=request, now=now)
        elif reported.agent_id:
            _release_agents(
                call,
                [reported.agent_id, *freed],
                missed=reported
                if settlement.reported_outcome == Outcome.NO_ANSWER
                else None,
                now=now,
            )
            freed = []
    closing = {offer.attempt_id: engine.FAILED for offer in settlement.passed}
    closing.update({offer.attempt_id: engine.EXPIRED for offer in settlement.expired})
    if closing:
        Attempt.objects.filter(pk__in=closing, outcome=Outcome.PENDING).update(
            outcome=Case(
                *[When(pk=pk, then=Value(outcome)) for pk, outcome in closing.items()]
            ),
            outcome_at=now,
        )
    if freed:
        _release_agents(call, freed, missed=None, now=now)


def _release_agents(
    call: Call, agent_ids: list[int], *, missed: "_GroupOffer | None", now: dt.datetime
) -> None:
    """Free agents this call engaged; count a no-answer and pause at the limit."""
    engaged_here = Q(engaged_call_sid=call.sid)
    updates = {
        "engaged_until": Case(
            When(engaged_here, then=Value(now)), default=F("engaged_until")
        )
    }
    if missed is not None:
        is_missed = Q(pk=missed.agent_id)
        updates["missed_in_row"] = Case(
            When(is_missed, then=F("missed_in_row") + 1),
            default=F("missed_in_row"),
            output_field=PositiveIntegerField(),
        )
        if missed.missed_to_pause:
            pauses = (
                is_missed
                & Q(status=AgentStatus.AVAILABLE)
                & Q(missed_in_row__gte=missed.missed_to_pause - 1)
            )
            updates["status"] = Case(
                When(pauses, then=Value(AgentStatus.BREAK)), default=F("status")
            )
            updates["status_reason"] = Case(
                When(pauses, then=Value(f"missed {missed.missed_to_pause} calls")),
                default=F("status_reason"),
            )
            updates["status_changed_at"] = Case(
                When(pauses, then=Value(now)), default=F("status_changed_at")
            )
    Agent.objects.filter(pk__in=agent_ids).update(**updates)


def _record_answer(
    call: Call, offer: engine.Offer, *, request: ExotelRequest, now: dt.datetime
) -> None:
    """The agent answered and the call is over: wrap-up, then free."""
    if offer.agent_id:
        free_or_ours = Q(engaged_call_sid=call.sid) | not_engaged_q(now)
        wrapup_until = now + dt.timedelta(seconds=offer.wrapup_seconds)
        Agent.objects.filter(pk=offer.agent_id).update(
            engaged_until=Case(
                When(free_or_ours, then=Value(wrapup_until)),
                default=F("engaged_until"),
            ),
            engaged_call_sid=Case(
                When(free_or_ours, then=Value(call.sid)),
                default=F("engaged_call_sid"),
            ),
            last_answered_at=now,
            missed_in_row=0,
        )
    Call.objects.filter(pk=call.pk).update(
        result=CallResult.ANSWERED,
        answered_by_id=offer.agent_id,
        ended_at=now,
        talk_seconds=request.dial_call_duration,
    )


def record_call_end(*, request: ExotelRequest, now: dt.datetime) -> Call | None:
    """Record how a call ended (the Passthru applet after Connect).

    The reported number takes its status; every other pending offer of the call
    is closed as canceled and its agent freed.
    """
    call = Call.objects.filter(sid=request.call_sid).first()
    if call is None:
        return None
    for _ in range(CONFLICT_RETRIES):
        offers = _offers(call)
        settlement = engine.settle(
            offers,
            number=request.dial_whom_number,
            status=request.dial_call_status,
            now=now,
        )
        rest = engine.still_pending(offers, settlement)
        try:
            with transaction.atomic():
                _write_settlement(call, settlement, request=request, now=now)
                if rest:
                    Attempt.objects.filter(
                        pk__in=[offer.attempt_id for offer in rest],
                        outcome=Outcome.PENDING,
                    ).update(outcome=Outcome.CANCELED, outcome_at=now)
                    _release_agents(
                        call,
                        [offer.agent_id for offer in rest if offer.agent_id],
                        missed=None,
                        now=now,
                    )
                Call.objects.filter(pk=call.pk, ended_at__isnull=True).exclude(
                    result=CallResult.ANSWERED
                ).update(result=CallResult.NOT_ANSWERED, ended_at=now)
        except IntegrityError:
            continue
        call.refresh_from_db()
        return call
    raise CallContention(
        f"call {request.call_sid}: concurrent requests kept conflicting"
    )


def log_webhook_request(
    *,
    endpoint: str,
    params: dict,
    call: Call | None,
    group_slug: str,
    status_code: int,
    body: str,
    notes: str,
    started: float,
    now: dt.datetime,
) -> None:
    """Keep a record of one webhook request and our answer to it."""
    WebhookRequest.objects.create(
        endpoint=endpoint,
        params=params,
        call=call,
        call_sid=params.get("CallSid", "")[:64],
        group_slug=group_slug,
        status_code=status_code,
        response_body=body,
        notes=notes[:200],
        duration_ms=(time.perf_counter() - started) * 1000,
        received_at=now,
    )
