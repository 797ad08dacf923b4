"""Call-backs: a missed caller called back through Exotel's API (DESIGN 11).

`place_callback` claims an agent through the very claim an inbound offer takes
(`routing.calls.claims.claim_agents`: a conditional UPDATE on the agent's row,
so no inbound call can get them meanwhile, on any server), logs the call-back as
a call with one offer, and asks Exotel to connect the agent first, then the
caller. The agent stays claimed until the call-back's status callback
(`record_status_callback`) ends it, or the offer's hold runs out; a call Exotel
refuses frees them at once. Clicks on one caller of one group take turns
(`_serialise_clicks`), and a call-back still holding its agent is not placed
twice.

The agent: the caller's owner (a known caller's), else the one who last spoke
with the caller (their last answered call, in any group), else the group's
eligible members in its own strategy order (sticky agent first); the first whom
the claim gets.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from agents.models import Agent, AgentGroup, Caller
from agents.rules.queries import agent_zones
from agents.sql import execute
from routing.calls import claims
from routing.calls.selection import MemberQuery
from routing.decision import engine
from routing.exotel.status_callback import StatusCallback
from routing.exotel_api.account import (
    OFF_REASON,
    callback_caller_id,
    configured_account,
)
from routing.exotel_api.client import ExotelApiError, ExotelClient
from routing.models import Attempt, Call, CallBack, CallResult, Outcome

SID_PREFIX = "cb-"
CANDIDATES = 5


@dataclass(frozen=True)
class Placed:
    ok: bool
    message: str  # one line, for the page
    call: Call | None = None


def callback_hold(group: AgentGroup) -> dt.timedelta:
    """How long a call-back holds its agent when no status callback comes: the
    group's hold time, plus both legs' ringing."""
    return dt.timedelta(seconds=group.hold_seconds + 2 * group.ring_seconds)


def place_callback(
    *,
    group: AgentGroup,
    caller: str,
    status_callback_url: str,
    now: dt.datetime,
    agent: Agent | None = None,
    client_factory: Callable[[], ExotelClient] = ExotelClient.from_settings,
) -> Placed:
    """Call `caller` back for `group`: claim an agent, ask Exotel to connect.

    With `agent` (the agent's own page), only that agent is claimed.
    """
    if configured_account() is None:
        return Placed(False, f"Call back is off. {OFF_REASON}.")
    caller_id = callback_caller_id(group)
    if not caller_id:
        return Placed(
            False,
            f"No caller ID for {group.name}: set the group's call-back caller ID "
            "or EXOTEL_CALLER_ID.",
        )
    hold_until = now + callback_hold(group)
    with transaction.atomic():
        _serialise_clicks(group, caller)
        running = (
            Call.objects.filter(
                is_callback=True,
                group=group,
                caller=caller,
                result=CallResult.IN_PROGRESS,
                attempts__outcome=Outcome.PENDING,
                attempts__hold_until__gt=now,
            )
            .order_by("-first_seen_at")
            .first()
        )
        if running is not None:
            return Placed(True, f"{caller} is already being called back.", running)
        sid = SID_PREFIX + uuid.uuid4().hex
        chosen, reason = _claim_agent(
            group=group,
            caller=caller,
            sid=sid,
            hold_until=hold_until,
            now=now,
            only=agent,
        )
        if chosen is None and agent is not None:
            return Placed(
                False, f"{agent.name} is not free (on a call, on break or offline)."
            )
        if chosen is None:
            return Placed(False, f"Nobody in {group.name} is free to call {caller}.")
        agent = chosen
        call = Call.objects.create(
            sid=sid,
            caller=caller,
            exophone=caller_id,
            group=group,
            first_seen_at=now,
            is_callback=True,
        )
        Attempt.objects.create(
            call=call,
            agent=agent,
            group=group,
            number=str(agent.phone),
            position=1,
            reason=reason,
            offered_at=now,
            hold_until=hold_until,
        )
    try:
        with client_factory() as client:
            answer = client.connect(
                first=str(agent.phone),
                second=caller,
                caller_id=caller_id,
                status_callback=status_callback_url,
                custom_field=sid,
                time_out=group.ring_seconds,
            )
    except ExotelApiError as error:
        _end_unanswered(call, Outcome.FAILED, now=now)
        return Placed(False, f"Call-back to {caller} failed: {error}", call)
    exotel_sid = str(answer.get("Sid") or "")[:64]
    if Call.objects.filter(pk=call.pk, exotel_sid="").update(exotel_sid=exotel_sid):
        call.exotel_sid = exotel_sid
    return Placed(True, f"Calling {agent.name} first, then {caller}.", call)


def _serialise_clicks(group: AgentGroup, caller: str) -> None:
    """Make clicks on one caller of one group take turns, until the transaction ends.

    A PostgreSQL advisory lock, not a lock on the group's row: an inbound call
    that holds an agent's row while it writes its offer takes a share of the
    group's row, and the two would deadlock. SQLite's writers take turns anyway
    (IMMEDIATE transactions).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"dialwhom-callback:{group.pk}:{caller}"],
        )


def _claim_agent(
    *, group: AgentGroup, caller: str, sid: str, hold_until, now, only=None
) -> tuple[Agent | None, str]:
    order: list[tuple[int, str]] = []
    owner = (
        Caller.objects.filter(number=caller, owner__isnull=False)
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner is not None:
        order.append((owner, "call-back: the caller's owner"))
    if only is not None:
        return _claim_first(
            [(only.pk, "call-back: from their own page")], group, sid, hold_until, now
        )
    last = (
        Attempt.objects.filter(
            call__caller=caller, outcome=Outcome.COMPLETED, agent__isnull=False
        )
        .order_by("-outcome_at")
        .values_list("agent_id", flat=True)
        .first()
    )
    if last is not None:
        order.append((last, "call-back: last spoke with the caller"))
    query = MemberQuery(group, moment=now, zones=agent_zones(), caller=caller)
    for candidate in query.candidates(limit=CANDIDATES):
        order.append((candidate.agent_id, f"call-back: next in {group.slug}"))
    return _claim_first(order, group, sid, hold_until, now)


def _claim_first(order, group, sid, hold_until, now) -> tuple[Agent | None, str]:
    """Claim the first agent of `order` the claim gets."""
    tried = set()
    for agent_id, reason in order:
        if agent_id in tried:
            continue
        tried.add(agent_id)
        offer = engine.NewOffer(
            number="",
            group_id=group.pk,
            reason=reason,
            agent_id=agent_id,
            hold_until=hold_until,
        )
        statement = claims.claim_agents([offer], call_sid=sid, now=now)
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            if cursor.fetchall():
                return Agent.objects.get(pk=agent_id), reason
    return None, ""


def record_status_callback(*, callback: StatusCallback, now: dt.datetime) -> str:
    """Apply a call-back's status callback, once, in any order; say what it did."""
    with transaction.atomic():
        match = Q(exotel_sid=callback.call_sid)
        if callback.custom_field.startswith(SID_PREFIX):
            match |= Q(sid=callback.custom_field)
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("group")
            .filter(match, is_callback=True)
            .first()
        )
        if call is None:
            return f"unknown call-back {callback.call_sid}"
        if not call.exotel_sid:
            Call.objects.filter(pk=call.pk).update(exotel_sid=callback.call_sid)
        if call.result != CallResult.IN_PROGRESS:
            return f"call-back {call.sid} already ended {call.result}"
        attempt = call.attempts.first()
        if callback.event == "answered":
            if call.answered_at is not None:
                return "call-back: answered already recorded"
            Call.objects.filter(pk=call.pk).update(answered_at=now)
            if attempt and attempt.agent_id:
                execute(
                    claims.hold_for_conversation(
                        agent_id=attempt.agent_id,
                        call_sid=call.sid,
                        max_seconds=call.group.max_conversation_seconds
                        if call.group
                        else None,
                        now=now,
                    )
                )
            return "call-back answered"
        if callback.answered:
            _end_answered(call, attempt, callback, now=now)
            return f"call-back answered, {callback.talk_seconds or 0} s"
        _end_unanswered(
            call, callback.agent_outcome, now=now, recording=callback.recording_url
        )
        return f"call-back not answered ({callback.agent_outcome})"


def _end_answered(call: Call, attempt, callback: StatusCallback, *, now) -> None:
    agent_id = attempt.agent_id if attempt else None
    if attempt is not None:
        Attempt.objects.filter(pk=attempt.pk, outcome=Outcome.PENDING).update(
            outcome=Outcome.COMPLETED,
            outcome_at=now,
            talk_seconds=callback.talk_seconds,
        )
    Call.objects.filter(pk=call.pk).update(
        result=CallResult.ANSWERED,
        answered_by_id=agent_id,
        ended_at=now,
        talk_seconds=callback.talk_seconds,
        recording_url=callback.recording_url,
    )
    if agent_id:
        wrapup = call.group.wrapup_seconds if call.group else 0
        execute(
            claims.start_wrapup(
                agent_id=agent_id, call_sid=call.sid, wrapup_seconds=wrapup, now=now
            )
        )
        execute(claims.mark_answered(agent_id=agent_id, now=now))
    if call.group_id:
        CallBack.objects.create(
            group_id=call.group_id, caller=call.caller, marked_at=now
        )


def _end_unanswered(call: Call, outcome: str, *, now, recording: str = "") -> None:
    """End the call-back unanswered and free its agent at once."""
    closures = [
        engine.Closure(
            engine.Offer(
                attempt_id=attempt.pk,
                number=attempt.number,
                position=attempt.position,
                outcome=attempt.outcome,
                hold_until=attempt.hold_until,
                agent_id=attempt.agent_id,
                group_id=attempt.group_id,
            ),
            outcome,
        )
        for attempt in call.attempts.filter(outcome=Outcome.PENDING)
    ]
    Attempt.objects.filter(call=call, outcome=Outcome.PENDING).update(
        outcome=outcome, outcome_at=now
    )
    for _, statement in claims.release_agents(closures, call_sid=call.sid, now=now):
        execute(statement)
    Call.objects.filter(pk=call.pk, result=CallResult.IN_PROGRESS).update(
        result=CallResult.NOT_ANSWERED, ended_at=now, recording_url=recording
    )
