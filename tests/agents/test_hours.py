import datetime as dt

import pytest

from agents.hours import HoursRow, format_hours, parse_hours

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def rows(days, starts, ends):
    return [HoursRow(day, dt.time(*starts), dt.time(*ends)) for day in days]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty-means-always"),
        pytest.param("  ;  ", [], id="only-separators-means-always"),
        pytest.param("Mon 09:00-18:00", rows([MON], (9, 0), (18, 0)), id="one-day"),
        pytest.param(
            "Mon-Fri 09:00-18:00",
            rows([MON, TUE, WED, THU, FRI], (9, 0), (18, 0)),
            id="weekday-range",
        ),
        pytest.param(
            "Fri-Mon 10:00-14:00",
            rows([MON, FRI, SAT, SUN], (10, 0), (14, 0)),
            id="range-wraps-over-the-weekend",
        ),
        pytest.param(
            "Daily 22:00-06:00", rows(range(7), (22, 0), (6, 0)), id="daily-night"
        ),
        pytest.param(
            "mon 9:00-17:30; SAT 10:00 - 14:00",
            rows([MON], (9, 0), (17, 30)) + rows([SAT], (10, 0), (14, 0)),
            id="case-and-spaces-forgiven",
        ),
        pytest.param(
            "Sun 18:00-24:00", rows([SUN], (18, 0), (0, 0)), id="24:00-is-midnight"
        ),
        pytest.param(
            "Mon 09:00-12:00; Mon-Tue 09:00-12:00",
            rows([MON, TUE], (9, 0), (12, 0)),
            id="repeats-merge",
        ),
    ],
)
def test_parse_hours(text, expected):
    assert parse_hours(text) == sorted(expected)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Mon", id="no-times"),
        pytest.param("Funday 09:00-10:00", id="unknown-day"),
        pytest.param("Mon-Xyz 09:00-10:00", id="unknown-range-end"),
        pytest.param("Mon 9-17", id="times-without-minutes"),
        pytest.param("Mon 25:00-26:00", id="hour-out-of-range"),
        pytest.param("Mon 09:60-10:00", id="minute-out-of-range"),
        pytest.param("Mon 24:00-06:00", id="24:00-only-as-an-end"),
        pytest.param(
            "Mon 09:00-18:00, Tue 09:00-18:00", id="comma-instead-of-semicolon"
        ),
    ],
)
def test_bad_hours_are_rejected(text):
    with pytest.raises(ValueError):
        parse_hours(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("", "", id="always"),
        pytest.param(
            "Mon-Sun 09:00-18:00", "Daily 09:00-18:00", id="seven-days-is-daily"
        ),
        pytest.param(
            "Mon 09:00-18:00; Tue 09:00-18:00; Wed 09:00-18:00",
            "Mon-Wed 09:00-18:00",
            id="consecutive-days-merge",
        ),
        pytest.param(
            "Sun 10:00-14:00; Sat 10:00-14:00; Fri 10:00-14:00; Mon 10:00-14:00",
            "Fri-Mon 10:00-14:00",
            id="run-over-the-weekend-wraps",
        ),
        pytest.param(
            "Sat 10:00-14:00; Mon-Fri 09:00-18:00",
            "Mon-Fri 09:00-18:00; Sat 10:00-14:00",
            id="sorted-by-first-day",
        ),
        pytest.param(
            "Mon 09:00-13:00; Mon 14:00-18:00; Wed 09:00-13:00",
            "Mon 09:00-13:00; Mon 14:00-18:00; Wed 09:00-13:00",
            id="split-shift",
        ),
        pytest.param("Daily 22:00-24:00", "Daily 22:00-00:00", id="midnight-end"),
    ],
)
def test_format_is_canonical_and_round_trips(text, canonical):
    assert format_hours(parse_hours(text)) == canonical
    assert parse_hours(canonical) == parse_hours(text)
