"""Answers while the database is unreachable: the last-known list, and the spool.

The views call these after the database deadline (`routing.outage.deadline`) gave up or
the circuit breaker (`routing.outage.breaker`) remembered the outage. Nothing here
touches the database: each request is kept in the process's spool
(`routing.outage.spool`) and replayed into the call log, outcomes included, once the
database answers again. The view renders the numbers in its endpoint's shape
(`routing.http.answering.answer_call`) and writes the log line.
"""

from dataclasses import dataclass

from routing import metrics
from routing.calls.requestlog import Received
from routing.exotel.requests import ExotelRequest
from routing.models import WebhookRequest
from routing.outage import last_known, spool

UNAVAILABLE = "database unavailable"


@dataclass(frozen=True)
class LastKnownAnswer:
    group: str  # the group's slug, or "" when no group is known
    numbers: list[str]  # empty: answer 503, Exotel's Fallback URL
    note: str  # why, for the log line and the call log


def answer_from_last_known(
    *, received: Received, request: ExotelRequest, group_slug: str | None
) -> LastKnownAnswer:
    """Return the group's last-known list, the request kept in the spool."""
    group, numbers = last_known.recall(
        group_slug=group_slug, exophone=request.exophone, digits=request.digits
    )
    if numbers:
        note = f"{UNAVAILABLE}, answered {group}'s last-known list"
    else:
        note = f"{UNAVAILABLE}, no last-known list for {group or 'this call'}"
    # The call log keeps the numbers, whatever the endpoint's shape (a Connect
    # answer's events URL carries the token).
    kept = spool.keep(
        received=received,
        group_slug=group,
        status=200 if numbers else 503,
        body=",".join(numbers) if numbers else UNAVAILABLE,
        notes=note,
    )
    if not kept:
        note += " (not spooled: the call log will miss it)"
    metrics.DEGRADED.labels(endpoint=received.endpoint).inc()
    return LastKnownAnswer(group=group, numbers=numbers, note=note)


def spool_call_end(*, received: Received) -> str:
    """Keep a Passthru whose outcome cannot be recorded now; return the note."""
    kept = spool.keep(
        received=received,
        group_slug="",
        status=200,
        body="",
        notes=f"{UNAVAILABLE}, outcome spooled",
    )
    metrics.DEGRADED.labels(endpoint=WebhookRequest.Endpoint.PASSTHRU).inc()
    return (
        f"{UNAVAILABLE}, outcome spooled for replay"
        if kept
        else f"{UNAVAILABLE}, outcome LOST (not spooled)"
    )
