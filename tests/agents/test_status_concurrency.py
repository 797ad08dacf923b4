"""Status changes racing each other on PostgreSQL, with real threads."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from agents.models import Agent, StatusChange
from agents.status import end_due_breaks
from tests.conftest import TOKEN
from tests.routing.calls.test_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL connections"
    ),
]


def test_breaks_ended_by_several_processes_are_recorded_once(make_agent):
    end = timezone.now() - dt.timedelta(minutes=1)
    for n in range(12):
        make_agent(name=f"Agent {n}", status="break", status_until=end)

    run_together([lambda: end_due_breaks(now=timezone.now())] * 4)

    assert StatusChange.objects.count() == 12
    assert not Agent.objects.filter(status="break").exists()


def test_the_same_key_pressed_twice_at_once_is_one_change(make_agent):
    make_agent(name="Asha", phone="+919901320691")
    path = f"/exotel/{TOKEN}/agent-status/"
    query = {"CallSid": "race", "From": "09901320691", "digits": '"2"'}

    answers = run_together([lambda: Client().get(path, query).status_code] * 4)

    assert answers == [200] * 4
    assert StatusChange.objects.count() == 1
