"""simulate_call --connect: JSON answers, rounds rung at once, events applied."""

import json

import pytest

from routing.models import Attempt, Call, CallResult, Outcome
from tests.routing.test_simulate_call import simulate

pytestmark = pytest.mark.django_db


def answers(output: str) -> list[dict]:
    return [
        json.loads(line.removeprefix("  -> "))
        for line in output.splitlines()
        if line.startswith("  -> {")
    ]


def test_parallel_rounds_until_the_answer(make_group, make_agent):
    group = make_group(batch_size=2, parallel_ringing=True, wrapup_seconds=0)
    agents = [make_agent(name, group) for name in ("Asha", "Bala", "Chen", "Dev")]
    phones = [str(agent.phone) for agent in agents]

    output = simulate("support", "--connect", "--answer-on", "4", "--commit")

    rounds = [answer["destination"]["numbers"] for answer in answers(output)]
    assert rounds == [phones[:2], phones[2:]]
    assert answers(output)[0]["parallel_ringing"]["max_parallel_attempts"] == 2
    assert "/exotel/***/connect-events/" in output
    assert f"{phones[3]} answers" in output
    assert f"  -> {phones[3]} answered" in output
    call = Call.objects.get()
    assert (call.result, call.answered_by) == (CallResult.ANSWERED, agents[3])
    # From the first offer: a whole round of 30 s, then half a ring.
    assert call.answer_seconds == pytest.approx(45.0)
    outcomes = dict(Attempt.objects.values_list("number", "outcome"))
    assert outcomes == {
        phones[0]: Outcome.NO_ANSWER,
        phones[1]: Outcome.NO_ANSWER,
        phones[2]: Outcome.CANCELED,
        phones[3]: Outcome.COMPLETED,
    }


def test_sequential_connect_rolls_back(make_group, make_agent):
    group = make_group()
    asha, bala = make_agent("Asha", group), make_agent("Bala", group)
    output = simulate("support", "--connect")
    rounds = [answer["destination"]["numbers"] for answer in answers(output)]
    assert rounds == [[str(asha.phone)], [str(bala.phone)], []]
    assert "no one left: not answered" in output
    assert not Call.objects.exists()
