"""Time available, on break and offline, from the status history (behaviour table)."""

import datetime as dt
from types import SimpleNamespace

import pytest

from agents.status_time import StatusState, format_duration, status_time

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=10)


def h(hours: float) -> dt.datetime:
    return START + dt.timedelta(hours=hours)


def change(at, new, *, until=None, via="board"):
    return SimpleNamespace(changed_at=at, new_status=new, until=until, via=via)


@pytest.mark.parametrize(
    ("initial", "changes", "expected"),
    [
        pytest.param(
            StatusState("available"),
            [],
            (10, 0, 0, 0, 0),
            id="no-change-whole-period-in-one-status",
        ),
        pytest.param(
            StatusState("offline"),
            [
                change(h(1), "available"),
                change(h(4), "break"),
                change(h(5), "available"),
            ],
            (8, 1, 1, 0, 0),
            id="changes-split-the-period",
        ),
        pytest.param(
            StatusState("available"),
            [change(h(2), "break", until=h(2.5))],
            (9.5, 0.5, 0, 0, 0),
            id="break-with-an-end-is-available-after-it",
        ),
        pytest.param(
            StatusState("available"),
            [
                change(h(2), "break", until=h(2.5)),
                change(h(2.5), "available", via="break-ended"),
            ],
            (9.5, 0.5, 0, 0, 0),
            id="break-ended-row-counts-the-same",
        ),
        pytest.param(
            StatusState("break", until=h(-1)),
            [],
            (10, 0, 0, 0, 0),
            id="break-that-ended-before-the-period",
        ),
        pytest.param(
            StatusState("break", until=h(1)),
            [],
            (9, 1, 0, 0, 0),
            id="break-across-the-start-counts-its-part",
        ),
        pytest.param(
            StatusState("available"),
            [change(h(3), "break", via="missed-calls"), change(h(4), "available")],
            (9, 1, 0, 1, 1),
            id="missed-call-pause-counted-and-timed",
        ),
        pytest.param(
            StatusState("break", via="missed-calls"),
            [change(h(2), "available")],
            (8, 2, 0, 0, 2),
            id="pause-begun-yesterday-timed-not-counted",
        ),
        pytest.param(
            StatusState("available"),
            [change(h(-2), "offline"), change(h(12), "available")],
            (0, 0, 10, 0, 0),
            id="changes-outside-the-period-clipped",
        ),
    ],
)
def test_status_time(initial, changes, expected):
    time = status_time(changes=changes, initial=initial, start=START, end=END)
    available, on_break, offline, pauses, paused = expected
    assert (
        time.available,
        time.on_break,
        time.offline,
        time.missed_call_pauses,
        time.paused,
    ) == (
        dt.timedelta(hours=available),
        dt.timedelta(hours=on_break),
        dt.timedelta(hours=offline),
        pauses,
        dt.timedelta(hours=paused),
    )


def test_the_parts_add_up_to_the_period():
    changes = [
        change(h(i * 0.7), s)
        for i, s in enumerate(["break", "offline", "available"] * 4)
    ]
    time = status_time(
        changes=changes, initial=StatusState("available"), start=START, end=END
    )
    assert time.available + time.on_break + time.offline == END - START


@pytest.mark.parametrize(
    ("value", "text"),
    [(dt.timedelta(0), "0h 00m"), (dt.timedelta(minutes=185, seconds=59), "3h 05m")],
    ids=["zero", "minutes-rounded-down"],
)
def test_format_duration(value, text):
    assert format_duration(value) == text
