"""Time spent available, on break and offline, from the status history.

Plain data in, plain data out: an agent's StatusChange rows (or anything with
`changed_at`, `new_status`, `until` and `via`), the status they had when the
period began, and the period. A break with an end counts as available from its
end even before `end_due_breaks` has written that down.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from agents.models import AgentStatus, StatusVia


@dataclass(frozen=True)
class StatusState:
    status: str
    until: dt.datetime | None = None
    via: str = ""


@dataclass
class StatusTime:
    """The time of one agent in one period, by status, and its missed-call pauses."""

    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(AgentStatus.values, 0.0)
    )
    missed_call_pauses: int = 0  # breaks begun by missed calls within the period
    paused_seconds: float = 0.0  # time on such a break within the period

    @property
    def available(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.seconds[AgentStatus.AVAILABLE])

    @property
    def on_break(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.seconds[AgentStatus.BREAK])

    @property
    def offline(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.seconds[AgentStatus.OFFLINE])

    @property
    def paused(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.paused_seconds)


def status_time(
    *, changes: Iterable, initial: StatusState, start: dt.datetime, end: dt.datetime
) -> StatusTime:
    """Return the time from `start` to `end` by status, starting from `initial`."""
    totals = StatusTime()

    def spend(state: StatusState, begin: dt.datetime, until: dt.datetime) -> None:
        if until <= begin:
            return
        status = state.status
        if status == AgentStatus.BREAK and state.until is not None:
            split = min(max(begin, state.until), until)
            spend_as(state, AgentStatus.BREAK, begin, split)
            begin, status = split, AgentStatus.AVAILABLE
        spend_as(state, status, begin, until)

    def spend_as(state, status, begin, until) -> None:
        seconds = max((until - begin).total_seconds(), 0.0)
        totals.seconds[status] += seconds
        if status == AgentStatus.BREAK and state.via == StatusVia.MISSED_CALLS:
            totals.paused_seconds += seconds

    state, moment = initial, start
    for change in sorted(changes, key=lambda change: change.changed_at):
        if change.changed_at >= end:
            break
        at = max(change.changed_at, start)
        spend(state, moment, at)
        moment = at
        state = StatusState(change.new_status, change.until, change.via)
        if (
            change.changed_at >= start
            and change.via == StatusVia.MISSED_CALLS
            and change.new_status == AgentStatus.BREAK
        ):
            totals.missed_call_pauses += 1
    spend(state, moment, end)
    return totals


def format_duration(value: dt.timedelta) -> str:
    """Return `value` as hours and minutes: `3h 05m`, `0h 00m`."""
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m"
