"""Call state: the call and its offers as stored, and what a request's report writes."""

import datetime as dt

from django.db import IntegrityError
from django.db.models import Case, Value, When

from agents.models import AgentGroup
from routing import claims, engine
from routing.exotel import ExotelRequest
from routing.models import Attempt, Call, CallResult, Outcome
from routing.routes import resolve_group


class UnknownGroup(Exception):
    """The pinned URL names a group that does not exist."""


class StaleOffers(IntegrityError):
    """The offers changed since we read them: another request recorded first."""


def report_of(request: ExotelRequest, *, ends_call: bool = False) -> engine.Report:
    return engine.Report(
        number=request.dial_whom_number,
        status=request.dial_call_status,
        hangup=request.hangup,
        ends_call=ends_call,
    )


def find_call(
    *, request: ExotelRequest, group_slug: str | None, now: dt.datetime
) -> Call:
    """Return the request's call: the stored one, or a new one not yet saved.

    A new call gets its group now, from the pinned slug or the routes; it keeps
    that group for the rest of the call.
    """
    call = (
        Call.objects.select_related("group__overflow__overflow")
        .filter(sid=request.call_sid)
        .first()
    )
    if call is not None:
        if group_slug and (call.group is None or call.group.slug != group_slug):
            # The call keeps the group of its first request; the slug must exist.
            if not AgentGroup.objects.filter(slug=group_slug).exists():
                raise UnknownGroup(group_slug)
        return call
    if group_slug:
        group = (
            AgentGroup.objects.select_related("overflow__overflow")
            .filter(slug=group_slug)
            .first()
        )
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


def offers_of(call: Call) -> list[engine.Offer]:
    """Return the call's offers as the planner reads them (none for a new call)."""
    if call.pk is None:
        return []
    rows = call.attempts.values_list(
        "pk",
        "number",
        "position",
        "outcome",
        "hold_until",
        "agent_id",
        "group_id",
        "offered_at",
        "group__missed_to_pause",
        "group__wrapup_seconds",
    )
    return [
        engine.Offer(*row[:8], missed_to_pause=row[8] or 0, wrapup_seconds=row[9] or 0)
        for row in rows
    ]


def write_settlement(
    call: Call,
    settlement: engine.Settlement,
    *,
    request: ExotelRequest,
    now: dt.datetime,
) -> None:
    """Write the outcomes `settlement` gives, free its agents, end the call if so."""
    closures = settlement.closures
    if closures:
        changed = Attempt.objects.filter(
            pk__in=[closure.offer.attempt_id for closure in closures],
            outcome=Outcome.PENDING,
        ).update(
            outcome=Case(
                *[
                    When(pk=closure.offer.attempt_id, then=Value(closure.outcome))
                    for closure in closures
                ]
            ),
            outcome_at=now,
        )
        if changed != len(closures):
            raise StaleOffers(f"call {call.sid}: its offers changed meanwhile")
    answered = settlement.answered
    claims.release_agents(
        call_sid=call.sid,
        closures=[c for c in closures if c.offer is not answered],
        now=now,
    )
    if answered is not None:
        Attempt.objects.filter(pk=answered.attempt_id).update(
            talk_seconds=request.dial_call_duration
        )
        if answered.agent_id:
            claims.start_wrapup(
                agent_id=answered.agent_id,
                call_sid=call.sid,
                wrapup_seconds=answered.wrapup_seconds,
                now=now,
            )
        Call.objects.filter(pk=call.pk).update(
            result=CallResult.ANSWERED,
            answered_by_id=answered.agent_id,
            ended_at=now,
            talk_seconds=request.dial_call_duration,
        )
    elif settlement.result:
        # An answered call stays answered; otherwise the first end is kept.
        Call.objects.filter(pk=call.pk, ended_at__isnull=True).exclude(
            result=CallResult.ANSWERED
        ).update(result=settlement.result, ended_at=now)


def log_offers(
    call: Call, offers, *, first_position: int, now: dt.datetime
) -> list[Attempt]:
    return Attempt.objects.bulk_create(
        Attempt(
            call=call,
            agent_id=offer.agent_id,
            group_id=offer.group_id,
            number=offer.number,
            position=first_position + index,
            reason=offer.reason[:200],
            offered_at=now,
            hold_until=offer.hold_until,
        )
        for index, offer in enumerate(offers)
    )
