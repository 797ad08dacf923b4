"""The callers to call back: missed, and answered by nobody since."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from agents.models import AgentGroup
from pages.reports.figures import MISSED, day_bounds
from routing.models import Call, CallBack, CallResult, DerivedResult


@dataclass(frozen=True)
class MissedCaller:
    caller: str
    tries: int  # missed calls in the period since their last answered call
    last_try_at: dt.datetime
    last_result: DerivedResult
    last_answered_by: str  # the sticky agent: who last answered them, if anyone
    called_back: CallBack | None  # the mark, if set after the last try


def missed_callers(
    *,
    group: AgentGroup,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    include_called_back: bool = True,
) -> list[MissedCaller]:
    """Return the callers of `group` whose calls from `start` to `end` (its days,
    inclusive) were not answered and who have had no answered call since, newest
    first. A call in progress is not missed yet; a caller with no number cannot be
    called back and is left out."""
    _, since, until = day_bounds(group, start, end)
    missed = (
        Call.objects.filter(
            group=group, first_seen_at__gte=since, first_seen_at__lt=until
        )
        .exclude(caller="")
        .with_derived_result(now)
        .filter(derived_result__in=MISSED)
        .order_by("first_seen_at")
        .values_list("caller", "first_seen_at", "derived_result")
    )
    tries: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for caller, moment, result in missed:
        tries[caller].append((moment, result))
    if not tries:
        return []
    answered = (
        Call.objects.filter(
            group=group, caller__in=list(tries), result=CallResult.ANSWERED
        )
        .order_by("first_seen_at")
        .values_list("caller", "first_seen_at", "answered_by__name")
    )
    last_answer: dict[str, tuple[dt.datetime, str]] = {}
    for caller, moment, name in answered:
        last_answer[caller] = (moment, name or "")
    marks: dict[str, CallBack] = {}
    for mark in (
        CallBack.objects.filter(group=group, caller__in=list(tries))
        .select_related("marked_by")
        .order_by("marked_at")
    ):
        marks[mark.caller] = mark
    result = []
    for caller, calls in tries.items():
        answered_at, answered_by = last_answer.get(caller, (None, ""))
        if answered_at is not None:
            calls = [(moment, r) for moment, r in calls if moment > answered_at]
        if not calls:
            continue
        last_at, last_result = calls[-1]
        mark = marks.get(caller)
        if mark is not None and mark.marked_at < last_at:
            mark = None
        if mark is not None and not include_called_back:
            continue
        result.append(
            MissedCaller(
                caller=caller,
                tries=len(calls),
                last_try_at=last_at,
                last_result=DerivedResult(last_result),
                last_answered_by=answered_by,
                called_back=mark,
            )
        )
    return sorted(result, key=lambda row: row.last_try_at, reverse=True)
