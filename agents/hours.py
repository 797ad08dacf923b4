"""The weekly-hours syntax of roster files: `Mon-Fri 09:00-18:00; Sat 10:00-14:00`.

Each `;`-separated entry is `DAYS HH:MM-HH:MM`, DAYS one of `Mon`..`Sun`, a range
(`Mon-Fri`, `Fri-Mon` wraps over the weekend) or `Daily`. An end at or before the
start crosses midnight. Empty text means no rows: always on duty (or open).
"""

import datetime as dt
import re
from typing import NamedTuple

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAILY = "Daily"
ENTRY_RE = re.compile(
    r"^(?P<days>[A-Za-z]+(?:\s*-\s*[A-Za-z]+)?)\s+"
    r"(?P<starts>\d{1,2}:\d{2})\s*-\s*(?P<ends>\d{1,2}:\d{2})$"
)


class HoursRow(NamedTuple):
    """One weekly interval, as stored in AgentHours and GroupHours."""

    weekday: int
    starts: dt.time
    ends: dt.time


def parse_day(text: str) -> int:
    for weekday, name in enumerate(DAY_NAMES):
        if text.lower() == name.lower():
            return weekday
    raise ValueError(f"unknown day {text!r} (use Mon..Sun or Daily)")


def parse_days(text: str) -> list[int]:
    """Return the weekdays that `Mon`, `Mon-Fri`, `Fri-Mon` or `Daily` name."""
    if text.lower() == DAILY.lower():
        return list(range(7))
    first, _, last = (part.strip() for part in text.partition("-"))
    start = parse_day(first)
    if not last:
        return [start]
    end = parse_day(last)
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def parse_time(text: str, *, is_end: bool) -> dt.time:
    hours, minutes = (int(part) for part in text.split(":"))
    # `24:00` is how people write "until midnight"; an end at 00:00 means the same.
    if is_end and (hours, minutes) == (24, 0):
        return dt.time(0, 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid time {text!r}")
    return dt.time(hours, minutes)


def parse_hours(text: str) -> list[HoursRow]:
    """Return the rows `text` describes, sorted, without repeats.

    Raise ValueError with a one-line reason when `text` is malformed.
    """
    rows = set()
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        match = ENTRY_RE.match(entry)
        if match is None:
            raise ValueError(
                f"bad hours {entry!r} (expected e.g. 'Mon-Fri 09:00-18:00')"
            )
        starts = parse_time(match["starts"], is_end=False)
        ends = parse_time(match["ends"], is_end=True)
        for weekday in parse_days(match["days"]):
            rows.add(HoursRow(weekday, starts, ends))
    return sorted(rows)


def format_days(weekdays: set[int]) -> list[tuple[int, str]]:
    """Return (first weekday, text) for each run of consecutive weekdays."""
    if len(weekdays) == 7:
        return [(0, DAILY)]
    runs = []
    for first in sorted(weekdays):
        if (first - 1) % 7 in weekdays:
            continue
        last = first
        while (last + 1) % 7 in weekdays:
            last = (last + 1) % 7
        text = DAY_NAMES[first]
        if last != first:
            text = f"{text}-{DAY_NAMES[last]}"
        runs.append((first, text))
    return runs


def format_hours(rows) -> str:
    """Return the canonical text for `rows`: equal times on consecutive days merge."""
    days_by_times: dict[tuple[dt.time, dt.time], set[int]] = {}
    for weekday, starts, ends in rows:
        days_by_times.setdefault((starts, ends), set()).add(weekday)
    entries = []
    for (starts, ends), weekdays in days_by_times.items():
        for first, days in format_days(weekdays):
            entries.append(
                ((first, starts, ends), f"{days} {starts:%H:%M}-{ends:%H:%M}")
            )
    return "; ".join(text for _, text in sorted(entries))
