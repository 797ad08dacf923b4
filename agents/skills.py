"""The skills syntax of roster files (DESIGN 10.1, 10.2): `name` or `name:level`.

An agent's skills (`hindi:4;billing`, level 1-5, default 3) and the needs of a
route or a caller (`hindi:3;tamil`, a minimum 1-5, default 1) are written alike
and stored in one canonical form: `name:level`, sorted by name.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from agents.models import (
    DEFAULT_NEED_LEVEL,
    DEFAULT_SKILL_LEVEL,
    HIGHEST_LEVEL,
    LOWEST_LEVEL,
    validate_skill_name,
)

Levels = tuple[tuple[str, int], ...]


def parse_levels(text: str, *, default: int, what: str = "skill") -> Levels:
    """Return the `;`-separated `name[:level]` items of `text`, sorted by name.

    Names are lower-cased; a name listed twice is an error. Raise ValueError
    with the reason.
    """
    levels: dict[str, int] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        name, colon, level = (part.strip() for part in item.partition(":"))
        name = name.lower()
        try:
            validate_skill_name(name)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from error
        if colon and not (
            level.isascii()
            and level.isdigit()
            and LOWEST_LEVEL <= int(level) <= HIGHEST_LEVEL
        ):
            raise ValueError(
                f"level {level!r} of {what} {name!r} must be a whole number "
                f"from {LOWEST_LEVEL} to {HIGHEST_LEVEL}"
            )
        if name in levels:
            raise ValueError(f"{what} {name!r} is listed twice")
        levels[name] = int(level) if colon else default
    return tuple(sorted(levels.items()))


def parse_skills(text: str) -> Levels:
    """An agent's skills: level 1-5, default 3."""
    return parse_levels(text, default=DEFAULT_SKILL_LEVEL)


def parse_needs(text: str) -> Levels:
    """A route's or a caller's needs: minimum level 1-5, default 1."""
    return parse_levels(text, default=DEFAULT_NEED_LEVEL, what="need")


def format_levels(levels: Iterable[tuple[str, int]]) -> str:
    """The canonical form: `name:level`, sorted by name."""
    return ";".join(f"{name}:{level}" for name, level in sorted(levels))


def combine_needs(*needs: Levels) -> Levels:
    """A route's needs and a caller's own: the same skill twice takes the higher."""
    combined: dict[str, int] = {}
    for levels in needs:
        for name, level in levels:
            combined[name] = max(level, combined.get(name, 0))
    return tuple(sorted(combined.items()))


def stored_needs(text: str) -> Levels:
    """The needs of a stored (canonical) field; an unreadable one needs nothing."""
    try:
        return parse_needs(text)
    except ValueError:
        return ()


def describe_needs(needs: Levels) -> str:
    """In plain words: `needs Tamil, level 3 or more; Hindi`."""
    if not needs:
        return "no needs"
    parts = [
        name.capitalize()
        if level <= 1
        else f"{name.capitalize()}, level {level} or more"
        for name, level in needs
    ]
    return "needs " + "; ".join(parts)
