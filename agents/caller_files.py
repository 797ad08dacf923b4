"""The callers file of DESIGN 10.3, streamed: a CRM's export of 100,000 callers.

Rows are read from the open file and written in batches (one read of the stored
callers and at most one insert and one update per batch), inside one transaction:
any bad row rolls everything back, after every bad row has been reported. What is
kept while reading is the number -> line map that finds duplicates.
"""

import csv
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import transaction

from agents.importers import CALLER_COLUMNS, CallerRow, RosterFileError, RowError
from agents.importers import read_callers as parse_caller_lines
from agents.models import Agent, Caller
from agents.roster_files import ImportSummary, ensure_skills
from agents.skills import format_levels

BATCH = 2000
FIELDS = ("name", "owner_id", "binding", "vip", "blocked", "needs", "notes")


def number_key(number: str) -> int:
    """A number in E.164 as an int: what is kept of each row to find it again."""
    return int(number.removeprefix("+"))


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
    seen: set[int] = set()
    skills: set[str] = set()
    with transaction.atomic():
        for batch in _batches(parse_caller_lines(lines, errors), BATCH):
            good = []
            for row in batch:
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
            if delete_missing:
                seen.update(number_key(row.number) for row in good)
        if errors:
            raise RosterFileError(errors)
        ensure_skills(skills)
        if delete_missing:
            summary.deleted = _delete_missing(seen, summary)
        if dry_run:
            transaction.set_rollback(True)
    return summary


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


def _delete_missing(seen: set[str], summary: ImportSummary) -> int:
    gone = []
    stored = Caller.objects.order_by("pk").values_list("pk", "number")
    for pk, number in stored.iterator(chunk_size=BATCH):
        if number_key(number) not in seen:
            gone.append(pk)
            if summary.keep_details:
                summary.details.append(f"deleted caller {number}")
    for batch in _batches(gone, BATCH):
        Caller.objects.filter(pk__in=batch).delete()
    return len(gone)


def export_callers(out) -> int:
    """Write every caller to `out` as a callers file; return how many, streamed."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CALLER_COLUMNS)
    count = 0
    callers = Caller.objects.select_related("owner").order_by("number")
    for caller in callers.iterator(chunk_size=BATCH):
        writer.writerow(
            [
                caller.number,
                caller.name,
                caller.owner.phone.as_e164 if caller.owner else "",
                caller.binding,
                "yes" if caller.vip else "no",
                "yes" if caller.blocked else "no",
                caller.needs,
                caller.notes,
            ]
        )
        count += 1
    return count
