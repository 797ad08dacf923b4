"""SQL text and its parameters, the currency of every hand-written statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection


class Sql:
    """SQL text and its parameters, in order; fragments join with `+` and `join`.

    A plain class with slots: a statement is built of many fragments per request.
    """

    __slots__ = ("text", "params")

    def __init__(self, text: str, params: tuple = ()):
        self.text = text
        self.params = params

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, self.params)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sql):
            return NotImplemented
        return (self.text, self.params) == (other.text, other.params)

    def __hash__(self) -> int:
        return hash((self.text, self.params))

    def __repr__(self) -> str:
        return f"Sql({self.text!r}, {self.params!r})"

    def join(self, parts: Iterable[Sql | str]) -> Sql:
        """Join `parts` with this fragment between them (`Sql(" AND ").join(...)`)."""
        texts, params = [], []
        for n, part in enumerate(parts):
            if n:
                texts.append(self.text)
                params.extend(self.params)
            if isinstance(part, str):
                texts.append(part)
            else:
                texts.append(part.text)
                params.extend(part.params)
        return Sql("".join(texts), tuple(params))

    @classmethod
    def param(cls, value) -> Sql:
        return cls("%s", (value,))


# One query parameter (`param(42)` is `%s` with 42), and the list separator.
param = Sql.param
COMMA = Sql(", ")


def execute(statement: Sql) -> None:
    """Write one statement that needs no guard (in autocommit: one round trip)."""
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)


def db_datetime(moment: dt.datetime | None):
    """Return `moment` as the database's driver takes it; None stays None."""
    return None if moment is None else connection.ops.adapt_datetimefield_value(moment)
