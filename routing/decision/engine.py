"""The routing decision: plain data in, plain data out (no ORM, HTTP or clock).

`settle` says what a request's report does to the call's offers (DESIGN sections
5 and 8.1); `plan` says what to answer: the still-pending numbers, then new agents
in chain order from each group's candidates (already in the group's strategy
order, from `routing.calls.selection`), then fallback numbers, within the entry group's
batch and cap. The endpoint, the preview, `simulate_call` and the last-known list
all answer through `plan`; the services around it read, claim and write.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from routing.exotel.statuses import (
    ABANDONED,
    ANSWERED,
    CANCELED,
    COMPLETED,
    EXPIRED,
    FAILED,
    NO_ANSWER,
    NOT_ANSWERED,
    PENDING,
)


@dataclass(frozen=True)
class Offer:
    """A number already offered for the call, as the log knows it."""

    attempt_id: int
    number: str
    position: int
    outcome: str
    hold_until: dt.datetime | None = None
    agent_id: int | None = None
    group_id: int | None = None
    offered_at: dt.datetime | None = None  # the offers of one answer are a round
    missed_to_pause: int = 0  # the rules of the group that gave the offer
    wrapup_seconds: int = 0


@dataclass(frozen=True)
class Report:
    """What a request tells about the call: the number dialled last and its fate."""

    number: str = ""
    status: str = ""
    hangup: bool = False  # CallType=client-hangup: the caller gave up
    ends_call: bool = False  # a Passthru after Connect: the applet is over
    ignored: tuple[str, ...] = ()  # what the request said that could not be read


@dataclass(frozen=True)
class GroupSettings:
    """The settings of one group of the chain that routing reads."""

    id: int
    slug: str
    strategy: str  # the strategy's label, for reasons
    batch_size: int = 1
    max_attempts: int = 0
    hold_seconds: int = 300
    parallel_ringing: bool = False
    fallback_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """An eligible member, in the group's strategy order."""

    membership_id: int
    agent_id: int
    number: str
    name: str
    priority: int
    position: int
    sticky: bool = False  # the agent who last answered this caller


@dataclass(frozen=True)
class Pool:
    """A group's best candidates; `complete` when the group has no others."""

    candidates: tuple[Candidate, ...]
    complete: bool


@dataclass(frozen=True)
class Closure:
    """An offer the request closes, with the outcome it takes."""

    offer: Offer
    outcome: str
    missed: bool = False  # counts toward the agent's missed-call pause


@dataclass(frozen=True)
class Settlement:
    closures: tuple[Closure, ...] = ()
    answered: Offer | None = None  # the offer whose agent took the call
    result: str = ""  # the call's result when this request ends it
    # Why the report (or part of it) records nothing, for the request log.
    notes: tuple[str, ...] = ()

    @property
    def closed_ids(self) -> set[int]:
        return {closure.offer.attempt_id for closure in self.closures}


@dataclass(frozen=True)
class NewOffer:
    number: str
    group_id: int
    reason: str
    agent_id: int | None = None  # None for a fallback number
    hold_until: dt.datetime | None = None
    candidate: Candidate | None = None


@dataclass(frozen=True)
class Plan:
    pending: tuple[Offer, ...] = ()
    new: tuple[NewOffer, ...] = ()
    needs: int | None = None  # a group whose candidates must be read first
    notes: tuple[str, ...] = ()

    @property
    def numbers(self) -> list[str]:
        return [offer.number for offer in self.pending] + [o.number for o in self.new]

    @property
    def reasons(self) -> list[str]:
        return [offer.reason for offer in self.new]


def settle(
    offers: Sequence[Offer],
    report: Report,
    *,
    now: dt.datetime,
    parallel_ringing: bool = False,
) -> Settlement:
    """Return how `report` and the clock close the call's pending offers.

    The reported offer takes the reported status. Pending offers before it in the
    call were dialled and passed by Exotel: they failed (with parallel ringing the
    whole round rang, and nobody answered: each is a no-answer). A caller's hang-up
    or the end of the applet closes every other pending offer as canceled. Other
    pending offers whose hold has run out expire. A report on an unknown or closed
    number changes nothing but the clock's expiries and an ending.
    """
    pending = sorted(
        (offer for offer in offers if offer.outcome == PENDING),
        key=lambda offer: offer.position,
    )
    reported = None
    if report.number and (report.status or report.hangup):
        reported = next((o for o in pending if o.number == report.number), None)
    status = report.status or (CANCELED if report.hangup else "")
    closures: list[Closure] = []
    if reported is not None:
        closures.append(Closure(reported, status, missed=status == NO_ANSWER))
    answered = reported if status == COMPLETED and reported is not None else None
    ending = report.hangup or report.ends_call or answered is not None
    for offer in pending:
        if offer is reported:
            continue
        if ending:
            closures.append(Closure(offer, CANCELED))
        elif (
            reported is not None
            and parallel_ringing
            and (offer.offered_at == reported.offered_at)
        ):
            closures.append(Closure(offer, NO_ANSWER, missed=True))
        elif reported is not None and passed_by(
            offer, reported, parallel_ringing=parallel_ringing
        ):
            closures.append(Closure(offer, FAILED))
        elif offer.hold_until is not None and offer.hold_until <= now:
            closures.append(Closure(offer, EXPIRED))
    result = ""
    if answered is not None:
        result = ANSWERED
    elif report.hangup:
        result = ABANDONED
    elif report.ends_call:
        result = NOT_ANSWERED
    return Settlement(
        closures=tuple(closures),
        answered=answered,
        result=result,
        notes=(*report.ignored, *_unrecorded(offers, report, reported)),
    )


def _unrecorded(
    offers: Sequence[Offer], report: Report, reported: Offer | None
) -> tuple[str, ...]:
    """Say why a reported number's status was not recorded, if it was not."""
    if not report.number or not (report.status or report.hangup) or reported:
        return ()
    known = next((o for o in offers if o.number == report.number), None)
    if known is None:
        return (f"{report.number} was never offered for this call: not recorded",)
    return (f"{report.number} was already {known.outcome}: not recorded",)


def passed_by(offer, reached, *, parallel_ringing: bool) -> bool:
    """Return whether Exotel dialled `offer` and passed it to reach `reached`.

    Exotel dials a call's offers in call order; with parallel ringing the offers
    of one round ring together, so only an earlier round's were passed. Requests
    (`settle`) and Connect's events (`routing.decision.events`) both close what
    was passed: DESIGN section 5's rule, stated once.
    """
    if parallel_ringing and offer.offered_at == reached.offered_at:
        return False
    return offer.position < reached.position


def still_pending(offers: Sequence[Offer], settlement: Settlement) -> list[Offer]:
    """Return the offers that stay pending after `settlement`, in call order."""
    closed = settlement.closed_ids
    return sorted(
        (o for o in offers if o.outcome == PENDING and o.attempt_id not in closed),
        key=lambda offer: offer.position,
    )


def slots_to_fill(
    *, pending: int, offered: int, batch_size: int, max_attempts: int
) -> int:
    """Return how many new numbers the answer needs.

    The answer tops the pending numbers up to `batch_size`; `max_attempts` (0 = no
    cap) bounds the numbers offered over the whole call.
    """
    slots = max(batch_size - pending, 0)
    if max_attempts:
        slots = min(slots, max(max_attempts - offered, 0))
    return slots


def plan(
    *,
    offers: Sequence[Offer],
    settlement: Settlement,
    chain: Sequence[GroupSettings],
    pools: Mapping[int, Pool],
    now: dt.datetime,
    call_over: bool = False,
    lost_agent_ids: frozenset[int] = frozenset(),
) -> Plan:
    """Return the answer: pending numbers first, then new ones, with their reasons.

    `chain` is the entry group and its overflow groups; the entry group's batch
    size and cap govern the call. A group whose pool is not in `pools` yet stops
    the plan with `needs` set to it. Candidates in `lost_agent_ids` (another call
    claimed them first) and numbers already offered are skipped. A call that is
    over (abandoned, or ended by this request) gets nothing new.
    """
    pending = tuple(still_pending(offers, settlement))
    if call_over or settlement.result:
        return Plan(notes=("the call is over: nothing more to dial",))
    if not chain:
        return Plan(pending=pending, notes=("no group: no route matches this call",))
    entry = chain[0]
    slots = slots_to_fill(
        pending=len(pending),
        offered=len(offers),
        batch_size=entry.batch_size,
        max_attempts=entry.max_attempts,
    )
    offered = {offer.number for offer in offers}
    taken: set[int] = set(lost_agent_ids)
    new: list[NewOffer] = []
    for group in chain:
        if len(new) == slots:
            break
        pool = pools.get(group.id)
        if pool is None:
            return Plan(pending=pending, new=tuple(new), needs=group.id)
        for candidate in pool.candidates:
            if len(new) == slots:
                break
            if candidate.number in offered or candidate.agent_id in taken:
                continue
            offered.add(candidate.number)
            taken.add(candidate.agent_id)
            new.append(_agent_offer(group, candidate, now=now))
        if len(new) < slots and not pool.complete:
            # Claims lost to other calls used up what was read: read more.
            return Plan(pending=pending, new=tuple(new), needs=group.id)
    for group in chain:
        for number in group.fallback_numbers:
            if len(new) == slots:
                break
            if number not in offered:
                offered.add(number)
                new.append(
                    NewOffer(number, group.id, reason=f"{group.slug}: fallback number")
                )
    return Plan(pending=pending, new=tuple(new))


def reason_for(group: GroupSettings, candidate: Candidate) -> str:
    """Say why the candidate was chosen, for the supervisor reading the log."""
    why = f"tier {candidate.priority}, {group.strategy.lower()}"
    if candidate.sticky:
        why = f"answered this caller last; {why}"
    return f"{group.slug}: {why}"


def _agent_offer(group: GroupSettings, candidate: Candidate, *, now) -> NewOffer:
    hold = dt.timedelta(seconds=group.hold_seconds) if group.hold_seconds else None
    return NewOffer(
        number=candidate.number,
        group_id=group.id,
        reason=reason_for(group, candidate),
        agent_id=candidate.agent_id,
        hold_until=now + hold if hold else None,
        candidate=candidate,
    )


@dataclass
class Rotation:
    """Round robin's pointers: per tier, the member offered last."""

    pointers: dict[str, list] = field(default_factory=dict)

    def advanced(self, offers: Sequence[NewOffer]) -> dict[str, list]:
        pointers = dict(self.pointers)
        for offer in offers:
            if offer.candidate is not None:
                candidate = offer.candidate
                pointers[str(candidate.priority)] = [candidate.position, candidate.name]
        return pointers
