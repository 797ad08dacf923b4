"""A group's figures per day or date range, on the group's own clock."""

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import ExtractHour, TruncDate

from agents.models import AgentGroup
from routing.models import (
    Attempt,
    Call,
    CallResult,
    DerivedResult,
    Outcome,
)

MAX_DAYS = 31
REPEAT_WINDOW = dt.timedelta(hours=24)
BUSIEST_HOURS = 3
# The results that leave a caller waiting for us to call back.
MISSED = [
    DerivedResult.NOT_ANSWERED,
    DerivedResult.ABANDONED,
    DerivedResult.NO_OUTCOME,
]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """The figures of a set of calls: one day's, or the whole range's."""

    calls: int = 0
    answered: int = 0
    not_answered: int = 0
    abandoned: int = 0
    in_progress: int = 0
    no_outcome: int = 0
    answered_first_attempt: int = 0
    offers_in_answered_calls: int = 0
    callers: int = 0
    repeat_callers: int = 0

    @property
    def over(self) -> int:
        """Return the calls that are over: every call but those in progress."""
        return self.calls - self.in_progress

    @property
    def answer_rate(self) -> float | None:
        return _share(self.answered, self.over)

    @property
    def first_attempt_rate(self) -> float | None:
        return _share(self.answered_first_attempt, self.answered)

    @property
    def attempts_per_answered_call(self) -> float | None:
        return _share(self.offers_in_answered_calls, self.answered)

    @property
    def repeat_caller_rate(self) -> float | None:
        return _share(self.repeat_callers, self.callers)

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class DayFigures:
    date: dt.date
    figures: Figures


@dataclass(frozen=True)
class HourFigures:
    hour: int
    calls: int
    answered: int

    @property
    def answer_rate(self) -> float | None:
        return _share(self.answered, self.calls)


@dataclass(frozen=True)
class AgentFigures:
    """The numbers offered to one agent, or one fallback number (no agent)."""

    name: str
    number: str
    is_fallback: bool
    offered: int
    answered: int
    no_answer: int
    busy_or_failed: int
    other: int  # canceled, lapsed with no news, or still pending


@dataclass
class Report:
    group: AgentGroup
    start: dt.date
    end: dt.date  # inclusive
    days: list[DayFigures]
    total: Figures
    hours: list[HourFigures]
    agents: list[AgentFigures]
    totals_by_agent: AgentFigures = field(init=False)

    def __post_init__(self):
        rows = self.agents
        self.totals_by_agent = AgentFigures(
            name="All numbers offered",
            number="",
            is_fallback=False,
            offered=sum(row.offered for row in rows),
            answered=sum(row.answered for row in rows),
            no_answer=sum(row.no_answer for row in rows),
            busy_or_failed=sum(row.busy_or_failed for row in rows),
            other=sum(row.other for row in rows),
        )

    @property
    def busiest_hours(self) -> list[HourFigures]:
        """Return the hours of the day with the most calls, busiest first."""
        ranked = sorted(
            (hour for hour in self.hours if hour.calls),
            key=lambda hour: (-hour.calls, hour.hour),
        )
        return ranked[:BUSIEST_HOURS]


def day_bounds(group: AgentGroup, start: dt.date, end: dt.date):
    zone = zoneinfo.ZoneInfo(group.timezone)
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return zone, since, until


def group_report(
    *, group: AgentGroup, start: dt.date, end: dt.date, now: dt.datetime
) -> Report:
    """Return the figures of the calls that entered `group` from `start` to `end`.

    Days are the group's own calendar days, both ends included, at most
    `MAX_DAYS`. Results are as `Call.objects.with_derived_result(now)` gives them.
    """
    if end < start or (end - start).days >= MAX_DAYS:
        raise ValueError(f"a report covers 1 to {MAX_DAYS} days")
    zone, since, until = day_bounds(group, start, end)
    calls = Call.objects.filter(
        group=group, first_seen_at__gte=since, first_seen_at__lt=until
    )
    day_of = TruncDate("first_seen_at", tzinfo=zone)
    per_day = {}
    rows = (
        calls.with_derived_result(now)
        .annotate(
            day=day_of,
            first_answered=Exists(
                Attempt.objects.filter(
                    call=OuterRef("pk"), position=1, outcome=Outcome.COMPLETED
                )
            ),
        )
        .order_by()
        .values("day")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=Q(derived_result=DerivedResult.ANSWERED)),
            not_answered=Count(
                "pk", filter=Q(derived_result=DerivedResult.NOT_ANSWERED)
            ),
            abandoned=Count("pk", filter=Q(derived_result=DerivedResult.ABANDONED)),
            in_progress=Count("pk", filter=Q(derived_result=DerivedResult.IN_PROGRESS)),
            no_outcome=Count("pk", filter=Q(derived_result=DerivedResult.NO_OUTCOME)),
            answered_first_attempt=Count(
                "pk",
                filter=Q(first_answered=True, derived_result=DerivedResult.ANSWERED),
            ),
        )
    )
    for row in rows:
        day = row.pop("day")
        per_day[day] = Figures(**row)
    offers = (
        Attempt.objects.filter(call__in=calls, call__result=CallResult.ANSWERED)
        .annotate(day=TruncDate("call__first_seen_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(offers=Count("pk"))
    )
    for row in offers:
        per_day.setdefault(row["day"], Figures()).offers_in_answered_calls = row[
            "offers"
        ]
    moments = _calls_by_caller(group, since, until)
    for day, (callers, repeat) in _repeat_callers(moments, zone).items():
        figures = per_day.setdefault(day, Figures())
        figures.callers, figures.repeat_callers = callers, repeat

    days = []
    total = Figures()
    for offset in range((end - start).days + 1):
        date = start + dt.timedelta(days=offset)
        figures = per_day.get(date, Figures())
        days.append(DayFigures(date=date, figures=figures))
        total.add(figures)
    total.callers, total.repeat_callers = _repeat_callers_total(moments, since, until)
    return Report(
        group=group,
        start=start,
        end=end,
        days=days,
        total=total,
        hours=_hours(calls, zone),
        agents=_agents(calls),
    )


def _hours(calls, zone) -> list[HourFigures]:
    by_hour = {
        row["hour"]: row
        for row in calls.annotate(hour=ExtractHour("first_seen_at", tzinfo=zone))
        .order_by()
        .values("hour")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=Q(result=CallResult.ANSWERED)),
        )
    }
    return [
        HourFigures(
            hour=hour,
            calls=by_hour.get(hour, {}).get("calls", 0),
            answered=by_hour.get(hour, {}).get("answered", 0),
        )
        for hour in range(24)
    ]


def _agents(calls) -> list[AgentFigures]:
    rows = (
        Attempt.objects.filter(call__in=calls)
        .order_by()
        .values("agent_id", "agent__name", "number")
        .annotate(
            offered=Count("pk"),
            answered=Count("pk", filter=Q(outcome=Outcome.COMPLETED)),
            no_answer=Count("pk", filter=Q(outcome=Outcome.NO_ANSWER)),
            busy_or_failed=Count(
                "pk", filter=Q(outcome__in=[Outcome.BUSY, Outcome.FAILED])
            ),
        )
    )
    figures = [
        AgentFigures(
            name=row["agent__name"] or "Fallback number",
            number=row["number"],
            is_fallback=row["agent_id"] is None,
            offered=row["offered"],
            answered=row["answered"],
            no_answer=row["no_answer"],
            busy_or_failed=row["busy_or_failed"],
            other=row["offered"]
            - row["answered"]
            - row["no_answer"]
            - row["busy_or_failed"],
        )
        for row in rows
    ]
    return sorted(figures, key=lambda row: (row.is_fallback, -row.no_answer, row.name))


def _calls_by_caller(group, since, until) -> dict[str, list[dt.datetime]]:
    """Return the moments of each known caller's calls, from `since` to a day
    after `until` (a repeat may come the next day)."""
    moments = defaultdict(list)
    rows = (
        Call.objects.filter(
            group=group,
            first_seen_at__gte=since,
            first_seen_at__lt=until + REPEAT_WINDOW,
        )
        .exclude(caller="")
        .order_by("first_seen_at")
        .values_list("caller", "first_seen_at")
    )
    for caller, moment in rows:
        moments[caller].append(moment)
    return moments


def _repeats(moments: list[dt.datetime], since, until) -> tuple[bool, bool]:
    """Return whether the caller called in the range, and called again within
    `REPEAT_WINDOW` of one of those calls."""
    inside = [moment for moment in moments if since <= moment < until]
    again = any(
        later - moment <= REPEAT_WINDOW
        for moment, later in zip(moments, moments[1:], strict=False)
        if since <= moment < until
    )
    return bool(inside), again


def _repeat_callers(by_caller, zone) -> dict[dt.date, tuple[int, int]]:
    """Return, per day, the known callers and those of them who called again."""
    per_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for moments in by_caller.values():
        days = {moment.astimezone(zone).date() for moment in moments}
        for day in days:
            day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
            day_end = dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(), tzinfo=zone
            )
            _, again = _repeats(moments, day_start, day_end)
            per_day[day][0] += 1
            per_day[day][1] += again
    return {day: (callers, repeat) for day, (callers, repeat) in per_day.items()}


def _repeat_callers_total(by_caller, since, until) -> tuple[int, int]:
    callers = repeat = 0
    for moments in by_caller.values():
        inside, again = _repeats(moments, since, until)
        callers += inside
        repeat += again
    return callers, repeat


@dataclass(frozen=True)
class AnswerSpeed:
    """Speed of answer of a group's calls whose answer time is known (the events
    of Programmable Connect report it): average, and the share within threshold."""

    timed: int  # answered calls with an answer time
    average_seconds: float | None
    within: int  # of those, answered within the group's threshold
    threshold_seconds: int

    @property
    def service_level(self) -> float | None:
        return self.within / self.timed if self.timed else None


def answer_speed(*, group: AgentGroup, start: dt.date, end: dt.date) -> AnswerSpeed:
    """Return the speed of answer of the calls that entered `group` from `start`
    to `end` (both included, on the group's clock)."""
    zone = zoneinfo.ZoneInfo(group.timezone)
    figures = Call.objects.filter(
        group=group,
        first_seen_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=zone),
        first_seen_at__lt=dt.datetime.combine(
            end + dt.timedelta(days=1), dt.time(), tzinfo=zone
        ),
        answer_seconds__isnull=False,
    ).aggregate(
        timed=Count("pk"),
        average=Avg("answer_seconds"),
        within=Count("pk", filter=Q(answer_seconds__lte=group.service_level_seconds)),
    )
    return AnswerSpeed(
        timed=figures["timed"],
        average_seconds=figures["average"],
        within=figures["within"],
        threshold_seconds=group.service_level_seconds,
    )
