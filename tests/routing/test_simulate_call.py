from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from routing.models import Call

pytestmark = pytest.mark.django_db


def simulate(*args):
    out = StringIO()
    call_command("simulate_call", *args, stdout=out)
    return out.getvalue()


def test_walks_the_group_until_no_one_is_left(make_group, make_agent):
    group = make_group()
    a, b = make_agent("Asha", group), make_agent("Bala", group)
    output = simulate("support", "--caller", "09901320691")
    assert f"-> {a.phone}" in output
    assert f"DialWhomNumber={a.phone}&DialCallStatus=no-answer" in output
    assert f"-> {b.phone}" in output
    assert "no one left: not answered" in output
    assert not Call.objects.exists()


def test_answer_on_second_number_ends_with_passthru(make_group, make_agent):
    group = make_group()
    make_agent("Asha", group)
    b = make_agent("Bala", group)
    output = simulate("support", "--answer-on", "2", "--commit")
    assert f"{b.phone} answers" in output
    assert Call.objects.get().answered_by == b


def test_unknown_group(make_group):
    with pytest.raises(CommandError, match="unknown group nope"):
        simulate("nope")
