"""Outcomes nobody reported, looked up in Exotel's Call Details API (DESIGN 11).

`reconcile_calls` asks Exotel about each call whose end was never reported (its
derived result is "no outcome reported"), at least `older_than` old and less
than a day old, and records what Exotel says: answered or not, the conversation
time, the recording link. Each call is written in its own short transaction,
conditional on the call still having no result, so a run that is cut off loses
nothing and the next run goes on where it stopped, and a run that repeats
itself (or races a late Passthru) changes nothing twice. A 404 means Exotel
does not know the call yet (its records are written minutes after the call);
an hour after the call it means it never will, and the call is asked about no
more. The client paces the requests under the account's rate limit.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from routing.exotel.call_details import CallDetails, parse_call_details
from routing.exotel_api.client import ExotelApiError, ExotelClient
from routing.models import Attempt, Call, CallResult, DerivedResult, Outcome

DEFAULT_OLDER_THAN = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=1)
NOT_FOUND_FOR = dt.timedelta(hours=1)
# Credentials that do not work fail every request alike: stop the run.
FATAL_STATUSES = frozenset({401, 402, 403})


class ReconcileStopped(Exception):
    """The run cannot go on (the account's credentials are refused)."""


@dataclass
class Tally:
    candidates: int = 0
    answered: int = 0
    not_answered: int = 0
    not_over: int = 0
    not_yet_found: int = 0
    never_found: int = 0
    ended_meanwhile: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def recorded(self) -> int:
        return self.answered + self.not_answered


def calls_to_reconcile(*, now: dt.datetime, older_than: dt.timedelta):
    """Return the calls to look up, oldest first."""
    return (
        Call.objects.with_derived_result(now)
        .filter(
            derived_result=DerivedResult.NO_OUTCOME,
            first_seen_at__lte=now - older_than,
            first_seen_at__gt=now - MAX_AGE,
            api_not_found=False,
            # A call-back's end is its status callback's, or its hold's.
            is_callback=False,
        )
        .order_by("first_seen_at", "pk")
    )


def reconcile_calls(
    *,
    client: ExotelClient,
    now: dt.datetime,
    older_than: dt.timedelta = DEFAULT_OLDER_THAN,
    dry_run: bool = False,
) -> Tally:
    """Look up the calls `calls_to_reconcile` gives and record their outcomes."""
    tally = Tally()
    pending = list(
        calls_to_reconcile(now=now, older_than=older_than).values_list(
            "pk", "sid", "first_seen_at"
        )
    )
    tally.candidates = len(pending)
    for pk, sid, first_seen_at in pending:
        try:
            answer = client.call_details(sid, details=True)
        except ExotelApiError as error:
            if error.status in FATAL_STATUSES:
                raise ReconcileStopped(str(error)) from None
            if not error.not_found:
                tally.failed += 1
                tally.lines.append(f"{sid}: {error}")
            elif now - first_seen_at < NOT_FOUND_FOR:
                tally.not_yet_found += 1
                tally.lines.append(f"{sid}: not at Exotel yet, asked again next run")
            else:
                tally.never_found += 1
                tally.lines.append(f"{sid}: not at Exotel an hour on, not asked again")
                if not dry_run:
                    Call.objects.filter(pk=pk).update(api_not_found=True)
            continue
        details = parse_call_details(answer)
        done = record_details(call_id=pk, details=details, now=now, dry_run=dry_run)
        match done:
            case "answered":
                tally.answered += 1
            case "not-answered":
                tally.not_answered += 1
            case "not-over":
                tally.not_over += 1
            case _:
                tally.ended_meanwhile += 1
        tally.lines.append(f"{sid}: {details.describe()}")
    return tally


def record_details(
    *, call_id: int, details: CallDetails, now: dt.datetime, dry_run: bool = False
) -> str:
    """Record `details` on the call, if it still has no result; say what was done.

    Returns "answered", "not-answered", "not-over" (Exotel says it is not over)
    or "ended" (the call got its result meanwhile: nothing written).
    """
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None or call.result != CallResult.IN_PROGRESS:
            return "ended"
        if not details.settled:
            return "not-over"
        ended_at = details.ended_at or now
        fields = {
            "ended_at": ended_at,
            "recording_url": details.recording_url,
            "outcome_from_api": True,
        }
        if details.answered:
            attempt = _answerer(call, details)
            fields.update(
                result=CallResult.ANSWERED,
                answered_by_id=attempt.agent_id if attempt else None,
                talk_seconds=details.talk_seconds,
            )
            if attempt is not None:
                Attempt.objects.filter(
                    pk=attempt.pk, outcome__in=[Outcome.PENDING, Outcome.EXPIRED]
                ).update(
                    outcome=Outcome.COMPLETED,
                    outcome_at=ended_at,
                    talk_seconds=details.talk_seconds,
                )
        else:
            fields["result"] = CallResult.NOT_ANSWERED
        Call.objects.filter(pk=call_id, result=CallResult.IN_PROGRESS).update(**fields)
        if dry_run:
            transaction.set_rollback(True)
        return "answered" if details.answered else "not-answered"


def _answerer(call: Call, details: CallDetails) -> Attempt | None:
    """Return the offer that was answered: the number Exotel names, else the one
    offer whose outcome was never reported (None when that is not one)."""
    attempts = list(call.attempts.all())
    if details.agent_number:
        named = [a for a in attempts if a.number == details.agent_number]
        if named:
            return named[0]
    unreported = [
        a
        for a in attempts
        if a.agent_id and a.outcome in (Outcome.PENDING, Outcome.EXPIRED)
    ]
    return unreported[0] if len(unreported) == 1 else None
