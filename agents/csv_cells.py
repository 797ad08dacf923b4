"""CSV cells a spreadsheet reads as data, never as a formula (CWE-1236).

Every CSV the service writes passes its cells through `defuse`, and the roster
importer reads them back through `restore`, so export then import is exact.
"""

import re

# What makes a spreadsheet read a cell as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# Data that starts like a formula and cannot hold one: numbers in E.164 (one,
# or a `;`-separated list) and plain numbers.
DATA_RE = re.compile(r"\+\d{1,15}(;\+\d{1,15})*|-?\d+(\.\d+)?")


def defuse(value: object) -> str:
    """Return `value` as a cell, with a leading apostrophe if it could run as a formula.

    A cell that already starts with an apostrophe gets one more, so that
    `restore` takes exactly one off whatever the cell held.
    """
    cell = "" if value is None else str(value)
    if cell.startswith(QUOTE) or (
        cell.startswith(FORMULA_STARTS) and not DATA_RE.fullmatch(cell)
    ):
        return QUOTE + cell
    return cell


def restore(cell: str) -> str:
    """Return the value `defuse` wrote as `cell`."""
    return cell.removeprefix(QUOTE)


def defused_rows(rows):
    """Yield each row of `rows` (lists of values) with every cell defused."""
    for row in rows:
        yield [defuse(value) for value in row]
