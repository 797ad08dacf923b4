"""Daily figures of a group's calls, and an hourly chart drawn as SVG geometry."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import ExtractHour

from agents.models import AgentGroup
from routing.models import Attempt, Call, CallResult, Outcome


@dataclass(frozen=True)
class HourFigures:
    hour: int
    calls: int
    answered: int

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None


@dataclass(frozen=True)
class AgentFigures:
    name: str
    number: str
    offered: int
    answered: int
    no_answer: int


@dataclass(frozen=True)
class DayReport:
    group: AgentGroup
    date: dt.date
    calls: int
    answered: int
    answered_first_attempt: int
    attempts: int
    hours: list[HourFigures]
    agents: list[AgentFigures]

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    @property
    def first_attempt_share(self) -> float | None:
        return self.answered_first_attempt / self.calls if self.calls else None

    @property
    def attempts_per_call(self) -> float | None:
        return self.attempts / self.calls if self.calls else None


def day_report(*, group: AgentGroup, date: dt.date) -> DayReport:
    """Return the figures of the calls that entered `group` on `date` (its clock)."""
    zone = zoneinfo.ZoneInfo(group.timezone)
    starts = dt.datetime.combine(date, dt.time(), tzinfo=zone)
    ends = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    calls = Call.objects.filter(
        group=group, first_seen_at__gte=starts, first_seen_at__lt=ends
    )
    answered = Q(result=CallResult.ANSWERED)
    totals = calls.annotate(
        first_answered=Exists(
            Attempt.objects.filter(
                call=OuterRef("pk"), position=1, outcome=Outcome.COMPLETED
            )
        )
    ).aggregate(
        calls=Count("pk"),
        answered=Count("pk", filter=answered),
        first=Count("pk", filter=Q(first_answered=True)),
    )
    by_hour = {
        row["hour"]: row
        for row in calls.annotate(hour=ExtractHour("first_seen_at", tzinfo=zone))
        .order_by()
        .values("hour")
        .annotate(calls=Count("pk"), answered=Count("pk", filter=answered))
    }
    attempts = Attempt.objects.filter(call__in=calls)
    agents = (
        attempts.exclude(agent=None)
        .order_by()
        .values("agent__name", "number")
        .annotate(
            offered=Count("pk"),
            answered=Count("pk", filter=Q(outcome=Outcome.COMPLETED)),
            no_answer=Count("pk", filter=Q(outcome=Outcome.NO_ANSWER)),
        )
        .order_by("-no_answer", "agent__name")
    )
    return DayReport(
        group=group,
        date=date,
        calls=totals["calls"],
        answered=totals["answered"],
        answered_first_attempt=totals["first"],
        attempts=attempts.count(),
        hours=[
            HourFigures(
                hour=hour,
                calls=by_hour.get(hour, {}).get("calls", 0),
                answered=by_hour.get(hour, {}).get("answered", 0),
            )
            for hour in range(24)
        ],
        agents=[
            AgentFigures(
                name=row["agent__name"],
                number=row["number"],
                offered=row["offered"],
                answered=row["answered"],
                no_answer=row["no_answer"],
            )
            for row in agents
        ],
    )


@dataclass(frozen=True)
class Bar:
    hour: int
    x: float
    y: float
    width: float
    height: float
    calls: int
    answered: int


@dataclass(frozen=True)
class HourlyChart:
    """Geometry of an SVG chart: bars of calls, a line of the answer rate."""

    width: int
    height: int
    top: int
    bottom: int
    left: int
    right: int
    max_calls: int
    bars: list[Bar]
    rate_points: str  # "x,y x,y ..." for a <polyline>, hours with calls only
    rate_dots: list[tuple[float, float, int]]  # x, y, percent
    hour_labels: list[tuple[float, int]]


def hourly_chart(
    hours: list[HourFigures], *, width: int = 720, height: int = 240
) -> HourlyChart:
    """Lay out `hours` as 24 bars (calls) and a polyline (answer rate, 0-100%)."""
    left, right, top, bottom = 40, width - 40, 16, height - 28
    plot_height = bottom - top
    slot = (right - left) / 24
    max_calls = max((h.calls for h in hours), default=0) or 1
    bars, dots = [], []
    for figures in hours:
        x = left + figures.hour * slot
        bar_height = plot_height * figures.calls / max_calls
        bars.append(
            Bar(
                hour=figures.hour,
                x=round(x + slot * 0.15, 1),
                y=round(bottom - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
                calls=figures.calls,
                answered=figures.answered,
            )
        )
        if figures.answer_rate is not None:
            dots.append(
                (
                    round(x + slot / 2, 1),
                    round(bottom - plot_height * figures.answer_rate, 1),
                    round(figures.answer_rate * 100),
                )
            )
    return HourlyChart(
        width=width,
        height=height,
        top=top,
        bottom=bottom,
        left=left,
        right=right,
        max_calls=max_calls,
        bars=bars,
        rate_points=" ".join(f"{x},{y}" for x, y, _ in dots),
        rate_dots=dots,
        hour_labels=[
            (round(left + hour * slot + slot / 2, 1), hour) for hour in range(0, 24, 3)
        ],
    )


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
