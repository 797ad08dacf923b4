"""The keypad's digits (DESIGN section 8.2) -> the status an agent asks for.

Text in, a `KeypadChoice` or a `KeypadError` with a one-line reason out:

    1        available
    2        on break until changed
    2 + N    on break for N minutes (1-3 digits, 1 to 240: `215` = 15 minutes)
    3        offline
"""

import re
from dataclasses import dataclass

from agents.models import AgentStatus
from agents.status import BREAK_MINUTES_MAX

BREAK_WITH_MINUTES = re.compile(r"2([0-9]{1,3})")


class KeypadError(ValueError):
    """Digits that ask for no status; the message is the one-line reason we log."""


@dataclass(frozen=True)
class KeypadChoice:
    status: AgentStatus
    minutes: int | None = None  # a break's length; None: until changed


def parse_keypad_digits(digits: str) -> KeypadChoice:
    """Return the status the agent keyed in, as Exotel's `digits` carries it."""
    keyed = digits.strip().strip('"').strip()
    if not keyed:
        raise KeypadError("no digits keyed")
    if keyed == "1":
        return KeypadChoice(AgentStatus.AVAILABLE)
    if keyed == "2":
        return KeypadChoice(AgentStatus.BREAK)
    if keyed == "3":
        return KeypadChoice(AgentStatus.OFFLINE)
    match = BREAK_WITH_MINUTES.fullmatch(keyed)
    if match is None:
        shown = keyed[:12] + ("..." if len(keyed) > 12 else "")
        raise KeypadError(f"digits {shown!r} ask for no status (1, 2, 2+minutes or 3)")
    minutes = int(match.group(1))
    if not 1 <= minutes <= BREAK_MINUTES_MAX:
        raise KeypadError(
            f"a break of {minutes} minutes: 1 to {BREAK_MINUTES_MAX} allowed"
        )
    return KeypadChoice(AgentStatus.BREAK, minutes)
