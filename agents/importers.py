"""Roster files (DESIGN section 3): CSV text in, validated rows or line-numbered errors out.

Only what one file can tell is checked here; whatever needs the database (unknown
group slugs, overflow cycles through stored groups, routes taken) is checked by
`agents.roster_files`, which reports it with the same line numbers.
"""

import csv
import io
import re
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from agents.csv_cells import restore
from agents.hours import HoursRow, parse_hours
from agents.models import CONNECT_SETTINGS, AgentGroup
from agents.phones import normalize_phone
from agents.skills import Levels, parse_needs, parse_skills

GROUP_COLUMNS = (
    "slug",
    "name",
    "strategy",
    "batch_size",
    "ring_seconds",
    "max_attempts",
    "wrapup_seconds",
    "hold_seconds",
    "sticky_days",
    "missed_to_pause",
    "overflow",
    "fallback_numbers",
    "exophones",
    "digits",
    "timezone",
    "hours",
)
# Programmable Connect (DESIGN section 9), optional in a groups file: a file without
# one of these columns leaves that setting of its groups as stored (a new group
# takes the default); an empty cell is the default, which for the settings the
# JSON answer may leave out means "left out".
GROUP_CONNECT_COLUMNS = CONNECT_SETTINGS
# DESIGN 10.3: the entry group's VIP group, optional (absent: left as stored).
GROUP_VIP_COLUMN = "vip_group"
AGENT_COLUMNS = ("name", "phone", "groups", "status", "active", "timezone", "hours")
# DESIGN 10.1: optional; absent, the agents' skills are left as they are.
AGENT_SKILLS_COLUMN = "skills"
ROUTE_COLUMNS = ("slug", "group", "needs", "relax_after", "exophones", "digits")
CALLER_COLUMNS = (
    "number",
    "name",
    "owner",
    "binding",
    "vip",
    "blocked",
    "needs",
    "notes",
)
BINDINGS = ("loose", "strict")
CALLER_NAME_LENGTH = 100
CALLER_NOTES_LENGTH = 2000

STRATEGIES = ("sequential", "round-robin", "longest-idle", "fewest-calls", "random")
STATUSES = ("available", "break", "offline")
DEFAULT_TIMEZONE = "Asia/Kolkata"
# Defaults for empty numeric columns, and the least value each accepts.
GROUP_NUMBERS = {
    "batch_size": (1, 1),
    "ring_seconds": (30, 1),
    "max_attempts": (0, 0),
    "wrapup_seconds": (30, 0),
    "hold_seconds": (300, 0),
    "sticky_days": (0, 0),
    "missed_to_pause": (0, 0),
}
LARGEST_NUMBER = {"batch_size": 32767}
LARGEST_INTEGER = 2_147_483_647
CONNECT_MESSAGE_LENGTH = 500
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
DIGITS_RE = re.compile(r"^[0-9*#]{1,20}$")
ANY_EXOPHONE = "*"


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"


class RosterFileError(Exception):
    """A roster file that cannot be loaded; carries every bad row."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class GroupRow:
    line: int
    slug: str
    name: str
    strategy: str
    batch_size: int
    ring_seconds: int
    max_attempts: int
    wrapup_seconds: int
    hold_seconds: int
    sticky_days: int
    missed_to_pause: int
    overflow: str
    fallback_numbers: tuple[str, ...]
    # ("*",) for the default route.
    exophones: tuple[str, ...]
    digits: str
    timezone: str
    hours: tuple[HoursRow, ...]
    # (field, value) for each Programmable Connect column the file has.
    connect: tuple[tuple[str, object], ...] = ()
    # None when the file has no vip_group column.
    vip_group: str | None = None


@dataclass(frozen=True)
class AgentRow:
    line: int
    name: str
    phone: str
    # (slug, priority) in the order the file lists them.
    groups: tuple[tuple[str, int], ...]
    status: str
    active: bool
    timezone: str
    hours: tuple[HoursRow, ...]
    # None when the file has no skills column.
    skills: Levels | None = None


@dataclass(frozen=True)
class RouteRow:
    line: int
    slug: str
    group: str
    needs: Levels
    relax_after: int | None  # None: never
    exophones: tuple[str, ...]
    digits: str


@dataclass(frozen=True)
class CallerRow:
    line: int
    number: str
    name: str
    owner: str  # an agent's phone in E.164, or ""
    binding: str
    vip: bool
    blocked: bool
    needs: Levels
    notes: str


@dataclass
class Parsed:
    rows: list
    errors: list[RowError]


class BadValue(Exception):
    """One cell that does not parse; the message is the reason."""


def read_records(
    text: str,
    columns: tuple[str, ...],
    errors: list[RowError],
    optional: tuple[str, ...] = (),
):
    """Yield (line number, {column: stripped value}) for each data row of `text`.

    Every one of `columns` must be in the header; `optional` columns may be.
    """
    if isinstance(text, str):
        text = io.StringIO(text.removeprefix("\ufeff"))
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, f"unreadable CSV: {error}"))
        return
    if header is None:
        errors.append(RowError(1, "empty file: expected a header row"))
        return
    header_line = reader.line_num
    names = [cell.strip().lower() for cell in header]
    for name in names:
        if name not in columns and name not in optional:
            errors.append(RowError(header_line, f"unknown column {name!r}"))
    for name in sorted({name for name in names if names.count(name) > 1}):
        errors.append(RowError(header_line, f"column {name!r} appears twice"))
    for name in columns:
        if name not in names:
            errors.append(RowError(header_line, f"missing column {name!r}"))
    if errors:
        return
    previous_end = header_line
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            errors.append(RowError(reader.line_num, f"unreadable CSV: {error}"))
            return
        if cells is None:
            return
        line, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            errors.append(
                RowError(line, f"expected {len(names)} fields, found {len(cells)}")
            )
            continue
        # No database stores a NUL (PostgreSQL refuses it): a row error, not a crash.
        with_nul = [
            name for name, cell in zip(names, cells, strict=True) if "\x00" in cell
        ]
        if with_nul:
            errors.append(RowError(line, f"NUL character in column {with_nul[0]!r}"))
            continue
        yield (
            line,
            {
                name: restore(cell.strip())
                for name, cell in zip(names, cells, strict=True)
            },
        )


def parse_number(record: dict, column: str) -> int:
    default, least = GROUP_NUMBERS[column]
    text = record[column]
    if text == "":
        return default
    largest = LARGEST_NUMBER.get(column, LARGEST_INTEGER)
    if not (text.isascii() and text.isdigit()) or not least <= int(text) <= largest:
        raise BadValue(
            f"{column} must be a whole number from {least} to {largest}, not {text!r}"
        )
    return int(text)


def parse_slug(text: str, what: str) -> str:
    if not SLUG_RE.match(text):
        raise BadValue(
            f"{what} {text!r} is not a slug (letters, digits, '-' and '_', at most 50)"
        )
    return text


def parse_timezone(text: str) -> str:
    if text == "":
        return DEFAULT_TIMEZONE
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise BadValue(f"unknown timezone {text!r}") from error
    return text


def parse_hours_cell(text: str) -> tuple[HoursRow, ...]:
    try:
        return tuple(parse_hours(text))
    except ValueError as error:
        raise BadValue(str(error)) from error


def parse_phone(text: str, what: str, *, strict: bool = True) -> str:
    try:
        return normalize_phone(text, strict=strict)
    except ValidationError as error:
        raise BadValue(f"invalid {what} {text!r}") from error


def parse_phones(text: str, what: str) -> tuple[str, ...]:
    numbers = []
    for item in text.split(";"):
        if item.strip():
            number = parse_phone(item, what)
            if number not in numbers:
                numbers.append(number)
    return tuple(numbers)


def parse_exophones(text: str) -> tuple[str, ...]:
    if text == ANY_EXOPHONE:
        return (ANY_EXOPHONE,)
    return parse_phones(text, "exophone")


def parse_digits(text: str, exophones: tuple[str, ...]) -> str:
    digits = text.strip('"').strip()
    if digits and not DIGITS_RE.match(digits):
        raise BadValue(f"digits {text!r} must be keypad input (0-9, * and #)")
    if digits and not exophones:
        raise BadValue("digits need exophones (a number or '*') to route on")
    return digits


def parse_connect_cell(column: str, text: str):
    """Return the value of one Programmable Connect cell; empty is the default."""
    if text == "":
        return AgentGroup._meta.get_field(column).get_default()
    match column:
        case "parallel_ringing" | "fetch_after_attempt" | "record":
            if text.lower() not in ("yes", "no"):
                raise BadValue(f"{column} must be yes or no, not {text!r}")
            return text.lower() == "yes"
        case "caller_id":
            return parse_phone(text, "caller_id")
        case "recording_channels" | "music_on_hold" | "connect_message_to":
            choices = AgentGroup._meta.get_field(column).choices
            values = [value for value, _ in choices]
            if text.lower() not in values:
                raise BadValue(f"unknown {column} {text!r} (use {', '.join(values)})")
            return text.lower()
        case "max_conversation_seconds" | "service_level_seconds":
            if not (text.isascii() and text.isdigit()) or not (
                1 <= int(text) <= LARGEST_INTEGER
            ):
                raise BadValue(
                    f"{column} must be a whole number from 1 to {LARGEST_INTEGER}, "
                    f"not {text!r}"
                )
            return int(text)
        case _:  # connect_message: any text
            if len(text) > CONNECT_MESSAGE_LENGTH:
                raise BadValue(
                    f"{column} is longer than {CONNECT_MESSAGE_LENGTH} characters"
                )
            return text


def parse_connect_settings(record: dict) -> tuple[tuple[str, object], ...]:
    """Return the Programmable Connect settings of the columns `record` has."""
    return tuple(
        (column, parse_connect_cell(column, record[column]))
        for column in GROUP_CONNECT_COLUMNS
        if column in record
    )


def parse_group(line: int, record: dict) -> GroupRow:
    slug = parse_slug(record["slug"], "slug")
    if not record["name"]:
        raise BadValue("name is empty")
    if len(record["name"]) > 100:
        raise BadValue("name is longer than 100 characters")
    strategy = record["strategy"].lower() or "sequential"
    if strategy not in STRATEGIES:
        raise BadValue(
            f"unknown strategy {record['strategy']!r} (use {', '.join(STRATEGIES)})"
        )
    numbers = {column: parse_number(record, column) for column in GROUP_NUMBERS}
    overflow = record["overflow"] and parse_slug(record["overflow"], "overflow")
    if overflow == slug:
        raise BadValue(f"group {slug!r} cannot overflow to itself")
    exophones = parse_exophones(record["exophones"])
    vip_group = None
    if GROUP_VIP_COLUMN in record:
        vip_group = record[GROUP_VIP_COLUMN] and parse_slug(
            record[GROUP_VIP_COLUMN], "vip_group"
        )
        if vip_group == slug:
            raise BadValue(f"group {slug!r} cannot be its own vip_group")
    return GroupRow(
        line=line,
        slug=slug,
        name=record["name"],
        strategy=strategy,
        **numbers,
        overflow=overflow,
        fallback_numbers=parse_phones(record["fallback_numbers"], "fallback number"),
        exophones=exophones,
        digits=parse_digits(record["digits"], exophones),
        timezone=parse_timezone(record["timezone"]),
        hours=parse_hours_cell(record["hours"]),
        connect=parse_connect_settings(record),
        vip_group=vip_group,
    )


def parse_memberships(text: str) -> tuple[tuple[str, int], ...]:
    memberships: dict[str, int] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        slug, colon, priority = (part.strip() for part in item.partition(":"))
        slug = parse_slug(slug, "group")
        if colon and not (
            priority.isascii() and priority.isdigit() and 1 <= int(priority) <= 32767
        ):
            raise BadValue(
                f"priority {priority!r} for group {slug!r} must be a whole number "
                "from 1 (rings first)"
            )
        if slug in memberships:
            raise BadValue(f"group {slug!r} is listed twice")
        memberships[slug] = int(priority) if colon else 1
    return tuple(memberships.items())


def parse_agent(line: int, record: dict) -> AgentRow:
    if not record["name"]:
        raise BadValue("name is empty")
    if len(record["name"]) > 100:
        raise BadValue("name is longer than 100 characters")
    status = record["status"].lower() or "available"
    if status not in STATUSES:
        raise BadValue(
            f"unknown status {record['status']!r} (use {', '.join(STATUSES)})"
        )
    active = record["active"].lower() or "yes"
    if active not in ("yes", "no"):
        raise BadValue(f"active must be yes or no, not {record['active']!r}")
    return AgentRow(
        line=line,
        name=record["name"],
        phone=parse_phone(record["phone"], "phone"),
        groups=parse_memberships(record["groups"]),
        status=status,
        active=active == "yes",
        timezone=parse_timezone(record["timezone"]),
        hours=parse_hours_cell(record["hours"]),
        skills=(
            parse_cell(parse_skills, record[AGENT_SKILLS_COLUMN])
            if AGENT_SKILLS_COLUMN in record
            else None
        ),
    )


def parse_cell(parse, text: str):
    """Apply `parse` (which raises ValueError) to one cell."""
    try:
        return parse(text)
    except ValueError as error:
        raise BadValue(str(error)) from error


def parse_yes_no(record: dict, column: str) -> bool:
    text = record[column].lower() or "no"
    if text not in ("yes", "no"):
        raise BadValue(f"{column} must be yes or no, not {record[column]!r}")
    return text == "yes"


def parse_relax_after(text: str) -> int | None:
    if text == "":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > LARGEST_INTEGER:
        raise BadValue(
            f"relax_after must be empty (never) or a whole number of seconds, "
            f"not {text!r}"
        )
    return int(text)


def parse_route(line: int, record: dict) -> RouteRow:
    exophones = parse_exophones(record["exophones"])
    if not record["group"]:
        raise BadValue("group is empty")
    return RouteRow(
        line=line,
        slug=parse_slug(record["slug"], "slug"),
        group=parse_slug(record["group"], "group"),
        needs=parse_cell(parse_needs, record["needs"]),
        relax_after=parse_relax_after(record["relax_after"]),
        exophones=exophones,
        digits=parse_digits(record["digits"], exophones),
    )


def parse_caller(line: int, record: dict) -> CallerRow:
    if len(record["name"]) > CALLER_NAME_LENGTH:
        raise BadValue(f"name is longer than {CALLER_NAME_LENGTH} characters")
    if len(record["notes"]) > CALLER_NOTES_LENGTH:
        raise BadValue(f"notes are longer than {CALLER_NOTES_LENGTH} characters")
    binding = record["binding"].lower() or "loose"
    if binding not in BINDINGS:
        raise BadValue(f"binding must be loose or strict, not {record['binding']!r}")
    owner = record["owner"] and parse_phone(record["owner"], "owner")
    if binding == "strict" and not owner:
        raise BadValue("binding strict needs an owner")
    return CallerRow(
        line=line,
        # Read as the endpoint reads Exotel's numbers (a possible number): a
        # caller is found by what the request says, and the stricter check of
        # the numbering plan cost half the import's time.
        number=parse_phone(record["number"], "number", strict=False),
        name=record["name"],
        owner=owner,
        binding=binding,
        vip=parse_yes_no(record, "vip"),
        blocked=parse_yes_no(record, "blocked"),
        needs=parse_cell(parse_needs, record["needs"]),
        notes=record["notes"],
    )


def parse_rows(
    text: str,
    columns: tuple[str, ...],
    parse_row,
    key: str,
    optional: tuple[str, ...] = (),
) -> Parsed:
    errors: list[RowError] = []
    rows = []
    first_line: dict[str, int] = {}
    for line, record in read_records(text, columns, errors, optional):
        try:
            row = parse_row(line, record)
        except BadValue as error:
            errors.append(RowError(line, str(error)))
            continue
        value = getattr(row, key)
        if value in first_line:
            errors.append(
                RowError(
                    line, f"duplicate {key} {value} (first on line {first_line[value]})"
                )
            )
            continue
        first_line[value] = line
        rows.append(row)
    return Parsed(rows=rows, errors=errors)


def parse_groups_csv(text: str) -> Parsed:
    """Return the group rows of `text` and the errors of the rows that are bad."""
    return parse_rows(
        text,
        GROUP_COLUMNS,
        parse_group,
        "slug",
        optional=(*GROUP_CONNECT_COLUMNS, GROUP_VIP_COLUMN),
    )


def parse_agents_csv(text: str) -> Parsed:
    """Return the agent rows of `text` and the errors of the rows that are bad."""
    return parse_rows(
        text, AGENT_COLUMNS, parse_agent, "phone", optional=(AGENT_SKILLS_COLUMN,)
    )


def parse_routes_csv(text: str) -> Parsed:
    """Return the route rows of `text` and the errors of the rows that are bad."""
    return parse_rows(text, ROUTE_COLUMNS, parse_route, "slug")


def read_callers(lines, errors: list[RowError]):
    """Yield the caller rows of a callers file, read line by line from `lines`
    (an open file or a text), adding the errors of bad rows to `errors`.

    Nothing is kept of a row once it is yielded: numbers seen twice are found by
    the importer (`agents.caller_files`), in the database.
    """
    for line, record in read_records(lines, CALLER_COLUMNS, errors):
        try:
            yield parse_caller(line, record)
        except BadValue as error:
            errors.append(RowError(line, str(error)))
