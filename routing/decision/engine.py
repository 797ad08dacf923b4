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

# The parts of a group when the call has needs (DESIGN 10.4): its agents who meet
# them, then, when they are a preference, its other eligible agents. A pool is
# keyed by the group's id when the call has no needs, else by (id, part); the
# owner's by (OWNER, agent id).
MEETS = "meets"
REST = "rest"
OWNER = "owner"


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
    meets: bool | None = None  # meets the call's needs (None: the call has none)


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
    pool: object = None  # the key of the pool it came from


@dataclass(frozen=True)
class KnownCaller:
    """What the call log's caller is known for (DESIGN 10.3)."""

    owner_id: int | None = None
    strict: bool = False  # only the owner
    vip: bool = False
    blocked: bool = False


@dataclass(frozen=True)
class CallNeeds:
    """The skills the call needs, and whether only agents meeting them may ring now."""

    skills: tuple[tuple[str, int], ...] = ()
    strict: bool = False

    def keys(self, group_id: int) -> list:
        """The pools a group gives, in order."""
        if not self.skills:
            return [group_id]
        if self.strict:
            return [(group_id, MEETS)]
        return [(group_id, MEETS), (group_id, REST)]


NO_NEEDS = CallNeeds()
UNKNOWN_CALLER = KnownCaller()


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
    pools: Mapping[object, Pool],
    now: dt.datetime,
    call_over: bool = False,
    lost_agent_ids: frozenset[int] = frozenset(),
    needs: CallNeeds = NO_NEEDS,
    caller: KnownCaller = UNKNOWN_CALLER,
    vip_group: GroupSettings | None = None,
) -> Plan:
    """Return the answer in the order of DESIGN 10.4, with the reasons.

    A blocked caller gets nothing. Otherwise the pending numbers, then the
    caller's owner, then the chain (`vip_group` for a VIP, then the entry group
    and its overflow groups), each group giving its agents who meet `needs`,
    then, unless the needs are strict, its other eligible agents; then fallback
    numbers. A strict owner is the only one offered. The entry group's batch
    size and cap govern the call. A pool not in `pools` yet stops the plan with
    `needs` set to its key. Candidates in `lost_agent_ids` (another call claimed
    them first) and numbers already offered are skipped. A call that is over
    (abandoned, blocked, or ended by this request) gets nothing new.
    """
    if caller.blocked:
        return Plan(notes=("blocked caller: nothing to dial",))
    pending = tuple(still_pending(offers, settlement))
    if call_over or settlement.result:
        return Plan(notes=("the call is over: nothing more to dial",))
    if not chain:
        return Plan(pending=pending, notes=("no group: no route matches this call",))
    entry = chain[0]
    notes = []
    if needs.skills:
        phase = "only agents who meet them" if needs.strict else "a preference"
        listed = ", ".join(f"{name} {level}+" for name, level in needs.skills)
        notes.append(f"needs {listed}: {phase}")
    slots = slots_to_fill(
        pending=len(pending),
        offered=len(offers),
        batch_size=entry.batch_size,
        max_attempts=entry.max_attempts,
    )
    offered = {offer.number for offer in offers}
    taken: set[int] = set(lost_agent_ids)
    new: list[NewOffer] = []
    stages = []
    if caller.owner_id is not None:
        stages.append((entry, (OWNER, caller.owner_id)))
    if not caller.strict:
        groups = [vip_group, *chain] if vip_group is not None else list(chain)
        stages.extend((group, key) for group in groups for key in needs.keys(group.id))
    for group, key in stages:
        if len(new) == slots:
            break
        pool = pools.get(key)
        if pool is None:
            return Plan(pending=pending, new=tuple(new), needs=key, notes=tuple(notes))
        for candidate in pool.candidates:
            if len(new) == slots:
                break
            if candidate.number in offered or candidate.agent_id in taken:
                continue
            offered.add(candidate.number)
            taken.add(candidate.agent_id)
            new.append(_agent_offer(group, candidate, now=now, pool=key))
        if len(new) < slots and not pool.complete:
            # Claims lost to other calls used up what was read: read more.
            return Plan(pending=pending, new=tuple(new), needs=key, notes=tuple(notes))
    if caller.strict:
        if not new and not pending:
            notes.append("strict owner not available: nothing else is offered")
        return Plan(pending=pending, new=tuple(new), notes=tuple(notes))
    for group in chain:
        for number in group.fallback_numbers:
            if len(new) == slots:
                break
            if number not in offered:
                offered.add(number)
                new.append(
                    NewOffer(number, group.id, reason=f"{group.slug}: fallback number")
                )
    return Plan(pending=pending, new=tuple(new), notes=tuple(notes))


def is_owner_pool(key) -> bool:
    return isinstance(key, tuple) and key[0] == OWNER


def reason_for(group: GroupSettings, candidate: Candidate, pool=None) -> str:
    """Say why the candidate was chosen, for the supervisor reading the log."""
    if is_owner_pool(pool):
        return f"{group.slug}: owner of this caller"
    why = f"tier {candidate.priority}, {group.strategy.lower()}"
    if candidate.meets is True:
        why = f"meets the needs; {why}"
    elif candidate.meets is False:
        why = f"needs relaxed; {why}"
    if candidate.sticky:
        why = f"answered this caller last; {why}"
    return f"{group.slug}: {why}"


def _agent_offer(group: GroupSettings, candidate: Candidate, *, now, pool) -> NewOffer:
    hold = dt.timedelta(seconds=group.hold_seconds) if group.hold_seconds else None
    return NewOffer(
        number=candidate.number,
        group_id=group.id,
        reason=reason_for(group, candidate, pool),
        agent_id=candidate.agent_id,
        hold_until=now + hold if hold else None,
        candidate=candidate,
        pool=pool,
    )


@dataclass
class Rotation:
    """Round robin's pointers: per tier, the member offered last."""

    pointers: dict[str, list] = field(default_factory=dict)

    def advanced(self, offers: Sequence[NewOffer]) -> dict[str, list]:
        pointers = dict(self.pointers)
        for offer in offers:
            # An owner's offer moves no group's rotation.
            if offer.candidate is not None and not is_owner_pool(offer.pool):
                candidate = offer.candidate
                pointers[str(candidate.priority)] = [candidate.position, candidate.name]
        return pointers
