"""The routing decisions that need no database: plain data in, plain data out.

The service (`routing.services`) reads the call's offers, asks this module what a
request means for them and how many new numbers the answer needs, and writes the
result. Which agents fill those slots is decided in SQL (`routing.selection`),
because that is what keeps a request fast at any roster size.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PENDING = "pending"
EXPIRED = "expired"
FAILED = "failed"
ANSWERED = "completed"


@dataclass(frozen=True)
class Offer:
    """A number already offered for the call, as the log knows it."""

    attempt_id: int
    number: str
    position: int
    outcome: str
    hold_until: dt.datetime | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class Settlement:
    """What a request tells us about the offers of its call."""

    reported: Offer | None = None  # the pending offer Exotel reports on
    reported_outcome: str = ""
    passed: tuple[Offer, ...] = ()  # pending offers Exotel dialled before it
    expired: tuple[Offer, ...] = ()  # pending offers whose hold ran out

    @property
    def closed(self) -> tuple[Offer, ...]:
        reported = (self.reported,) if self.reported else ()
        return reported + self.passed + self.expired


def settle(
    offers: Sequence[Offer], *, number: str, status: str, now: dt.datetime
) -> Settlement:
    """Return how the report (`number`, `status`) and the clock close `offers`.

    The reported offer takes `status`; pending offers before it in the call were
    dialled and passed by Exotel, so they failed; other pending offers whose hold
    has run out expire. A report on an unknown or closed number changes nothing.
    """
    pending = [offer for offer in offers if offer.outcome == PENDING]
    reported = None
    if number and status:
        reported = next((offer for offer in pending if offer.number == number), None)
    passed = tuple(
        offer for offer in pending if reported and offer.position < reported.position
    )
    expired = tuple(
        offer
        for offer in pending
        if offer is not reported
        and offer not in passed
        and offer.hold_until is not None
        and offer.hold_until <= now
    )
    return Settlement(
        reported=reported,
        reported_outcome=status if reported else "",
        passed=passed,
        expired=expired,
    )


def still_pending(offers: Iterable[Offer], settlement: Settlement) -> list[Offer]:
    """Return the offers that stay pending after `settlement`, in call order."""
    closed = {offer.attempt_id for offer in settlement.closed}
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


def pick_fallback_numbers(
    chain_numbers: Iterable[str], *, offered: Iterable[str], slots: int
) -> list[str]:
    """Return up to `slots` fallback numbers not yet offered, in chain order."""
    seen = set(offered)
    picked = []
    for number in chain_numbers:
        if len(picked) == slots:
            break
        if number not in seen:
            seen.add(number)
            picked.append(number)
    return picked
