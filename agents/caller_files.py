"""The callers file of DESIGN 10.3, streamed: a CRM's export of 100,000 callers.

Rows are read from the open file and written in batches (the batch's numbers noted,
one read of the stored callers, at most one insert and one update), inside one
transaction: any bad row rolls everything back, after every bad row has been
reported. Nothing grows with the file in memory: the numbers already read (to find
a number listed twice, and the callers `--delete-missing` keeps) are noted in a
temporary table of the transaction.
"""

import csv
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from agents.csv_cells import defused_rows
from agents.importers import CALLER_COLUMNS, CallerRow, RosterFileError, RowError
from agents.importers import read_callers as parse_caller_lines
from agents.models import Agent, Caller
from agents.roster_files import ImportSummary, ensure_skills
from agents.skills import format_levels

BATCH = 2000
SEEN = "import_callers_seen"  # a temporary table: the numbers read, and where
FIELDS = ("name", "owner_id", "binding", "vip", "blocked", "needs", "notes")


def caller_values(row: CallerRow, owners: dict[str, int]) -> dict:
    return {
        "name": row.name,
        "owner_id": owners[row.owner] if row.owner else None,
        "binding": row.binding,
        "vip": row.vip,
        "blocked": row.blocked,
        "needs": format_levels(row.needs),
        "notes": row.notes,
    }


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def import_callers(
    *,
    lines,
    delete_missing: bool = False,
    dry_run: bool = False,
    details: bool = False,
) -> ImportSummary:
    """Create or update the callers of a callers file (`lines`: an open file or a
    text), all or nothing; with `delete_missing`, callers absent from it are deleted.
    With `details`, the summary says what became of each row.

    Raise RosterFileError listing every bad row; nothing is written then.
    """
    summary = ImportSummary(dry_run=dry_run, keep_details=details)
    errors: list[RowError] = []
    owners = {
        agent.phone.as_e164: agent.pk for agent in Agent.objects.only("id", "phone")
    }
    skills: set[str] = set()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The statement timeout is for requests, not for a bulk load (whose
            # --delete-missing may delete thousands of rows in one statement).
            cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(f"DROP TABLE IF EXISTS {SEEN}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {SEEN}"
            " (number varchar(20) PRIMARY KEY, line integer NOT NULL)"
        )
        for batch in _batches(parse_caller_lines(lines, errors), BATCH):
            good = []
            for row in _first_mentions(cursor, batch, errors):
                if row.owner and row.owner not in owners:
                    errors.append(
                        RowError(row.line, f"owner {row.owner} is no agent's phone")
                    )
                    continue
                good.append(row)
                skills.update(name for name, _ in row.needs)
            if errors:
                continue  # keep reading, only to report every bad row
            _write_batch(good, owners, summary)
        if errors:
            raise RosterFileError(errors)
        ensure_skills(skills)
        if delete_missing:
            summary.deleted = _delete_missing(summary)
        cursor.execute(f"DROP TABLE {SEEN}")
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _first_mentions(cursor, rows: list[CallerRow], errors: list[RowError]):
    """Note the numbers of `rows`; return the rows whose number is new to the file
    and add an error, naming both lines, for each number read before."""
    if not rows:
        return []
    values = ", ".join(["(%s, %s)"] * len(rows))
    cursor.execute(
        f"INSERT INTO {SEEN} (number, line) VALUES {values}"
        " ON CONFLICT (number) DO NOTHING RETURNING line",
        [value for row in rows for value in (row.number, row.line)],
    )
    new = {line for (line,) in cursor.fetchall()}
    repeated = [row for row in rows if row.line not in new]
    if repeated:
        numbers = sorted({row.number for row in repeated})
        marks = ", ".join(["%s"] * len(numbers))
        cursor.execute(
            f"SELECT number, line FROM {SEEN} WHERE number IN ({marks})", numbers
        )
        first = dict(cursor.fetchall())
        errors.extend(
            RowError(
                row.line,
                f"duplicate number {row.number} (first on line {first[row.number]})",
            )
            for row in repeated
        )
    return [row for row in rows if row.line in new]


def _write_batch(rows: list[CallerRow], owners, summary: ImportSummary) -> None:
    stored = {
        caller.number: caller
        for caller in Caller.objects.filter(number__in=[row.number for row in rows])
    }
    new, changed = [], []
    for row in rows:
        values = caller_values(row, owners)
        caller = stored.get(row.number)
        label = f"caller {row.number}"
        if caller is None:
            new.append(Caller(number=row.number, **values))
            summary.count("created", row.line, label)
        elif any(getattr(caller, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(caller, name, value)
            changed.append(caller)
            summary.count("updated", row.line, label)
        else:
            summary.count("unchanged", row.line, label)
    Caller.objects.bulk_create(new)
    Caller.objects.bulk_update(changed, FIELDS)


def _delete_missing(summary: ImportSummary) -> int:
    missing = Caller.objects.exclude(
        number__in=RawSQL(f"SELECT number FROM {SEEN}", ())
    )
    if summary.keep_details:
        summary.details.extend(
            f"deleted caller {number}"
            for number in missing.values_list("number", flat=True).iterator()
        )
    deleted, _ = missing.delete()
    return deleted


def export_callers(out) -> int:
    """Write every caller to `out` as a callers file; return how many, streamed."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CALLER_COLUMNS)
    count = 0
    callers = Caller.objects.select_related("owner").order_by("number")
    for row in defused_rows(_rows(callers.iterator(chunk_size=BATCH))):
        writer.writerow(row)
        count += 1
    return count


def _rows(callers: Iterable[Caller]) -> Iterator[list]:
    for caller in callers:
        yield [
            caller.number,
            caller.name,
            caller.owner.phone.as_e164 if caller.owner else "",
            caller.binding,
            "yes" if caller.vip else "no",
            "yes" if caller.blocked else "no",
            caller.needs,
            caller.notes,
        ]
