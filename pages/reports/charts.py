"""Charts of the reports, drawn as SVG geometry: bars laid out, labels placed."""

from dataclasses import dataclass

from pages.reports.figures import DayFigures, HourFigures


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    y: float
    width: float
    height: float
    calls: int
    answered: int


@dataclass(frozen=True)
class BarChart:
    """Geometry of an SVG chart: bars of calls, a line of the answer rate."""

    width: int
    height: int
    top: int
    bottom: int
    left: int
    right: int
    max_calls: int
    bars: list[Bar]
    rate_points: str  # "x,y x,y ..." for a <polyline>, slots with calls only
    rate_dots: list[tuple[float, float, int]]  # x, y, percent
    labels: list[tuple[float, str]]


def bar_chart(
    slots: list[tuple[str, int, int]],
    *,
    label_every: int = 1,
    width: int = 720,
    height: int = 240,
) -> BarChart:
    """Lay out `slots` (label, calls, answered) as bars of calls and a polyline
    of the share answered (0-100%), labelling every `label_every`-th slot."""
    left, right, top, bottom = 40, width - 40, 16, height - 28
    plot_height = bottom - top
    slot = (right - left) / max(len(slots), 1)
    max_calls = max((calls for _, calls, _ in slots), default=0) or 1
    bars, dots, labels = [], [], []
    for index, (label, calls, answered) in enumerate(slots):
        x = left + index * slot
        bar_height = plot_height * calls / max_calls
        bars.append(
            Bar(
                label=label,
                x=round(x + slot * 0.15, 1),
                y=round(bottom - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
                calls=calls,
                answered=answered,
            )
        )
        if calls:
            rate = answered / calls
            dots.append(
                (
                    round(x + slot / 2, 1),
                    round(bottom - plot_height * rate, 1),
                    round(rate * 100),
                )
            )
        if index % label_every == 0:
            labels.append((round(x + slot / 2, 1), label))
    return BarChart(
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
        labels=labels,
    )


def hourly_chart(hours: list[HourFigures], **size) -> BarChart:
    """Lay out 24 hours of the day as bars, labelled every 3 hours."""
    slots = [(f"{h.hour:02d}:00", h.calls, h.answered) for h in hours]
    return bar_chart(slots, label_every=3, **size)


def daily_chart(days: list[DayFigures], **size) -> BarChart:
    """Lay out the report's days as bars, labelled about 8 times at most."""
    slots = [(f"{d.date:%d %b}", d.figures.calls, d.figures.answered) for d in days]
    return bar_chart(slots, label_every=max(1, -(-len(days) // 8)), **size)
