"""The keypad's digits -> the status asked for (DESIGN section 8.2), as a table."""

import pytest

from agents.models import AgentStatus
from routing.exotel.keypad import KeypadChoice, KeypadError, parse_keypad_digits


@pytest.mark.parametrize(
    ("digits", "choice"),
    [
        pytest.param("1", KeypadChoice(AgentStatus.AVAILABLE), id="1-available"),
        pytest.param("2", KeypadChoice(AgentStatus.BREAK), id="2-break-until-changed"),
        pytest.param("3", KeypadChoice(AgentStatus.OFFLINE), id="3-offline"),
        pytest.param(
            "215", KeypadChoice(AgentStatus.BREAK, 15), id="215-break-15-minutes"
        ),
        pytest.param("25", KeypadChoice(AgentStatus.BREAK, 5), id="25-break-5-minutes"),
        pytest.param(
            "2240", KeypadChoice(AgentStatus.BREAK, 240), id="2240-longest-break"
        ),
        pytest.param(
            "2005",
            KeypadChoice(AgentStatus.BREAK, 5),
            id="leading-zeros-read-as-minutes",
        ),
        pytest.param('"1"', KeypadChoice(AgentStatus.AVAILABLE), id="quotes-stripped"),
        pytest.param(
            ' "230" ',
            KeypadChoice(AgentStatus.BREAK, 30),
            id="spaces-and-quotes-stripped",
        ),
    ],
)
def test_digits_that_ask_for_a_status(digits, choice):
    assert parse_keypad_digits(digits) == choice


@pytest.mark.parametrize(
    ("digits", "reason"),
    [
        pytest.param("", "no digits", id="missing"),
        pytest.param('""', "no digits", id="only-quotes"),
        pytest.param("4", "ask for no status", id="unknown-digit"),
        pytest.param("0", "ask for no status", id="zero"),
        pytest.param("11", "ask for no status", id="1-followed-by-digits"),
        pytest.param("31", "ask for no status", id="3-followed-by-digits"),
        pytest.param("20", "0 minutes", id="break-of-no-minutes"),
        pytest.param("2241", "241 minutes", id="break-over-240-minutes"),
        pytest.param("21234", "ask for no status", id="four-digits-of-minutes"),
        pytest.param("2*5", "ask for no status", id="star-key"),
        pytest.param("1#", "ask for no status", id="hash-key"),
        pytest.param("١", "ask for no status", id="non-ascii-digit"),
        pytest.param("9" * 60, r"\.\.\.", id="long-input-shortened-in-the-reason"),
    ],
)
def test_digits_that_ask_for_nothing(digits, reason):
    with pytest.raises(KeypadError, match=reason) as error:
        parse_keypad_digits(digits)
    assert "\n" not in str(error.value) and len(str(error.value)) < 100
